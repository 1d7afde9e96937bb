'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Copy } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';
import {
  APP_CONSISTENT_CHOICES,
  appConsistentHours,
  appConsistentLabel,
  FREQUENCIES,
  POINT_CHOICES,
} from './replication-choices';

type Replication = NonNullable<RouterOutputs['replication']['get']>;
type Action =
  | 'test'
  | 'stop-test'
  | 'planned'
  | 'failover'
  | 'complete'
  | 'cancel'
  | 'reverse'
  | 'pause'
  | 'resume'
  | 'remove';

const HEALTH_TONE: Record<string, Tone> = { normal: 'green', warning: 'amber', critical: 'red' };

/** Plain-language confirmations: what each action does to the VM, before it runs. */
const CONFIRM: Record<Action, { title: string; body: string; go: string }> = {
  test: {
    title: 'Start a test failover?',
    body: 'A copy of this VM starts on the replica side from the chosen recovery point, on an isolated network. The VM itself keeps running and replication continues. Stop the test to remove the copy.',
    go: 'Start test VM',
  },
  'stop-test': {
    title: 'Stop the test failover?',
    body: 'The test copy is turned off and deleted. Nothing else changes.',
    go: 'Stop test',
  },
  planned: {
    title: 'Planned failover?',
    body: 'The VM is shut down, its last changes are sent to the replica, and it starts on the replica side only if both copies are identical. Then replication runs the other way. The VM is unavailable for about a minute.',
    go: 'Fail over',
  },
  failover: {
    title: 'Fail over to the replica?',
    body: 'Use this when the primary side is down. The replica starts from the chosen recovery point: anything written after that point is lost. You can then keep it (complete) or go back (cancel).',
    go: 'Start the replica',
  },
  complete: {
    title: 'Complete the failover?',
    body: 'The VM keeps running on the replica side and the other recovery points are deleted. You cannot go back to them.',
    go: 'Complete',
  },
  cancel: {
    title: 'Cancel the failover?',
    body: 'The replica is turned off and replication resumes from the primary. Anything written on the replica since the failover is discarded.',
    go: 'Cancel failover',
  },
  reverse: {
    title: 'Reverse replication?',
    body: 'The old primary becomes the replica. Only the blocks that differ are sent.',
    go: 'Reverse',
  },
  pause: {
    title: 'Pause replication?',
    body: 'No changes are sent until you resume. Health turns critical while paused.',
    go: 'Pause',
  },
  resume: { title: 'Resume replication?', body: 'Changes are sent again from the next cycle.', go: 'Resume' },
  remove: {
    title: 'Remove replication?',
    body: 'Changes stop being sent, and the replica on the other site is deleted with all its recovery points (and any test VM). The VM itself keeps running here, untouched. You can enable replication again later; it starts with a full copy.',
    go: 'Remove replication',
  },
};

export function VmReplicationCard({ vmId, vmName, area }: { vmId: string; vmName: string; area: 'portal' | 'admin' }) {
  const trpc = useTRPC();
  const query = useQuery({ ...trpc.replication.get.queryOptions({ vmId }), refetchInterval: 5_000 });
  return (
    <section aria-labelledby="vm-replication-title" data-testid="vm-replication">
      <Card className="overflow-hidden">
        <CardHeader
          id="vm-replication-title"
          title="Replication"
          description={
            query.data
              ? `To another cluster every ${frequencyLabel(query.data.relationship.frequencySeconds)}; RPO ${query.data.relationship.rpoSeconds} s`
              : 'Hyper-V Replica: keep a copy of this VM on another cluster'
          }
          actions={query.data ? <HealthBadge r={query.data.relationship} /> : null}
        />
        {query.isPending ? (
          <CardBody className="text-muted">Loading…</CardBody>
        ) : query.isError ? (
          <ErrorState error={query.error} title="Could not read replication" onRetry={() => void query.refetch()} />
        ) : query.data ? (
          <Replicated data={query.data} vmId={vmId} area={area} />
        ) : (
          <EnableForm vmId={vmId} vmName={vmName} />
        )}
      </Card>
    </section>
  );
}

function HealthBadge({ r }: { r: Replication['relationship'] }) {
  return (
    <Badge tone={HEALTH_TONE[r.health] ?? 'neutral'} dot title={r.healthReason}>
      {r.health === 'normal' ? 'Healthy' : r.health === 'warning' ? 'Warning' : 'Critical'} · {r.state}
    </Badge>
  );
}

/** The newest finished cycle in words: when, what it sent, or why it failed. */
function lastCycleText(c: Replication['cycles'][number] | undefined): string {
  if (!c) return '—';
  const when = formatDateTime(c.startedAt);
  if (c.state === 'succeeded') {
    const took = c.durationMs === null ? '' : ` in ${c.durationMs} ms`;
    return `${when}: succeeded, ${formatBytes(c.bytesSent ?? 0)} sent${took} (${c.mode})`;
  }
  if (c.state === 'missed') return `${when}: missed (the previous cycle was still running)`;
  return `${when}: ${c.state}${c.errorMessage ? ` — ${c.errorMessage}` : ''}`;
}

function frequencyLabel(s: number) {
  return s < 60 ? `${s} s` : `${s / 60} min`;
}

function EnableForm({ vmId, vmName }: { vmId: string; vmName: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const targets = useQuery(trpc.replication.targets.queryOptions({ vmId }));
  const [cluster, setCluster] = useState('');
  const [frequency, setFrequency] = useState(300);
  const [points, setPoints] = useState(0);
  // 0: none; 1–12: an application-consistent point (the guest quiesced) every that many hours.
  const [appHours, setAppHours] = useState(0);
  const enable = useMutation(
    trpc.replication.enable.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.replication.get.queryFilter({ vmId })),
    }),
  );
  const options = targets.data ?? [];
  const chosen = cluster || options[0]?.clusterId || '';
  return (
    <CardBody className="flex flex-col gap-3">
      {targets.isSuccess && options.length === 0 ? (
        <p className="text-muted">Your provider offers no replica site for {vmName} yet.</p>
      ) : (
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            enable.mutate({
              vmId,
              target: { kind: 'cluster', clusterId: chosen },
              frequencySeconds: frequency as 30 | 300 | 900,
              additionalPoints: points,
              appConsistentHours: appConsistentHours(appHours),
            });
          }}
        >
          <Field label="Replica site" htmlFor="replica-target">
            <Select id="replica-target" value={chosen} onChange={(e) => setCluster(e.target.value)}>
              {options.map((o, i) => (
                <option key={o.clusterId} value={o.clusterId}>
                  Replica site {i + 1}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Send changes" htmlFor="replica-frequency">
            <Select id="replica-frequency" value={frequency} onChange={(e) => setFrequency(Number(e.target.value))}>
              {FREQUENCIES.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Extra hourly recovery points" htmlFor="replica-points" hint="0–24">
            <Select id="replica-points" value={points} onChange={(e) => setPoints(Number(e.target.value))}>
              {POINT_CHOICES.map((n) => (
                <option key={n} value={n}>
                  {n === 0 ? 'Latest only' : n}
                </option>
              ))}
            </Select>
          </Field>
          <Field
            label="Application-consistent points"
            htmlFor="replica-app-consistent"
            hint="The guest finishes and holds its writes for them"
          >
            <Select id="replica-app-consistent" value={appHours} onChange={(e) => setAppHours(Number(e.target.value))}>
              {APP_CONSISTENT_CHOICES.map((n) => (
                <option key={n} value={n}>
                  {appConsistentLabel(n)}
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit" variant="primary" loading={enable.isPending} icon={<Copy />} disabled={!chosen}>
            Enable replication
          </Button>
        </form>
      )}
      {enable.isError ? <InlineError>{errorMessage(enable.error)}</InlineError> : null}
    </CardBody>
  );
}

function Replicated({ data, vmId, area }: { data: Replication; vmId: string; area: 'portal' | 'admin' }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const r = data.relationship;
  const [pending, setPending] = useState<{ action: Action; pointId?: string } | null>(null);
  const [pointId, setPointId] = useState('');
  const [taskId, setTaskId] = useState<string | null>(null);
  const done = {
    onSuccess: (out: { taskId?: string } | { ok: true }) => {
      setPending(null);
      if ('taskId' in out && out.taskId) setTaskId(out.taskId);
      return queryClient.invalidateQueries(trpc.replication.get.queryFilter({ vmId }));
    },
  };
  const m = {
    test: useMutation(trpc.replication.testFailover.mutationOptions(done)),
    'stop-test': useMutation(trpc.replication.stopTestFailover.mutationOptions(done)),
    planned: useMutation(trpc.replication.plannedFailover.mutationOptions(done)),
    failover: useMutation(trpc.replication.failover.mutationOptions(done)),
    complete: useMutation(trpc.replication.completeFailover.mutationOptions(done)),
    cancel: useMutation(trpc.replication.cancelFailover.mutationOptions(done)),
    reverse: useMutation(trpc.replication.reverse.mutationOptions(done)),
    pause: useMutation(trpc.replication.pause.mutationOptions(done)),
    resume: useMutation(trpc.replication.resume.mutationOptions(done)),
    remove: useMutation(trpc.replication.remove.mutationOptions(done)),
  };
  const run = (action: Action, point?: string) => {
    const input = { vmId, ...(point ? { pointId: point } : {}) };
    if (action === 'test' || action === 'failover') m[action].mutate(input);
    else m[action].mutate({ vmId });
  };
  const base: Action[] =
    r.state === 'replicating'
      ? ['test', 'planned', 'failover', 'pause']
      : r.state === 'test-failover'
        ? ['stop-test']
        : r.state === 'failover-pending'
          ? ['complete', 'cancel']
          : r.state === 'failed-over'
            ? ['reverse']
            : r.state === 'paused'
              ? ['resume', 'failover']
              : r.state === 'resync-needed' || r.state === 'error'
                ? ['failover']
                : [];
  // Removing is offered whenever no failover or removal is under way (the API refuses the others).
  const removable = !['failing-over', 'failover-pending', 'initial-running', 'removing'].includes(r.state);
  const actions: Action[] = removable ? [...base, 'remove'] : base;
  const active = pending ? m[pending.action] : null;
  const label: Record<Action, string> = {
    test: 'Test failover',
    'stop-test': 'Stop test failover',
    planned: 'Planned failover',
    failover: 'Failover',
    complete: 'Complete failover',
    cancel: 'Cancel failover',
    reverse: 'Reverse replication',
    pause: 'Pause',
    resume: 'Resume',
    remove: 'Remove replication',
  };
  return (
    <>
      <CardBody className="flex flex-col gap-3">
        <dl className="grid grid-cols-2 gap-x-6 gap-y-1 text-[13px] sm:grid-cols-4">
          <dt className="text-muted">Lag</dt>
          <dd data-testid="replication-lag">{r.lagSeconds === null ? '—' : `${r.lagSeconds} s`}</dd>
          <dt className="text-muted">Last point</dt>
          <dd>{r.lastSuccessAt ? formatDateTime(r.lastSuccessAt) : '—'}</dd>
          <dt className="text-muted">State</dt>
          <dd data-testid="replication-state">{r.state}</dd>
          <dt className="text-muted">Health</dt>
          <dd>{r.healthReason}</dd>
          <dt className="text-muted">Last cycle</dt>
          <dd className="sm:col-span-3" data-testid="replication-last-cycle">
            {lastCycleText(data.cycles.find((c) => c.state !== 'running'))}
          </dd>
        </dl>
        <div className="flex flex-wrap gap-2">
          {actions.map((a) => (
            <Button
              key={a}
              size="sm"
              variant={a === 'failover' || a === 'remove' ? 'danger' : 'secondary'}
              onClick={() => setPending({ action: a, pointId: pointId || undefined })}
            >
              {label[a]}
            </Button>
          ))}
          {taskId ? (
            <Link className="text-[12.5px] underline" href={`/${area}/tasks/${taskId}`}>
              Follow the task
            </Link>
          ) : null}
        </div>
      </CardBody>
      <Table aria-label="Recovery points">
        <THead>
          <TH>Recovery point</TH>
          <TH>Kind</TH>
          <TH>Size</TH>
          <TH>Use for test / failover</TH>
        </THead>
        <tbody>
          {data.points.map((p, i) => (
            <TR key={p.id} data-testid="recovery-point">
              <TD>
                {formatDateTime(p.takenAt)}
                {i === 0 ? ' (latest)' : ''}
              </TD>
              <TD>
                <PointKind kind={p.kind} quiesce={p.quiesce} />
              </TD>
              <TD>{formatBytes(p.sizeBytes)}</TD>
              <TD>
                <input
                  type="radio"
                  name="replica-point"
                  aria-label={`Use the point of ${formatDateTime(p.takenAt)}`}
                  checked={(pointId || data.points[0]?.id) === p.id}
                  onChange={() => setPointId(p.id)}
                />
              </TD>
            </TR>
          ))}
          {data.points.length === 0 ? (
            <TR>
              <TD colSpan={4} className="text-muted">
                No recovery point yet: the initial copy is on its way.
              </TD>
            </TR>
          ) : null}
        </tbody>
      </Table>
      <Dialog
        open={pending !== null}
        onClose={() => setPending(null)}
        title={pending ? CONFIRM[pending.action].title : ''}
        description={pending ? CONFIRM[pending.action].body : undefined}
        footer={
          pending ? (
            <>
              <Button onClick={() => setPending(null)}>Keep things as they are</Button>
              <Button
                variant={pending.action === 'failover' || pending.action === 'remove' ? 'danger' : 'primary'}
                loading={active?.isPending}
                onClick={() => run(pending.action, pending.pointId)}
              >
                {CONFIRM[pending.action].go}
              </Button>
            </>
          ) : null
        }
      >
        {active?.isError ? <InlineError>{errorMessage(active.error)}</InlineError> : null}
      </Dialog>
    </>
  );
}

/**
 * A point's consistency: application-consistent when the guest quiesced for it; standard (crash-consistent)
 * otherwise, saying why when an application-consistent point was asked and the guest did not quiesce.
 */
function PointKind({ kind, quiesce }: { kind: string; quiesce: Replication['points'][number]['quiesce'] }) {
  if (kind === 'app-consistent') {
    return (
      <span title="The guest finished and held its writes while the point was taken">
        <Badge tone="green">Application-consistent</Badge>
      </span>
    );
  }
  if (quiesce && quiesce.status !== 'quiesced') {
    return (
      <span>
        Standard{' '}
        <span className="text-muted text-[12.5px]">
          (application-consistent asked; {quiesce.status === 'timed-out' ? 'timed out' : 'failed'}: {quiesce.message})
        </span>
      </span>
    );
  }
  return <span title="Crash-consistent: as if the VM lost power at that instant">Standard</span>;
}
