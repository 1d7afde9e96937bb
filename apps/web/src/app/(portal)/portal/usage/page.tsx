import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { PortalUsageView } from './portal-usage-view';

export const metadata: Metadata = { title: 'Usage' };

export default function PortalUsagePage() {
  return (
    <RequireRole roles={['tenant-admin', 'tenant-user']}>
      <PortalUsageView />
    </RequireRole>
  );
}
