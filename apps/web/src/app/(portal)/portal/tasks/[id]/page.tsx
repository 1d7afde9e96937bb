import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { TaskDetail } from '@/components/tasks/task-detail';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Task' };

export default async function PortalTaskPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['tenant-admin', 'tenant-user']}>
      <TaskDetail id={id} area="portal" />
    </RequireRole>
  );
}
