import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { AdminUsageView } from './usage-view';

export const metadata: Metadata = { title: 'Usage' };

export default function AdminUsagePage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <AdminUsageView />
    </RequireRole>
  );
}
