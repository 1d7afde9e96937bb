import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { ChargebackView } from './chargeback-view';

export const metadata: Metadata = { title: 'Chargeback' };

export default function ChargebackPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <ChargebackView />
    </RequireRole>
  );
}
