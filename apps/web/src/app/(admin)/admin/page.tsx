import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { OverviewView } from './overview-view';

export const metadata: Metadata = { title: 'Overview' };

export default function AdminOverviewPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <OverviewView />
    </RequireRole>
  );
}
