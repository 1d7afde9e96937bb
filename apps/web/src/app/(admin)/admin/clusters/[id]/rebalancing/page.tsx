import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RebalancingView } from '@/components/rebalance/rebalancing-view';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Rebalancing' };

export default async function ClusterRebalancingPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <RebalancingView clusterId={id} />
      </Suspense>
    </RequireRole>
  );
}
