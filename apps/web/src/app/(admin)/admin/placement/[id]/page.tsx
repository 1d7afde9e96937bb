import type { Metadata } from 'next';
import { DecisionView } from '@/components/placement/decision-view';
import { RequireRole } from '@/components/shell/require-role';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Placement decision' };

export default async function PlacementDecisionPage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['provider-admin']}>
      <DecisionView id={id} />
    </RequireRole>
  );
}
