import type { Metadata } from 'next';
import { Suspense } from 'react';
import { AuditLogView } from '@/components/audit/audit-log-view';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';

export const metadata: Metadata = { title: 'Audit log' };

export default function AuditPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <Suspense fallback={<TableSkeleton />}>
        <AuditLogView />
      </Suspense>
    </RequireRole>
  );
}
