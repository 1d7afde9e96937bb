import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { TaskDetail } from '@/components/tasks/task-detail';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Task' };

export default async function AdminTaskPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <TaskDetail id={id} area="admin" />
    </RequireRole>
  );
}
