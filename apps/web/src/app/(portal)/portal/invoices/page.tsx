import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { PortalInvoicesView } from './portal-invoices-view';

export const metadata: Metadata = { title: 'Invoices' };

export default function PortalInvoicesPage() {
  return (
    <RequireRole roles={['tenant-admin']}>
      <PortalInvoicesView />
    </RequireRole>
  );
}
