import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { routeIdOrNotFound } from '@/lib/route-id';
import { TenantDetailView } from './tenant-detail-view';

export const metadata: Metadata = { title: 'Tenant' };

export default async function TenantDetailPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin']}>
      <TenantDetailView id={id} />
    </RequireRole>
  );
}
