import type { Metadata } from 'next';
import { HaView } from '@/components/ha/ha-view';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'High availability' };

export default function AdminHaPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <HaView />
    </RequireRole>
  );
}
