import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TasksView } from '@/components/tasks/tasks-view';
import { TableSkeleton } from '@/components/ui/skeleton';

export const metadata: Metadata = { title: 'Tasks' };

export default function AdminTasksPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <Suspense fallback={<TableSkeleton />}>
        <TasksView area="admin" />
      </Suspense>
    </RequireRole>
  );
}
