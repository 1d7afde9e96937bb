import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { WhatIfView } from './what-if-view';

export const metadata: Metadata = { title: 'What if' };

export default async function ClusterWhatIfPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <WhatIfView clusterId={id} />
      </Suspense>
    </RequireRole>
  );
}
