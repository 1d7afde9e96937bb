import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { InvoicesView } from './invoices-view';

export const metadata: Metadata = { title: 'Invoices' };

export default function InvoicesPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <InvoicesView />
    </RequireRole>
  );
}
