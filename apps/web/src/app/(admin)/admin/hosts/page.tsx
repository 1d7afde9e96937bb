import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { HostsView } from './hosts-view';

export const metadata: Metadata = { title: 'Hosts' };

export default function HostsPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <HostsView />
      </Suspense>
    </RequireRole>
  );
}
