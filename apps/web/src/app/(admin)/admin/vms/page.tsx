import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { VmsListView } from '@/components/vms/vms-list-view';

export const metadata: Metadata = { title: 'Virtual machines' };

export default function AdminVmsPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <VmsListView area="admin" />
      </Suspense>
    </RequireRole>
  );
}
