import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { PortalBillView } from './portal-bill-view';

export const metadata: Metadata = { title: 'Bill' };

export default function PortalBillPage() {
  return (
    <RequireRole roles={['tenant-admin']}>
      <PortalBillView />
    </RequireRole>
  );
}
