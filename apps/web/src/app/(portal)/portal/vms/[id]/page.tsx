import type { Metadata } from 'next';
import { VmDetail } from '@/components/vms/vm-detail';

export const metadata: Metadata = { title: 'Virtual machine' };

export default async function PortalVmPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <VmDetail id={id} area="portal" />;
}
