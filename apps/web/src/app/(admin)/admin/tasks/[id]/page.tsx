import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { TaskDetail } from '@/components/tasks/task-detail';

export const metadata: Metadata = { title: 'Task' };

export default async function AdminTaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <TaskDetail id={id} area="admin" />
    </RequireRole>
  );
}
