'use client';

import type { VmAction } from '@fabric/core/compute/vm.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ChevronRight, HardDrive, History, MonitorCog, Network, Route, Trash2 } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type ReactNode, useState } from 'react';
import { UsageCard } from '@/components/charts/usage-card';
import { VmMigrateCard } from '@/components/mobility/vm-migrate-card';
import { VmStorageMoveCard } from '@/components/mobility/vm-storage-move-card';
import { VmPortPolicyCard } from '@/components/network/vm-port-policy-card';
import { VmReplicationCard } from '@/components/replication/vm-replication-card';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { Field, Input } from '@/components/ui/input';
import { RelativeTime } from '@/components/ui/relative-time';
import { Skeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorCode, errorMessage } from '@/lib/errors';
import { formatBytes, formatCount, formatDateTime, formatMbps, formatMiB } from '@/lib/format';
import { useListHref } from '@/lib/list-return';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';
import { HaPriorityControl } from './ha-priority-control';
import { useLiveTask } from './live-vms';
import { ProgressBar } from './task-progress';
import { VmMeteringCard } from './vm-metering-card';
import { useVmHaRecovery, VmRecoveryBanner } from './vm-recovery-banner';
import { ACTION_HELP, ACTION_LABEL, allowedActions, VmStateBadge, vmStateHelp } from './vm-state';

type Vm = RouterOutputs['vms']['get'];
type Task = Vm['tasks'][number];

/**
 * One VM: state and why, the actions its state allows, its hardware and its
 * task history. The provider console adds where it runs and why.
 */
export function VmDetail({ id, area }: { id: string; area: 'portal' | 'admin' }) {
  const trpc = useTRPC();
  const vm = useQuery(trpc.vms.get.queryOptions({ id }));
  const base = area === 'admin' ? '/admin/vms' : '/portal/vms';
  // Back to the list as it was filtered, not the bare list.
  const listHref = useListHref(base);

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href={listHref} className="hover:text-fg hover:underline">
        Virtual machines
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        {vm.data?.name ?? '…'}
      </span>
    </nav>
  );

  if (vm.isPending) {
    return (
      <div role="status" aria-label="Loading">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <Skeleton className="h-6 w-56" />
        <Skeleton className="mt-2 mb-6 h-4 w-96" />
        <div className="grid grid-cols-1 gap-5 xl:grid-cols-3">
          <Skeleton className="h-64 rounded-lg xl:col-span-2" />
          <Skeleton className="h-64 rounded-lg" />
        </div>
      </div>
    );
  }
  if (vm.isError) {
    return (
      <Card>
        {errorCode(vm.error) === 'NOT_FOUND' ? (
          <EmptyState
            icon={<MonitorCog />}
            title="VM not found"
            description="It may have been deleted, or the link is wrong."
            action={
              <Link href={base} className={buttonClass('secondary', 'sm')}>
                Back to virtual machines
              </Link>
            }
          />
        ) : (
          <ErrorState
            error={vm.error}
            title="Could not load this VM"
            onRetry={() => void vm.refetch()}
            retrying={vm.isFetching}
          />
        )}
      </Card>
    );
  }
  return <VmDetailBody vm={vm.data} area={area} breadcrumb={breadcrumb} base={base} />;
}

function VmDetailBody({
  vm,
  area,
  breadcrumb,
  base,
}: {
  vm: Vm;
  area: 'portal' | 'admin';
  breadcrumb: ReactNode;
  base: string;
}) {
  const haRecovery = useVmHaRecovery(vm.id, vm.haRecovery);
  // Tasks are newest first: the one the host works on is the running one, else the oldest queued.
  const running = vm.tasks.find((t) => t.state === 'running') ?? vm.tasks.findLast((t) => t.state === 'queued') ?? null;
  return (
    <>
      <header className="mb-5">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <div className="flex items-center gap-2.5">
              <h1 className="truncate text-[19px] font-semibold tracking-[-0.01em]" data-testid="vm-name">
                {vm.name}
              </h1>
              <VmStateBadge state={vm.state} haRecovery={haRecovery} />
            </div>
            <p className="mt-1 text-[13px] text-muted" data-testid="vm-state-reason">
              {vm.stateReason || vmStateHelp(vm.state)}
            </p>
            {area === 'admin' ? (
              <p className="mt-1 flex flex-wrap items-center gap-x-2 text-[13px] text-muted">
                <span>
                  Tenant{' '}
                  <Link href={`/admin/tenants/${vm.tenantId}`} className="text-fg hover:underline">
                    {vm.tenantName}
                  </Link>
                </span>
                <span aria-hidden="true">·</span>
                <span>
                  Host{' '}
                  {vm.hostId ? (
                    <Link href={`/admin/hosts/${vm.hostId}`} className="text-fg hover:underline">
                      {vm.hostName}
                    </Link>
                  ) : (
                    <span className="text-fg">none</span>
                  )}
                </span>
                <span aria-hidden="true">·</span>
                <span>
                  Cluster <span className="text-fg">{vm.clusterName ?? '—'}</span>
                </span>
              </p>
            ) : null}
          </div>
          <VmActions vm={vm} base={base} />
        </div>
      </header>

      <VmRecoveryBanner vmId={vm.id} area={area} />

      {running ? <RunningTask vmId={vm.id} task={running} /> : null}

      {area === 'admin' && vm.decision ? (
        <div className="mb-5 flex flex-wrap items-center justify-between gap-3 rounded-lg border border-border bg-surface px-4 py-3 text-[13px]">
          <div className="flex min-w-0 items-start gap-3">
            <Route className="mt-0.5 size-4 shrink-0 text-accent" aria-hidden="true" />
            <div className="min-w-0" data-testid="vm-placement">
              <p className="font-medium text-fg">Placement</p>
              {vm.decision.movedSince ? (
                <>
                  {/* The decision explains the first host only: say where the VM is now and what moved it. */}
                  <p className="mt-0.5 text-fg">
                    {vm.decision.movedSince.text}
                    {vm.decision.movedSince.at ? ` (${formatDateTime(vm.decision.movedSince.at)})` : ''}.
                  </p>
                  <p className="mt-0.5 text-muted">
                    At placement, {formatDateTime(vm.decision.decidedAt)}: {vm.decision.summary}
                  </p>
                </>
              ) : (
                <p className="mt-0.5 text-muted">{vm.decision.summary}</p>
              )}
            </div>
          </div>
          <Link href={`/admin/placement/${vm.decision.id}`} className={buttonClass('secondary', 'sm')}>
            {vm.decision.movedSince ? 'Why it was placed there' : 'Why this host?'}
          </Link>
        </div>
      ) : null}

      <div className="grid grid-cols-1 gap-5 xl:grid-cols-3">
        <div className="flex flex-col gap-5 xl:col-span-2">
          <HardwareCard vm={vm} />
          <VmMeteringCard vmId={vm.id} vmName={vm.name} area={area} />
          <VmReplicationCard vmId={vm.id} vmName={vm.name} area={area} />
          <UsageCard scope={{ kind: 'vm', vmId: vm.id }} description="This VM's metered usage per hour or day" />
          <DisksCard vm={vm} />
          <NicsCard vm={vm} />
          <VmPortPolicyCard vmId={vm.id} area={area} />
        </div>
        <div className="flex flex-col gap-5">
          <TasksCard vm={vm} area={area} />
          {area === 'admin' ? <VmMigrateCard vmId={vm.id} hostId={vm.hostId} /> : null}
          {area === 'admin' ? (
            <VmStorageMoveCard vmId={vm.id} hostId={vm.hostId} diskPools={vm.disks.map((d) => d.pool)} />
          ) : null}
        </div>
      </div>
    </>
  );
}

/** The actions this VM's state allows; others are not shown at all. */
function VmActions({ vm, base }: { vm: Vm; base: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [deleting, setDeleting] = useState(false);
  const [turningOff, setTurningOff] = useState(false);
  const [typed, setTyped] = useState('');
  const act = useMutation(
    trpc.vms.act.mutationOptions({
      onSuccess: async (_result, input) => {
        if (input.action === 'delete') {
          setDeleting(false);
          await queryClient.invalidateQueries(trpc.vms.list.queryFilter());
          router.push(base);
          return;
        }
        setTurningOff(false);
        await queryClient.invalidateQueries(trpc.vms.get.queryFilter({ id: vm.id }));
        await queryClient.invalidateQueries(trpc.vms.list.queryFilter());
      },
    }),
  );
  const actions = allowedActions(vm.state);
  const pending = act.isPending ? act.variables.action : null;

  function run(action: VmAction) {
    if (action === 'delete') {
      act.reset();
      setDeleting(true);
      return;
    }
    if (action === 'turn-off') {
      // Pulling the power cord loses what the guest had not written: asked, like a delete.
      act.reset();
      setTurningOff(true);
      return;
    }
    act.mutate({ id: vm.id, action });
  }

  return (
    <div className="flex max-w-full flex-col items-end gap-2">
      {actions.length > 0 ? (
        <div role="toolbar" aria-label="VM actions" className="flex flex-wrap items-center justify-end gap-2">
          {actions.map((action) => (
            <Button
              key={action}
              variant={
                action === 'delete' ? 'ghost' : action === 'start' || action === 'resume' ? 'primary' : 'secondary'
              }
              className={action === 'delete' ? 'text-danger' : undefined}
              icon={action === 'delete' ? <Trash2 /> : undefined}
              title={ACTION_HELP[action]}
              loading={pending === action}
              disabled={pending !== null}
              onClick={() => run(action)}
            >
              {ACTION_LABEL[action]}
            </Button>
          ))}
        </div>
      ) : (
        <p className="text-[12.5px] text-muted">No actions while the VM is {vm.state}.</p>
      )}
      {act.isError && !deleting && !turningOff ? (
        <div className="max-w-md">
          <InlineError>{errorMessage(act.error)}</InlineError>
        </div>
      ) : null}
      <Dialog
        open={turningOff}
        onClose={() => setTurningOff(false)}
        title={`Turn off ${vm.name}?`}
        description="Like pulling the power cord: the guest does not shut down, and what it had not written to disk is lost. Shut down stops it cleanly."
        footer={
          <>
            <Button onClick={() => setTurningOff(false)}>Cancel</Button>
            <Button
              variant="danger"
              loading={pending === 'turn-off'}
              onClick={() => act.mutate({ id: vm.id, action: 'turn-off' })}
            >
              Turn off
            </Button>
          </>
        }
      >
        {act.isError ? <InlineError>{errorMessage(act.error)}</InlineError> : null}
      </Dialog>
      <Dialog
        open={deleting}
        onClose={() => {
          setDeleting(false);
          setTyped('');
        }}
        title={`Delete ${vm.name}?`}
        description={`The VM and its ${vm.disks.length} disk${vm.disks.length === 1 ? '' : 's'} (${formatBytes(vm.storageBytes)}) are deleted on the host. This cannot be undone.`}
        footer={
          <>
            <Button onClick={() => setDeleting(false)}>Cancel</Button>
            <Button
              variant="danger"
              disabled={typed.trim() !== vm.name}
              loading={pending === 'delete'}
              onClick={() => act.mutate({ id: vm.id, action: 'delete' })}
            >
              Delete VM
            </Button>
          </>
        }
      >
        <div className="flex flex-col gap-3">
          {act.isError ? <InlineError>{errorMessage(act.error)}</InlineError> : null}
          <Field label={`Type the VM’s name (${vm.name}) to confirm`} htmlFor="delete-confirm">
            <Input
              id="delete-confirm"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              className="font-mono"
              autoFocus
            />
          </Field>
        </div>
      </Dialog>
    </div>
  );
}

const TASK_LABEL: Record<string, string> = {
  'vm.create': 'Create',
  'vm.start': 'Start',
  'vm.stop': 'Shut down',
  'vm.turn-off': 'Turn off',
  'vm.restart': 'Restart',
  'vm.pause': 'Pause',
  'vm.resume': 'Resume',
  'vm.save': 'Save',
  'vm.delete': 'Delete',
};

function taskLabel(kind: string): string {
  return TASK_LABEL[kind] ?? kind;
}

/** The task the host is working on, with progress that follows the live stream. */
function RunningTask({ vmId, task }: { vmId: string; task: Task }) {
  const live = useLiveTask(vmId);
  const progress = live?.taskId === task.id ? Math.max(live.progress, task.progress) : task.progress;
  const message = live?.taskId === task.id ? live.message : task.message;
  const queued = task.state === 'queued' && !(live?.taskId === task.id);
  return (
    <Card className="mb-5 px-4 py-3" data-testid="running-task">
      <div className="flex items-baseline justify-between gap-3 text-[13px]">
        <p className="font-medium text-fg">
          {taskLabel(task.kind)} {queued ? 'queued' : 'in progress'}
          <span className="ml-2 font-normal text-muted">{message || (queued ? 'Waiting for the host' : '')}</span>
        </p>
        <span className="text-[12.5px] text-muted tabular">{queued ? '—' : `${Math.round(progress)}%`}</span>
      </div>
      <ProgressBar value={queued ? null : progress} label={`${taskLabel(task.kind)} progress`} className="mt-2" />
    </Card>
  );
}

function Metric({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return (
    <div>
      <dt className="text-[12px] text-muted">{label}</dt>
      <dd className="mt-1 text-[17px] font-semibold tracking-[-0.01em] tabular">{value}</dd>
      {sub ? <dd className="mt-0.5 text-[12px] text-muted tabular">{sub}</dd> : null}
    </div>
  );
}

function HardwareCard({ vm }: { vm: Vm }) {
  const m = vm.memory;
  return (
    <Card>
      <CardHeader
        title="Hardware"
        description={`Created ${formatDateTime(vm.createdAt)}`}
        actions={
          vm.tags.length > 0 ? (
            <div className="flex flex-wrap gap-1">
              {vm.tags.map((tag) => (
                <Badge key={tag}>{tag}</Badge>
              ))}
            </div>
          ) : undefined
        }
      />
      <dl className="grid grid-cols-2 gap-5 p-4 md:grid-cols-4">
        <Metric label="Processors" value={`${formatCount(vm.vcpus)} vCPU${vm.vcpus === 1 ? '' : 's'}`} />
        <Metric
          label={m.dynamic ? 'Memory (dynamic)' : 'Memory'}
          value={formatMiB(m.startupMiB)}
          sub={m.dynamic ? `${formatMiB(m.minimumMiB)} – ${formatMiB(m.maximumMiB)}` : 'static'}
        />
        <Metric
          label="Storage"
          value={formatBytes(vm.storageBytes)}
          sub={`${vm.disks.length} disk${vm.disks.length === 1 ? '' : 's'}`}
        />
        <Metric
          label="HA priority"
          value={<HaPriorityControl vmId={vm.id} vmName={vm.name} priority={vm.haPriority} />}
          sub="restart order after a host failure"
        />
      </dl>
      {m.dynamic ? (
        <dl className="grid grid-cols-2 gap-x-5 gap-y-2 border-t border-border px-4 py-3 text-[12.5px] md:grid-cols-5">
          <Pair label="Startup" value={formatMiB(m.startupMiB)} />
          <Pair label="Minimum" value={formatMiB(m.minimumMiB)} />
          <Pair label="Maximum" value={formatMiB(m.maximumMiB)} />
          <Pair label="Buffer" value={`${formatCount(m.bufferPercent)} %`} />
          <Pair label="Weight" value={`${formatCount(m.weight)} of 10,000`} />
        </dl>
      ) : null}
    </Card>
  );
}

function Pair({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div>
      <dt className="text-muted">{label}</dt>
      <dd className="font-medium text-fg tabular">{value}</dd>
    </div>
  );
}

function DisksCard({ vm }: { vm: Vm }) {
  return (
    <Card className="overflow-hidden">
      <CardHeader title="Disks" description="VHDX files on the host's storage pools" />
      {vm.disks.length === 0 ? (
        <EmptyState icon={<HardDrive />} title="No disks" className="py-8" />
      ) : (
        <Table aria-label="Disks">
          <THead>
            <TH>Name</TH>
            <TH>Type</TH>
            <TH className="text-right">Size</TH>
            <TH className="text-right">Sector</TH>
            <TH>Pool</TH>
          </THead>
          <tbody>
            {vm.disks.map((d) => (
              <TR key={d.name}>
                <TD className="font-mono text-[12px]">{d.name}</TD>
                <TD className="capitalize">{d.kind}</TD>
                <TD className="text-right tabular">{formatBytes(d.sizeBytes)}</TD>
                <TD className="text-right tabular">{formatCount(d.logicalSectorBytes)} B</TD>
                <TD className="text-muted">{d.pool ?? '—'}</TD>
              </TR>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}

function NicsCard({ vm }: { vm: Vm }) {
  return (
    <Card className="overflow-hidden">
      <CardHeader title="Network adapters" description="Minimum bandwidth is reserved on the host's switch" />
      {vm.nics.length === 0 ? (
        <EmptyState icon={<Network />} title="No network adapters" className="py-8" />
      ) : (
        <Table aria-label="Network adapters">
          <THead>
            <TH>Name</TH>
            <TH>Network</TH>
            <TH>MAC</TH>
            <TH className="text-right">Minimum</TH>
            <TH className="text-right">Maximum</TH>
          </THead>
          <tbody>
            {vm.nics.map((n) => (
              <TR key={n.name}>
                <TD className="font-mono text-[12px]">{n.name}</TD>
                <TD>{n.network}</TD>
                <TD className="font-mono text-[12px] text-muted">{n.macAddress}</TD>
                <TD className="text-right tabular">
                  {n.minimumBandwidthMbps
                    ? formatMbps(n.minimumBandwidthMbps)
                    : n.minimumBandwidthWeight
                      ? `weight ${n.minimumBandwidthWeight}`
                      : '—'}
                </TD>
                <TD className="text-right tabular">{formatMbps(n.maximumBandwidthMbps)}</TD>
              </TR>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}

const TASK_TONE: Record<Task['state'], Tone> = {
  queued: 'neutral',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
};

function TasksCard({ vm, area }: { vm: Vm; area: 'portal' | 'admin' }) {
  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Task history"
        description="Newest first"
        actions={
          <Link href={`/${area}/tasks?target=${vm.id}`} className="rounded text-[12px] text-accent hover:underline">
            All in Tasks
          </Link>
        }
      />
      {vm.tasks.length === 0 ? (
        <EmptyState icon={<History />} title="No tasks yet" className="py-8" />
      ) : (
        <ol className="divide-y divide-border" aria-label="Tasks">
          {vm.tasks.map((task) => (
            <TaskItem key={task.id} vmId={vm.id} task={task} href={`/${area}/tasks/${task.id}`} />
          ))}
        </ol>
      )}
    </Card>
  );
}

function TaskItem({ vmId, task, href }: { vmId: string; task: Task; href: string }) {
  const live = useLiveTask(vmId);
  const active = task.state === 'running' || task.state === 'queued';
  const progress = active && live?.taskId === task.id ? Math.max(live.progress, task.progress) : task.progress;
  return (
    <li className="px-4 py-2.5 text-[12.5px]" data-testid="task-item" data-task-state={task.state}>
      <div className="flex items-center justify-between gap-2">
        <Link href={href} className="rounded font-medium text-fg hover:text-accent hover:underline">
          {taskLabel(task.kind)}
        </Link>
        <Badge tone={TASK_TONE[task.state]} dot pulse={task.state === 'running'}>
          {task.state}
        </Badge>
      </div>
      {active ? (
        <div className="mt-1.5 flex items-center gap-2">
          <ProgressBar
            value={task.state === 'queued' && !live ? null : progress}
            label={`${taskLabel(task.kind)} progress`}
          />
          <span className="w-9 text-right text-[11.5px] text-muted tabular">{Math.round(progress)}%</span>
        </div>
      ) : null}
      {task.state === 'failed' ? (
        <p className="mt-1 text-danger">
          {task.errorCode ? (
            <code className="mr-1.5 rounded bg-danger-soft px-1 font-mono text-[11.5px]">{task.errorCode}</code>
          ) : null}
          {task.message}
        </p>
      ) : task.message ? (
        <p className="mt-1 text-muted">{task.message}</p>
      ) : null}
      <p className="mt-1 text-[11.5px] text-subtle">
        {task.requestedBy} · <RelativeTime value={task.createdAt} />
        {task.finishedAt ? <> · took {duration(task.createdAt, task.finishedAt)}</> : null}
      </p>
    </li>
  );
}

function duration(from: Date, to: Date): string {
  const seconds = Math.max(0, Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}
