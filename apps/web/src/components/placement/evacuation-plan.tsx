'use client';

import { useQuery } from '@tanstack/react-query';
import { ArrowRight, PackageOpen } from 'lucide-react';
import Link from 'next/link';
import { Badge, type Tone } from '@/components/ui/badge';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';
import { plural } from './n-plus-one';

type Evacuation = RouterOutputs['placement']['evacuation'];
type HaPriority = Evacuation['moves'][number]['haPriority'];

const HA_TONE: Record<HaPriority, Tone> = { high: 'violet', medium: 'blue', low: 'neutral', off: 'neutral' };
const HA_RANK: Record<HaPriority, number> = { high: 0, medium: 1, low: 2, off: 3 };

export function HaPriorityBadge({ priority }: { priority: HaPriority }) {
  return (
    <Badge tone={HA_TONE[priority]} className={priority === 'off' ? 'opacity-70' : undefined}>
      {priority === 'off' ? 'HA off' : priority}
    </Badge>
  );
}

/** The evacuation plan of one host, computed on demand; nothing is moved. */
export function EvacuationPlan({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const plan = useQuery(trpc.placement.evacuation.queryOptions({ hostId }, { staleTime: 0, retry: false }));
  if (plan.isPending) return <TableSkeleton rows={4} columns={4} />;
  if (plan.isError) {
    return (
      <ErrorState
        error={plan.error}
        title="Could not plan the evacuation"
        onRetry={() => void plan.refetch()}
        retrying={plan.isFetching}
        className="py-8"
      />
    );
  }
  return <EvacuationTable plan={plan.data} />;
}

export function EvacuationTable({ plan }: { plan: Evacuation }) {
  if (plan.moves.length === 0) {
    return (
      <EmptyState
        icon={<PackageOpen />}
        title="Nothing to move"
        description={`${plan.hostName} runs no VMs: it can be emptied as it is.`}
        className="py-8"
      />
    );
  }
  const movable = plan.moves.length - plan.unmovable;
  const moves = [...plan.moves].sort(
    (a, b) =>
      Number(a.toHostId !== null) - Number(b.toHostId !== null) ||
      HA_RANK[a.haPriority] - HA_RANK[b.haPriority] ||
      a.name.localeCompare(b.name),
  );
  return (
    <div data-testid="evacuation-plan">
      <div
        className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-border px-4 py-2.5 text-[12.5px]"
        aria-live="polite"
      >
        <Badge tone={plan.ok ? 'green' : 'amber'} dot>
          {plan.ok ? 'Every VM can move' : `${plural(plan.unmovable, 'VM')} cannot move`}
        </Badge>
        <span className="text-muted tabular">
          <span className="font-medium text-fg">{movable.toLocaleString('en-US')}</span> of{' '}
          {plural(plan.moves.length, 'VM')} on {plan.hostName} would move
        </span>
      </div>
      <div className="max-h-[28rem] overflow-y-auto">
        <Table aria-label={`Evacuation plan for ${plan.hostName}`}>
          <THead>
            <TH>VM</TH>
            <TH>HA priority</TH>
            <TH>Destination</TH>
          </THead>
          <tbody>
            {moves.map((move, i) => (
              // Names are unique per tenant, not per host: the index keeps keys unique.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <TR key={`${move.vmId ?? move.name}-${i}`} data-testid="evacuation-row">
                <TD className="font-medium">
                  {move.vmId ? (
                    <Link href={`/admin/vms/${move.vmId}`} className="hover:underline">
                      {move.name}
                    </Link>
                  ) : (
                    move.name
                  )}
                </TD>
                <TD>
                  <HaPriorityBadge priority={move.haPriority} />
                </TD>
                <TD className="whitespace-normal py-2">
                  {move.toHostId && move.toHostName ? (
                    <span className="inline-flex items-center gap-1.5">
                      <ArrowRight className="size-3.5 text-subtle" aria-label="to" />
                      <Link href={`/admin/hosts/${move.toHostId}`} className="font-medium hover:underline">
                        {move.toHostName}
                      </Link>
                    </span>
                  ) : (
                    <span className="flex flex-col gap-0.5">
                      <span>
                        <Badge tone="red">cannot move</Badge>
                      </span>
                      <span className="text-[12px] text-muted">{move.summary}</span>
                    </span>
                  )}
                </TD>
              </TR>
            ))}
          </tbody>
        </Table>
      </div>
    </div>
  );
}
