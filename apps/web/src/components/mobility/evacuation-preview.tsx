'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { Button } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';

/** What mobility.evacuationPlan answers (EvacuationPlan in core), as far as this preview reads it. */
interface EvacuationPlan {
  moves: { vmId: string; vmName: string; toHostName: string }[];
  unmovable: { vmId: string; vmName: string; reason: string }[];
  heading: string;
  nothingMoves: string | null;
}

/**
 * Maintenance that evacuates (issue 12): the engine's plan for the host (where
 * each VM goes, which cannot move and why), and the action that puts the host
 * into maintenance and migrates them (running VMs live, off ones cold). The
 * migrations show in the Tasks panel and the host's VM list empties live.
 */
export function EvacuationPreview({ hostId, onDone }: { hostId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const plan = useQuery(trpc.mobility.evacuationPlan.queryOptions({ hostId }));
  const evacuate = useMutation(
    trpc.mobility.evacuate.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: hostId })),
          queryClient.invalidateQueries(trpc.hosts.list.queryFilter()),
        ]);
        onDone();
      },
    }),
  );
  if (plan.isPending) return <Skeleton className="h-16 w-full" />;
  if (plan.isError) return <InlineError>{errorMessage(plan.error)}</InlineError>;
  const data = plan.data as unknown as EvacuationPlan;
  const done = evacuate.data as unknown as (EvacuationPlan & { taskIds: string[] }) | undefined;
  const { heading, nothingMoves } = data;
  return (
    <section
      aria-label="Evacuation plan"
      className="flex flex-col gap-2 rounded-md border border-border p-3 text-[13px]"
    >
      <h3 className="font-medium text-fg">{heading}</h3>
      {data.moves.length ? (
        <ul className="max-h-40 overflow-auto text-muted">
          {data.moves.map((m) => (
            <li key={m.vmId}>
              {m.vmName} → <span className="text-fg">{m.toHostName}</span>
            </li>
          ))}
        </ul>
      ) : nothingMoves ? (
        <p className="text-muted">{nothingMoves}</p>
      ) : null}
      {data.unmovable.length ? (
        <ul className="text-danger">
          {data.unmovable.map((u) => (
            <li key={u.vmId}>
              {u.vmName}: {u.reason}
            </li>
          ))}
        </ul>
      ) : null}
      {evacuate.isError ? <InlineError>{errorMessage(evacuate.error)}</InlineError> : null}
      {done ? (
        <p>
          {done.taskIds.length} migrations started. <Link href="/admin/tasks">Watch them in Tasks</Link>
        </p>
      ) : null}
      <div className="flex justify-end">
        <Button
          variant="primary"
          loading={evacuate.isPending}
          disabled={data.moves.length === 0}
          onClick={() => evacuate.mutate({ hostId })}
        >
          Evacuate and enter maintenance
        </Button>
      </div>
    </section>
  );
}
