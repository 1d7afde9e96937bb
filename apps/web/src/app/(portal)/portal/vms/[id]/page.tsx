import type { Metadata } from 'next';
import { VmDetail } from '@/components/vms/vm-detail';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Virtual machine' };

export default async function PortalVmPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return <VmDetail id={id} area="portal" />;
}
