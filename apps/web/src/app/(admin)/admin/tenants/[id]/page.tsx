import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { TenantDetailView } from './tenant-detail-view';

export const metadata: Metadata = { title: 'Tenant' };

export default async function TenantDetailPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['provider-admin']}>
      <TenantDetailView id={id} />
    </RequireRole>
  );
}
