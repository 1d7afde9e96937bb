import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { ClustersView } from './clusters-view';

export const metadata: Metadata = { title: 'Clusters' };

export default function ClustersPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <ClustersView />
      </Suspense>
    </RequireRole>
  );
}
