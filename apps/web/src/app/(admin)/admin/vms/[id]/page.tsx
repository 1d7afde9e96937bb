import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { VmDetail } from '@/components/vms/vm-detail';

export const metadata: Metadata = { title: 'Virtual machine' };

export default async function AdminVmPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['provider-admin']}>
      <VmDetail id={id} area="admin" />
    </RequireRole>
  );
}
