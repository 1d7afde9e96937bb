import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { routeIdOrNotFound } from '@/lib/route-id';
import { HostDetailView } from './host-detail-view';

export const metadata: Metadata = { title: 'Host' };

export default async function HostDetailPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin']}>
      <HostDetailView id={id} />
    </RequireRole>
  );
}
