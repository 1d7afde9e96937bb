import type { Metadata } from 'next';
import { AdminNetworksView } from '@/components/network/admin-networks-view';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Networks' };

export default function AdminNetworksPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <AdminNetworksView />
    </RequireRole>
  );
}
