import type { Metadata } from 'next';
import { Suspense } from 'react';
import { AuditLogView } from '@/components/audit/audit-log-view';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';

export const metadata: Metadata = { title: 'Activity' };

export default function PortalActivityPage() {
  return (
    <RequireRole roles={['tenant-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <AuditLogView title="Activity" />
      </Suspense>
    </RequireRole>
  );
}
