import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { VmDetail } from '@/components/vms/vm-detail';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Virtual machine' };

export default async function AdminVmPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin']}>
      <VmDetail id={id} area="admin" />
    </RequireRole>
  );
}
