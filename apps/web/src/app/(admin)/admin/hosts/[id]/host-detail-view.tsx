'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  CheckCircle2,
  ChevronRight,
  FlaskConical,
  History,
  LogOut,
  Network,
  RotateCw,
  Server,
  Trash2,
  Wrench,
} from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, type ReactNode, useState } from 'react';
import { EventList } from '@/components/audit/event-list';
import { UsageCard } from '@/components/charts/usage-card';
import { BmcCard } from '@/components/hosts/bmc-card';
import { FailureDrillCard } from '@/components/hosts/failure-drill-card';
import { HostStateBadge } from '@/components/hosts/host-state';
import { EvacuationPreview } from '@/components/mobility/evacuation-preview';
import { LeaveMaintenance } from '@/components/mobility/leave-maintenance';
import { EvacuationPlan } from '@/components/placement/evacuation-plan';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select, Textarea } from '@/components/ui/input';
import { RelativeTime } from '@/components/ui/relative-time';
import { Skeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { UsageBar } from '@/components/ui/usage-bar';
import { HostVmsCard } from '@/components/vms/host-vms-card';
import { errorCode, errorMessage } from '@/lib/errors';
import {
  formatBytes,
  formatDateTime,
  formatLPs,
  formatMbps,
  formatMhz,
  formatMiB,
  formatPercent,
  ratio,
} from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Host = RouterOutputs['hosts']['get'];

export function HostDetailView({ id }: { id: string }) {
  const trpc = useTRPC();
  const host = useQuery(trpc.hosts.get.queryOptions({ id }));

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href="/admin/hosts" className="hover:text-fg hover:underline">
        Hosts
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        {host.data?.name ?? '…'}
      </span>
    </nav>
  );

  if (host.isPending) return <DetailSkeleton breadcrumb={breadcrumb} />;
  if (host.isError) {
    if (errorCode(host.error) === 'NOT_FOUND') {
      return (
        <Card>
          <EmptyState
            icon={<Server />}
            title="Host not found"
            description="It may have been removed from the fabric, or the link is wrong."
            action={
              <Link href="/admin/hosts" className={buttonClass('secondary', 'sm')}>
                Back to hosts
              </Link>
            }
          />
        </Card>
      );
    }
    return (
      <Card>
        <ErrorState
          error={host.error}
          title="Could not load this host"
          onRetry={() => void host.refetch()}
          retrying={host.isFetching}
        />
      </Card>
    );
  }
  return <HostDetailBody host={host.data} breadcrumb={breadcrumb} />;
}

function HostDetailBody({ host, breadcrumb }: { host: Host; breadcrumb: ReactNode }) {
  const [dialog, setDialog] = useState<'maintenance' | 'remove' | null>(null);
  const inMaintenance = host.state === 'maintenance';
  return (
    <>
      <header className="mb-5">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <div className="flex items-center gap-2.5">
              <h1 className="truncate text-[19px] font-semibold tracking-[-0.01em]">{host.name}</h1>
              <HostStateBadge state={host.state} />
            </div>
            <p className="mt-1 flex flex-wrap items-center gap-x-2 text-[13px] text-muted">
              <span>
                Cluster{' '}
                <Link href={`/admin/hosts?cluster=${host.clusterId}`} className="text-fg hover:underline">
                  {host.clusterName}
                </Link>
              </span>
              <span aria-hidden="true">·</span>
              <span>
                Last heartbeat <RelativeTime value={host.lastHeartbeatAt} className="text-fg tabular" />
              </span>
              <span aria-hidden="true">·</span>
              <span>
                Agent <span className="font-mono text-[12px] text-fg">{host.agentVersion}</span>
              </span>
            </p>
          </div>
          <div className="flex items-center gap-2">
            <Button icon={<Wrench />} onClick={() => setDialog('maintenance')}>
              {inMaintenance ? 'Exit maintenance' : 'Enter maintenance'}
            </Button>
            <Button variant="ghost" icon={<Trash2 />} onClick={() => setDialog('remove')} className="text-danger">
              Remove
            </Button>
          </div>
        </div>
      </header>

      {inMaintenance ? (
        <div className="mb-5 flex items-start gap-3 rounded-lg border border-sky-500/30 bg-sky-50 px-4 py-3 text-[13px] dark:bg-sky-400/10">
          <Wrench className="mt-0.5 size-4 shrink-0 text-sky-600 dark:text-sky-300" aria-hidden="true" />
          <div>
            <p className="font-medium text-fg">In maintenance since {formatDateTime(host.stateChangedAt)}</p>
            <p className="mt-0.5 text-muted">{host.maintenanceReason || 'No reason given.'}</p>
          </div>
        </div>
      ) : null}

      <div className="grid grid-cols-1 gap-5 xl:grid-cols-3">
        <div className="flex flex-col gap-5 xl:col-span-2">
          <CapacityCard host={host} />
          <HostVmsCard hostId={host.id} />
          <UsageCard scope={{ kind: 'host', hostId: host.id }} description="All VMs on this host, from raw samples" />
          <EvacuationCard host={host} />
          <NicsCard host={host} />
          <StorageCard host={host} />
        </div>
        <div className="flex flex-col gap-5">
          <DedicationCard host={host} />
          <FailureDrillCard hostId={host.id} />
          <BmcCard hostId={host.id} hostName={host.name} />
          <SystemCard host={host} />
          <Card>
            <CardHeader title="Recent events" description="Newest first, up to 50" />
            {host.events.length === 0 ? (
              <EmptyState icon={<History />} title="No events yet" className="py-8" />
            ) : (
              <EventList events={host.events} />
            )}
            <div className="border-t border-border px-4 py-2.5">
              <Link
                href={`/admin/audit?targetId=${host.id}`}
                className="text-[12.5px] font-medium text-accent hover:underline"
              >
                Open in audit log
              </Link>
            </div>
          </Card>
        </div>
      </div>

      <MaintenanceDialog host={host} open={dialog === 'maintenance'} onClose={() => setDialog(null)} />
      <RemoveDialog host={host} open={dialog === 'remove'} onClose={() => setDialog(null)} />
    </>
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

function CapacityCard({ host }: { host: Host }) {
  return (
    <Card>
      <CardHeader title="Capacity" description={host.cpuModel} />
      <dl className="grid grid-cols-2 gap-5 p-4 md:grid-cols-4">
        <Metric
          label="Compute"
          value={formatLPs(host.logicalProcessors)}
          sub={`${host.sockets} × ${host.coresPerSocket} cores · ${formatMhz(host.cpuMhz)}`}
        />
        <Metric label="Memory" value={formatMiB(host.memoryMiB)} sub="physical" />
        <Metric
          label="NUMA nodes"
          value={host.numaNodes}
          sub={`${formatMiB(host.memoryMiB / Math.max(1, host.numaNodes))} each`}
        />
        <div>
          <dt className="text-[12px] text-muted">Storage</dt>
          <dd className="mt-1 text-[17px] font-semibold tracking-[-0.01em] tabular">
            {formatBytes(host.storageUsedBytes)}
          </dd>
          <dd className="mt-0.5 text-[12px] text-muted tabular">
            of {formatBytes(host.storageCapacityBytes)} ·{' '}
            {formatPercent(ratio(host.storageUsedBytes, host.storageCapacityBytes))}
          </dd>
          <dd className="mt-2">
            <UsageBar used={host.storageUsedBytes} capacity={host.storageCapacityBytes} label="Host storage used" />
          </dd>
        </div>
      </dl>
    </Card>
  );
}

/** "If this host had to be emptied": computed on request, nothing is moved. */
function EvacuationCard({ host }: { host: Host }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  return (
    <Card className="overflow-hidden" aria-labelledby="evacuation-heading">
      <CardHeader
        id="evacuation-heading"
        title="Evacuation plan"
        description="Where each VM would go if this host were emptied, or why it cannot move. Nothing is moved."
        actions={
          open ? (
            <Button
              size="sm"
              variant="ghost"
              icon={<RotateCw />}
              onClick={() =>
                void queryClient.invalidateQueries(trpc.placement.evacuation.queryFilter({ hostId: host.id }))
              }
            >
              Recompute
            </Button>
          ) : (
            <Button size="sm" icon={<LogOut />} onClick={() => setOpen(true)}>
              Plan evacuation
            </Button>
          )
        }
      />
      {open ? (
        <EvacuationPlan hostId={host.id} />
      ) : (
        <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-3 text-[12.5px] text-muted">
          <span>Plan before maintenance: see which VMs would fit on the other hosts of {host.clusterName}.</span>
          <Link
            href={`/admin/clusters/${host.clusterId}/what-if?host=${host.id}`}
            className="inline-flex items-center gap-1 font-medium text-accent hover:underline"
          >
            <FlaskConical className="size-3.5" aria-hidden="true" />
            Cluster what-if
          </Link>
        </div>
      )}
    </Card>
  );
}

function NicsCard({ host }: { host: Host }) {
  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Network adapters"
        description={`${host.nics.length} physical NIC${host.nics.length === 1 ? '' : 's'}`}
      />
      {host.nics.length === 0 ? (
        <EmptyState icon={<Network />} title="No network adapters reported" className="py-8" />
      ) : (
        <Table aria-label="Network adapters">
          <THead>
            <TH>Name</TH>
            <TH>MAC address</TH>
            <TH className="text-right">Link speed</TH>
            <TH>Link</TH>
          </THead>
          <tbody>
            {host.nics.map((nic) => (
              <TR key={nic.name}>
                <TD className="font-medium">{nic.name}</TD>
                <TD className="font-mono text-[12px] text-muted">{nic.macAddress}</TD>
                <TD className="text-right tabular">{formatMbps(nic.linkSpeedMbps)}</TD>
                <TD>
                  <Badge tone={nic.linkUp ? 'green' : 'neutral'} dot>
                    {nic.linkUp ? 'up' : 'down'}
                  </Badge>
                </TD>
              </TR>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}

function StorageCard({ host }: { host: Host }) {
  return (
    <Card className="overflow-hidden">
      <CardHeader title="Storage pools" />
      {host.storagePools.length === 0 ? (
        <EmptyState title="No storage pools reported" className="py-8" />
      ) : (
        <ul className="divide-y divide-border">
          {host.storagePools.map((pool) => (
            <li
              key={pool.name}
              className="grid grid-cols-[1fr_auto] items-center gap-x-4 gap-y-2 px-4 py-3 md:grid-cols-[14rem_1fr_12rem]"
            >
              <div className="min-w-0">
                <p className="truncate text-[13px] font-medium">{pool.name}</p>
                <p className="text-[12px] text-muted">{pool.kind}</p>
              </div>
              <UsageBar
                used={pool.usedBytes}
                capacity={pool.capacityBytes}
                label={`${pool.name} used`}
                className="order-last col-span-2 md:order-none md:col-span-1"
              />
              <p className="text-right text-[12.5px] text-muted tabular">
                <span className="text-fg">{formatBytes(pool.usedBytes)}</span> / {formatBytes(pool.capacityBytes)} ·{' '}
                {formatPercent(ratio(pool.usedBytes, pool.capacityBytes))}
              </p>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

const SHARED = '';

/**
 * hosts.get does not return the dedication yet: the starting value is the
 * newest successful host.dedication event among the host's recent events
 * (shared when there is none), and after a save the value just set.
 */
function DedicationCard({ host }: { host: Host }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  const fromEvents = host.events.find((e) => e.action === 'host.dedication' && e.result === 'success');
  const [saved, setSaved] = useState<{ tenantId: string | null } | null>(null);
  const current = saved ? saved.tenantId : (fromEvents?.tenantId ?? null);
  const [choice, setChoice] = useState<string | null>(null);
  const value = choice ?? current ?? SHARED;
  const [notice, setNotice] = useState<string | null>(null);

  const mutation = useMutation(
    trpc.hosts.setDedication.mutationOptions({
      onSuccess: async (_, input) => {
        setSaved({ tenantId: input.tenantId });
        setChoice(null);
        const name = tenants.data?.find((t) => t.id === input.tenantId)?.name;
        setNotice(
          name ? `Dedicated to ${name}: only its VMs are placed here.` : 'Shared: any tenant can be placed here.',
        );
        await Promise.all([
          queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: host.id })),
          queryClient.invalidateQueries(trpc.hosts.list.queryFilter()),
        ]);
      },
    }),
  );

  const currentName = current ? (tenants.data?.find((t) => t.id === current)?.name ?? 'a tenant') : null;
  const dirty = value !== (current ?? SHARED);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!dirty || mutation.isPending) return;
    setNotice(null);
    mutation.mutate({ id: host.id, tenantId: value === SHARED ? null : value });
  }

  return (
    <Card aria-labelledby="dedication-heading">
      <CardHeader
        id="dedication-heading"
        title="Tenant dedication"
        description="A dedicated host takes only one tenant's VMs; running VMs are not moved."
      />
      <form onSubmit={submit} className="flex flex-col gap-3 p-4" data-testid="dedication-form">
        {mutation.isError ? <InlineError>{errorMessage(mutation.error)}</InlineError> : null}
        {tenants.isError ? (
          <InlineError>
            Could not load tenants: {errorMessage(tenants.error)}{' '}
            <button
              type="button"
              onClick={() => void tenants.refetch()}
              className="font-medium underline hover:no-underline"
            >
              Retry
            </button>
          </InlineError>
        ) : null}
        <Field
          label="Dedicated to"
          htmlFor="host-dedication"
          hint={
            notice
              ? undefined
              : current
                ? `Now dedicated to ${currentName}.`
                : saved
                  ? 'Now shared with every tenant.'
                  : "Shared unless dedicated (as far as this host's recent events show)."
          }
        >
          {tenants.isPending ? (
            <Skeleton className="h-8" />
          ) : (
            <Select
              {...describedBy('host-dedication', undefined, !notice)}
              value={value}
              disabled={mutation.isPending || tenants.isError}
              onChange={(e) => {
                setChoice(e.target.value);
                setNotice(null);
                if (mutation.isError) mutation.reset();
              }}
            >
              <option value={SHARED}>Shared — any tenant</option>
              {(tenants.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="flex items-center justify-between gap-3">
          <p role="status" className="min-w-0 text-[12px] text-muted">
            {notice ? (
              <span className="flex items-start gap-1.5">
                <CheckCircle2 className="mt-px size-3.5 shrink-0 text-emerald-500" aria-hidden="true" />
                {notice}
              </span>
            ) : null}
          </p>
          <Button type="submit" size="sm" variant="primary" disabled={!dirty} loading={mutation.isPending}>
            {value === SHARED ? 'Share host' : 'Dedicate'}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function SystemCard({ host }: { host: Host }) {
  const rows: [string, ReactNode][] = [
    ['Operating system', host.osName],
    [
      'Driver',
      <span key="d" className="font-mono text-[12px]">
        {host.driver}
      </span>,
    ],
    [
      'Agent version',
      <span key="a" className="font-mono text-[12px]">
        {host.agentVersion}
      </span>,
    ],
    ['Registered', formatDateTime(host.registeredAt)],
    ['State since', formatDateTime(host.stateChangedAt)],
  ];
  return (
    <Card>
      <CardHeader title="System" />
      <dl className="divide-y divide-border">
        {rows.map(([label, value]) => (
          <div key={label} className="flex items-center justify-between gap-4 px-4 py-2.5 text-[13px]">
            <dt className="text-muted">{label}</dt>
            <dd className="truncate text-right text-fg tabular">{value}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function MaintenanceDialog({ host, open, onClose }: { host: Host; open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  // Once the admin confirms leaving, the dialog keeps the leave form (and the bring-back task it follows) even
  // though the host is no longer in maintenance.
  const [following, setFollowing] = useState(false);
  const enabling = host.state !== 'maintenance' && !following;
  const mutation = useMutation(
    trpc.hosts.setMaintenance.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: host.id })),
          queryClient.invalidateQueries(trpc.hosts.list.queryFilter()),
          queryClient.invalidateQueries(trpc.fabric.overview.queryFilter()),
        ]);
        setReason('');
        onClose();
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    mutation.mutate({ id: host.id, enabled: enabling, reason: enabling && reason.trim() ? reason.trim() : undefined });
  }

  function close() {
    mutation.reset();
    setFollowing(false);
    onClose();
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title={enabling ? `Put ${host.name} into maintenance` : `End maintenance on ${host.name}`}
      description={
        enabling
          ? 'The host stays registered but takes no new work. Heartbeats no longer change its state.'
          : 'The host returns to the state its heartbeats indicate: connected if they are on time.'
      }
    >
      {/* Leaving: what its evacuation moved off can come back (a choice, previewed), through one task. */}
      {!enabling && open ? (
        <LeaveMaintenance
          hostId={host.id}
          hostName={host.name}
          onLeaving={() => setFollowing(true)}
          onCancel={close}
          onDone={close}
        />
      ) : null}
      <form onSubmit={submit} className={enabling ? 'flex flex-col gap-4' : 'hidden'}>
        {mutation.isError ? <InlineError>{errorMessage(mutation.error)}</InlineError> : null}
        {enabling && open ? <EvacuationPreview hostId={host.id} onDone={close} /> : null}
        {enabling ? (
          <Field label="Reason" htmlFor="maintenance-reason" hint="Shown on the host and recorded in the audit log.">
            <Textarea
              {...describedBy('maintenance-reason', undefined, true)}
              value={reason}
              maxLength={200}
              onChange={(e) => setReason(e.target.value)}
              placeholder="e.g. Firmware update, ticket OPS-1234"
              autoFocus
            />
          </Field>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" loading={mutation.isPending} autoFocus={!enabling}>
            {enabling ? 'Enter maintenance' : 'Exit maintenance'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function RemoveDialog({ host, open, onClose }: { host: Host; open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const mutation = useMutation(
    trpc.hosts.remove.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries(trpc.hosts.get.queryFilter({ id: host.id }));
        await Promise.all([
          queryClient.invalidateQueries(trpc.hosts.list.queryFilter()),
          queryClient.invalidateQueries(trpc.fabric.overview.queryFilter()),
          queryClient.invalidateQueries(trpc.clusters.list.queryFilter()),
        ]);
        router.push('/admin/hosts');
      },
    }),
  );
  const matches = typed.trim() === host.name;

  function close() {
    setTyped('');
    mutation.reset();
    onClose();
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title={`Remove ${host.name}?`}
      description="The host is unregistered and its agent credential stops working. To bring it back, register it again with a new token."
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (matches) mutation.mutate({ id: host.id });
        }}
        className="flex flex-col gap-4"
      >
        {mutation.isError ? <InlineError>{errorMessage(mutation.error)}</InlineError> : null}
        <Field label={`Type ${host.name} to confirm`} htmlFor="confirm-host-name">
          <Input
            id="confirm-host-name"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            className="font-mono"
          />
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="danger" disabled={!matches} loading={mutation.isPending}>
            Remove host
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function DetailSkeleton({ breadcrumb }: { breadcrumb: ReactNode }) {
  return (
    <div role="status" aria-label="Loading">
      <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
      <Skeleton className="h-6 w-56" />
      <Skeleton className="mt-2 h-4 w-96" />
      <div className="mt-6 grid grid-cols-1 gap-5 xl:grid-cols-3">
        <div className="flex flex-col gap-5 xl:col-span-2">
          <Skeleton className="h-32 rounded-lg" />
          <Skeleton className="h-40 rounded-lg" />
        </div>
        <Skeleton className="h-72 rounded-lg" />
      </div>
    </div>
  );
}
