'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { isActive } from '@/components/tasks/task-labels';
import { TaskStateBadge } from '@/components/tasks/task-state';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import { type MigrationHistoryRow, useHosts } from './migration-rows';
import { useStartedTask } from './use-started-task';

/** What mobility.preview answers (MigrationPlan in core), as far as this card reads it. */
interface MigrationPlan {
  toHostName: string;
  explanation: string;
  predicted: { totalSeconds: number; blackoutMs: number; reason: string | null } | null;
}

/** Why a host is no destination, shown beside it in the picker (placement's host-state filter refuses the same). */
const NOT_A_DESTINATION: Record<string, string> = {
  maintenance: 'in maintenance',
  suspect: 'suspect: missed heartbeats',
  failed: 'failed',
};

/**
 * Live migration of one VM (issue 12), for provider admins: choose a host or
 * "best" (the engine's choice and its words), see the model's prediction
 * (duration, pause), migrate, and the VM's past migrations with predicted vs
 * observed side by side. The VM's own host and hosts that take no VMs
 * (maintenance, suspect, failed) are listed but cannot be chosen, with the reason.
 */
export function VmMigrateCard({ vmId, hostId }: { vmId: string; hostId: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [to, setTo] = useState('best');
  const [taskId, setTaskId] = useState<string | null>(null);
  const target = to || 'best';
  const hosts = useHosts();
  const destinations = (hosts.data?.rows ?? []).map((h) => {
    const why = h.id === hostId ? 'current host' : (NOT_A_DESTINATION[h.state] ?? null);
    return { ...h, why };
  });
  const preview = useQuery({ ...trpc.mobility.preview.queryOptions({ vmId, to: target }), retry: false });
  const history = useQuery(trpc.mobility.history.queryOptions({ limit: 50 }));
  const migrate = useMutation(
    trpc.mobility.migrate.mutationOptions({ onSuccess: (result) => setTaskId(result.taskId) }),
  );
  // When it has ended the VM is elsewhere (or not): the page, the picker and the history read again.
  const task = useStartedTask(taskId, () => {
    setTo('best');
    void queryClient.invalidateQueries(trpc.vms.get.queryFilter({ id: vmId }));
    void queryClient.invalidateQueries({ queryKey: trpc.mobility.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.hosts.list.pathKey() });
  });
  const plan = preview.data as unknown as MigrationPlan | undefined;
  const mine = ((history.data ?? []) as unknown as MigrationHistoryRow[]).filter((r) => r.vmId === vmId);
  return (
    <Card>
      <CardHeader title="Live migration" />
      <div className="flex flex-col gap-3 px-4 py-3 text-[13px]">
        <Field
          label="Destination"
          htmlFor="migrate-to"
          hint="Best lets the placement engine choose and says why; a host in maintenance or too small is refused with the reason."
        >
          <Select id="migrate-to" value={to} onChange={(e) => setTo(e.target.value)}>
            <option value="best">Best (the placement engine chooses)</option>
            {destinations.map((h) => (
              <option key={h.id} value={h.id} disabled={h.why !== null}>
                {h.name} ({h.clusterName}){h.why ? ` — ${h.why}` : ''}
              </option>
            ))}
          </Select>
        </Field>
        {preview.isError ? <InlineError>{errorMessage(preview.error)}</InlineError> : null}
        {plan ? (
          <p className="text-muted">
            {plan.explanation}.{' '}
            {plan.predicted
              ? `Predicted ${plan.predicted.totalSeconds.toFixed(1)} s, pause ${Math.round(plan.predicted.blackoutMs)} ms${plan.predicted.reason ? ` (${plan.predicted.reason})` : ''}.`
              : 'The VM is off: a cold move.'}
          </p>
        ) : null}
        {migrate.isError ? <InlineError>{errorMessage(migrate.error)}</InlineError> : null}
        {taskId ? (
          <p className="flex flex-wrap items-center gap-2">
            Migration started.{' '}
            <Link href={`/admin/tasks/${taskId}`} className="text-accent hover:underline">
              Follow it in Tasks
            </Link>
            {task.data ? <TaskStateBadge state={task.data.state} /> : null}
          </p>
        ) : null}
        <div className="flex justify-end">
          <Button
            variant="primary"
            loading={migrate.isPending}
            disabled={!plan || (task.data ? isActive(task.data.state) : false)}
            onClick={() => migrate.mutate({ vmId, to: target })}
          >
            Migrate to {plan?.toHostName ?? '…'}
          </Button>
        </div>
        <p>
          <Link href="/admin/migrations">Every migration</Link>
        </p>
        {mine.length ? (
          <ul className="flex flex-col gap-1 text-muted">
            {mine.map((r) => (
              <li key={r.jobId}>
                {r.createdAt.slice(0, 16).replace('T', ' ')} → {r.record?.toHostName ?? '?'}: {r.state}
                {r.record?.predicted
                  ? `; predicted ${r.record.predicted.totalSeconds.toFixed(1)} s / ${Math.round(r.record.predicted.blackoutMs)} ms`
                  : ''}
                {r.record?.observed
                  ? `; observed ${r.record.observed.totalSeconds.toFixed(1)} s / ${Math.round(r.record.observed.blackoutMs)} ms`
                  : ''}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </Card>
  );
}
