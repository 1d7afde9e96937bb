'use client';

import type { HostState } from '@fabric/core/fabric/host-state';
import { useQuery } from '@tanstack/react-query';
import { Boxes, Cpu, HardDrive, MemoryStick, Plus, Server } from 'lucide-react';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { HOST_STATE_ORDER, HostStateBadge, hostStateDot } from '@/components/hosts/host-state';
import { type NPlusOne, NPlusOneLine } from '@/components/placement/n-plus-one';
import { useSession } from '@/components/shell/session';
import { buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Skeleton } from '@/components/ui/skeleton';
import { UsageBar } from '@/components/ui/usage-bar';
import { cn } from '@/lib/cn';
import { formatBytes, formatCount, formatLPs, formatMiB, formatPercent, ratio } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Overview = RouterOutputs['fabric']['overview'];

export function OverviewView() {
  const trpc = useTRPC();
  const me = useSession();
  const canManage = me.role === 'provider-admin';
  // Provider admins get live host events; finance has no event stream, so it polls.
  const overview = useQuery(
    trpc.fabric.overview.queryOptions(undefined, { refetchInterval: canManage ? false : 15_000 }),
  );

  return (
    <>
      <PageHeader
        title="Overview"
        description={
          overview.data
            ? `Capacity and host health across ${overview.data.clusters} cluster${overview.data.clusters === 1 ? '' : 's'}`
            : 'Capacity and host health across the fabric'
        }
      />
      {overview.isPending ? (
        <OverviewSkeleton />
      ) : overview.isError ? (
        <Card>
          <ErrorState
            error={overview.error}
            title="Could not load the overview"
            onRetry={() => void overview.refetch()}
            retrying={overview.isFetching}
          />
        </Card>
      ) : overview.data.clusters === 0 ? (
        <Card>
          <EmptyState
            icon={<Boxes />}
            title="No clusters yet"
            description="A cluster groups Hyper-V hosts that share storage and fail over together. Create one, then register hosts into it with a one-time token."
            action={
              canManage ? (
                <Link href="/admin/clusters?new=1" className={buttonClass('primary')}>
                  <Plus aria-hidden="true" />
                  Create cluster
                </Link>
              ) : undefined
            }
          />
        </Card>
      ) : (
        <OverviewBody data={overview.data} canManage={canManage} />
      )}
    </>
  );
}

function totalHosts(byState: Overview['hostsByState']): number {
  return byState.connected + byState.suspect + byState.failed + byState.maintenance;
}

function OverviewBody({ data, canManage }: { data: Overview; canManage: boolean }) {
  const trpc = useTRPC();
  // N+1 is a provider-admin question; re-checked each minute (and on focus) as VMs come and go.
  const health = useQuery(
    trpc.placement.clusterHealth.queryOptions(undefined, { enabled: canManage, refetchInterval: 60_000 }),
  );
  const hosts = totalHosts(data.hostsByState);
  const { storageUsedBytes, storageCapacityBytes } = data.totals;
  return (
    <div className="flex flex-col gap-5">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 xl:grid-cols-4">
        <Stat icon={<Server />} label="Hosts" value={formatCount(hosts)} sub={`in ${data.clusters} clusters`}>
          <StateBar byState={data.hostsByState} total={hosts} />
        </Stat>
        <Stat
          icon={<Cpu />}
          label="Compute"
          value={formatLPs(data.totals.logicalProcessors)}
          sub="logical processors"
        />
        <Stat
          icon={<MemoryStick />}
          label="Memory"
          value={formatMiB(data.totals.memoryMiB)}
          sub="physical, all hosts"
        />
        <Stat
          icon={<HardDrive />}
          label="Storage"
          value={formatBytes(storageUsedBytes)}
          sub={`of ${formatBytes(storageCapacityBytes)} used · ${formatPercent(ratio(storageUsedBytes, storageCapacityBytes))}`}
        >
          <UsageBar used={storageUsedBytes} capacity={storageCapacityBytes} label="Storage used" className="mt-3" />
        </Stat>
      </div>

      <Card aria-labelledby="hosts-by-state">
        <CardHeader
          id="hosts-by-state"
          title="Hosts by state"
          description="Decided from agent heartbeats; maintenance is set by an administrator."
          actions={
            canManage ? (
              <Link href="/admin/hosts" className={buttonClass('secondary', 'sm')}>
                View hosts
              </Link>
            ) : undefined
          }
        />
        <ul className="grid grid-cols-2 divide-border md:grid-cols-4 md:divide-x">
          {HOST_STATE_ORDER.map((state) => (
            <li key={state}>
              <StateCount state={state} count={data.hostsByState[state]} total={hosts} link={canManage} />
            </li>
          ))}
        </ul>
      </Card>

      <section aria-labelledby="clusters-heading">
        <div className="mb-3 flex items-center justify-between">
          <h2 id="clusters-heading" className="text-[13px] font-semibold text-fg">
            Clusters
          </h2>
          {canManage ? (
            <Link href="/admin/clusters" className="text-[12.5px] font-medium text-accent hover:underline">
              Manage clusters
            </Link>
          ) : null}
        </div>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3">
          {data.clustersSummary.map((cluster) => (
            <ClusterCard
              key={cluster.id}
              cluster={cluster}
              link={canManage}
              health={canManage ? health.data?.find((h) => h.clusterId === cluster.id) : undefined}
              healthLoading={canManage && health.isPending}
            />
          ))}
        </div>
      </section>
    </div>
  );
}

function Stat({
  icon,
  label,
  value,
  sub,
  children,
}: {
  icon: ReactNode;
  label: string;
  value: string;
  sub: string;
  children?: ReactNode;
}) {
  return (
    <Card className="p-4">
      <div className="flex items-center gap-2 text-[12px] font-medium text-muted [&_svg]:size-3.5">
        {icon}
        {label}
      </div>
      <div className="mt-2 text-[22px] font-semibold tracking-[-0.02em] text-fg tabular">{value}</div>
      <div className="mt-0.5 text-[12px] text-muted tabular">{sub}</div>
      {children}
    </Card>
  );
}

function StateBar({ byState, total }: { byState: Overview['hostsByState']; total: number }) {
  if (total === 0) return <div className="mt-3 h-1.5 rounded-full bg-track" />;
  return (
    <div className="mt-3 flex h-1.5 gap-0.5 overflow-hidden rounded-full" aria-hidden="true">
      {HOST_STATE_ORDER.filter((s) => byState[s] > 0).map((state) => (
        <div key={state} className={hostStateDot(state)} style={{ width: `${(byState[state] / total) * 100}%` }} />
      ))}
    </div>
  );
}

function StateCount({ state, count, total, link }: { state: HostState; count: number; total: number; link: boolean }) {
  const body = (
    <>
      <HostStateBadge state={state} />
      <div className="mt-2 flex items-baseline gap-1.5">
        <span className={cn('text-[20px] font-semibold tabular', count === 0 ? 'text-subtle' : 'text-fg')}>
          {formatCount(count)}
        </span>
        <span className="text-[12px] text-muted tabular">{total > 0 ? formatPercent(count / total) : '—'}</span>
      </div>
    </>
  );
  return link ? (
    <Link
      href={`/admin/hosts?state=${state}`}
      className="block px-4 py-3.5 transition-colors hover:bg-surface-hover"
      aria-label={`${count} ${state} hosts`}
    >
      {body}
    </Link>
  ) : (
    <div className="px-4 py-3.5">{body}</div>
  );
}

function ClusterCard({
  cluster,
  link,
  health,
  healthLoading,
}: {
  cluster: Overview['clustersSummary'][number];
  link: boolean;
  health: NPlusOne | undefined;
  healthLoading: boolean;
}) {
  const title = link ? (
    <Link href={`/admin/hosts?cluster=${cluster.id}`} className="hover:underline">
      {cluster.name}
    </Link>
  ) : (
    cluster.name
  );
  return (
    <Card className="p-4">
      <div className="flex items-center justify-between gap-2">
        <h3 className="truncate text-[13.5px] font-semibold text-fg">{title}</h3>
        <span className="text-[12px] text-muted tabular">
          {cluster.hostCount} / {cluster.maxHosts} hosts
        </span>
      </div>
      <UsageBar
        used={cluster.hostCount}
        capacity={cluster.maxHosts}
        label={`${cluster.name} host slots used`}
        className="mt-2.5"
        size="sm"
      />
      <dl className="mt-3.5 grid grid-cols-2 gap-3 text-[12px]">
        <div>
          <dt className="text-muted">Compute</dt>
          <dd className="mt-0.5 font-medium text-fg tabular">{formatLPs(cluster.logicalProcessors)}</dd>
        </div>
        <div>
          <dt className="text-muted">Memory</dt>
          <dd className="mt-0.5 font-medium text-fg tabular">{formatMiB(cluster.memoryMiB)}</dd>
        </div>
      </dl>
      {health ? (
        <NPlusOneLine health={health} className="-mx-2 mt-3 -mb-1.5" />
      ) : healthLoading ? (
        <Skeleton className="mt-3.5 h-4 w-44" />
      ) : null}
    </Card>
  );
}

function OverviewSkeleton() {
  return (
    <div className="flex flex-col gap-5" role="status" aria-label="Loading">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 xl:grid-cols-4">
        {[0, 1, 2, 3].map((i) => (
          <Card key={i} className="p-4">
            <Skeleton className="h-3 w-20" />
            <Skeleton className="mt-3 h-6 w-28" />
            <Skeleton className="mt-2 h-3 w-24" />
          </Card>
        ))}
      </div>
      <Card className="p-4">
        <Skeleton className="h-4 w-32" />
        <div className="mt-4 grid grid-cols-4 gap-4">
          {[0, 1, 2, 3].map((i) => (
            <Skeleton key={i} className="h-12" />
          ))}
        </div>
      </Card>
      <div className="grid grid-cols-1 gap-4 md:grid-cols-3">
        {[0, 1, 2].map((i) => (
          <Skeleton key={i} className="h-28 rounded-lg" />
        ))}
      </div>
    </div>
  );
}
