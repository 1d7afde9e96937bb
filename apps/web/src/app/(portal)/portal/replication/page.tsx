import type { Metadata } from 'next';
import { PortalReplication } from '@/components/replication/replication-pattern-section';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Replication' };

export default function PortalReplicationPage() {
  return (
    <RequireRole roles={['tenant-admin', 'tenant-user']}>
      <PortalReplication />
    </RequireRole>
  );
}
