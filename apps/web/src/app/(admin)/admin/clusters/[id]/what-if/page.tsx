import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { routeIdOrNotFound } from '@/lib/route-id';
import { WhatIfView } from './what-if-view';

export const metadata: Metadata = { title: 'What if' };

export default async function ClusterWhatIfPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <WhatIfView clusterId={id} />
      </Suspense>
    </RequireRole>
  );
}
