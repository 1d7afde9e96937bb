import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { TenantsView } from './tenants-view';

export const metadata: Metadata = { title: 'Tenants' };

export default function TenantsPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <TenantsView />
    </RequireRole>
  );
}
