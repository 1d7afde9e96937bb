import type { Metadata } from 'next';
import { Suspense } from 'react';
import { TableSkeleton } from '@/components/ui/skeleton';
import { VmsListView } from '@/components/vms/vms-list-view';

export const metadata: Metadata = { title: 'Virtual machines' };

export default function PortalVmsPage() {
  return (
    <Suspense fallback={<TableSkeleton />}>
      <VmsListView area="portal" />
    </Suspense>
  );
}
