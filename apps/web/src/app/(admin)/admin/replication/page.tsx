import type { Metadata } from 'next';
import { ReplicationDashboard } from '@/components/replication/replication-dashboard';
import { AdminReplicationPatterns } from '@/components/replication/replication-pattern-section';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Replication' };

export default function AdminReplicationPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <ReplicationDashboard />
      <AdminReplicationPatterns />
    </RequireRole>
  );
}
