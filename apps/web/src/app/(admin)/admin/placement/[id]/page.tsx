import type { Metadata } from 'next';
import { DecisionView } from '@/components/placement/decision-view';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Placement decision' };

export default async function PlacementDecisionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['provider-admin']}>
      <DecisionView id={id} />
    </RequireRole>
  );
}
