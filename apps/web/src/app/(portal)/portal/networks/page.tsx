import type { Metadata } from 'next';
import { PortalNetworksView } from '@/components/network/portal-networks-view';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Networks' };

export default function PortalNetworksPage() {
  return (
    <RequireRole roles={['tenant-admin', 'tenant-user']}>
      <PortalNetworksView />
    </RequireRole>
  );
}
