'use client';

import { useQuery } from '@tanstack/react-query';
import { Boxes, Pencil, Plus } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Skeleton } from '@/components/ui/skeleton';
import { UsageBar } from '@/components/ui/usage-bar';
import { cn } from '@/lib/cn';
import { formatCount, formatDate } from '@/lib/format';
import { useUrlState } from '@/lib/use-url-state';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';
import { CreateClusterDialog } from './create-cluster-dialog';
import { formatOvercommit, PlacementDialog, policyLabel } from './placement-dialog';
import { TokensPanel } from './tokens-panel';

type Cluster = RouterOutputs['clusters']['list'][number];

export function ClustersView() {
  const trpc = useTRPC();
  const { params, update } = useUrlState();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const [creating, setCreating] = useState(params.get('new') === '1');
  const [editingId, setEditingId] = useState<string | null>(null);
  const editing = clusters.data?.find((c) => c.id === editingId);

  const selectedId = params.get('cluster');
  const selected = clusters.data?.find((c) => c.id === selectedId) ?? clusters.data?.[0];

  return (
    <>
      <PageHeader
        title="Clusters"
        description="Groups of hosts that share storage and fail over together. Hosts join with a registration token."
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
            New cluster
          </Button>
        }
      />
      {clusters.isPending ? (
        <div className="grid grid-cols-1 gap-5 xl:grid-cols-[minmax(0,22rem)_1fr]">
          <div className="flex flex-col gap-3">
            {[0, 1, 2].map((i) => (
              <Skeleton key={i} className="h-24 rounded-lg" />
            ))}
          </div>
          <Skeleton className="h-64 rounded-lg" />
        </div>
      ) : clusters.isError ? (
        <Card>
          <ErrorState
            error={clusters.error}
            title="Could not load clusters"
            onRetry={() => void clusters.refetch()}
            retrying={clusters.isFetching}
          />
        </Card>
      ) : clusters.data.length === 0 || !selected ? (
        <Card>
          <EmptyState
            icon={<Boxes />}
            title="No clusters yet"
            description="Create a cluster first. Each holds up to 64 hosts and 4,000 VMs (the Hyper-V limits)."
            action={
              <Button variant="primary" size="sm" icon={<Plus />} onClick={() => setCreating(true)}>
                New cluster
              </Button>
            }
          />
        </Card>
      ) : (
        <div className="grid grid-cols-1 items-start gap-5 xl:grid-cols-[minmax(0,22rem)_1fr]">
          <ul aria-label="Clusters" className="flex flex-col gap-2">
            {clusters.data.map((cluster) => (
              <li key={cluster.id}>
                <ClusterItem
                  cluster={cluster}
                  selected={cluster.id === selected.id}
                  onSelect={() => update({ cluster: cluster.id })}
                  onEditPlacement={() => setEditingId(cluster.id)}
                />
              </li>
            ))}
          </ul>
          <TokensPanel key={selected.id} cluster={selected} />
        </div>
      )}
      {editing ? <PlacementDialog key={editing.id} cluster={editing} onClose={() => setEditingId(null)} /> : null}
      <CreateClusterDialog
        open={creating}
        onClose={() => {
          setCreating(false);
          if (params.get('new')) update({ new: null });
        }}
        onCreated={(cluster) => {
          setCreating(false);
          update({ new: null, cluster: cluster.id });
        }}
      />
    </>
  );
}

function ClusterItem({
  cluster,
  selected,
  onSelect,
  onEditPlacement,
}: {
  cluster: Cluster;
  selected: boolean;
  onSelect: () => void;
  onEditPlacement: () => void;
}) {
  return (
    <div
      className={cn(
        'rounded-lg border bg-surface shadow-xs transition-colors',
        selected ? 'border-accent ring-1 ring-accent' : 'border-border hover:border-border-strong',
      )}
    >
      <button
        type="button"
        onClick={onSelect}
        aria-pressed={selected}
        aria-label={`${cluster.name}: show registration tokens`}
        className="block w-full rounded-lg px-4 pt-3 pb-2 text-left"
      >
        <div className="flex items-center justify-between gap-3">
          <span className="truncate text-[13.5px] font-semibold text-fg">{cluster.name}</span>
          <span className="shrink-0 text-[12px] text-muted tabular">
            {cluster.hostCount} / {cluster.maxHosts} hosts
          </span>
        </div>
        {cluster.description ? <p className="mt-0.5 truncate text-[12.5px] text-muted">{cluster.description}</p> : null}
        <UsageBar
          used={cluster.hostCount}
          capacity={cluster.maxHosts}
          label={`${cluster.name} host slots used`}
          size="sm"
          className="mt-2.5"
        />
      </button>
      <div className="flex items-center justify-between gap-2 px-4 pb-2 text-[12px] text-muted">
        <span className="flex min-w-0 items-center gap-2" data-testid="cluster-placement">
          <span className="sr-only">Placement:</span>
          <Badge
            tone={cluster.placementPolicy === 'pack' ? 'violet' : 'blue'}
            title={
              cluster.placementPolicy === 'pack'
                ? 'Pack: fills hosts to free whole hosts'
                : 'Balance: spreads load for headroom'
            }
          >
            {policyLabel(cluster.placementPolicy)}
          </Badge>
          <span className="truncate tabular">{formatOvercommit(cluster.cpuOvercommitRatio)}</span>
        </span>
        <Button
          size="sm"
          variant="ghost"
          icon={<Pencil />}
          onClick={onEditPlacement}
          aria-label={`${cluster.name}: edit placement`}
          className="-mr-2 h-6"
        >
          Placement
        </Button>
      </div>
      <div className="flex items-center justify-between px-4 pb-3 text-[12px] text-muted">
        <span className="tabular">
          up to {formatCount(cluster.maxVms)} VMs · created {formatDate(cluster.createdAt)}
        </span>
        <span className="flex shrink-0 items-center gap-3 whitespace-nowrap">
          <Link
            href={`/admin/clusters/${cluster.id}/what-if`}
            className="font-medium text-accent hover:underline"
            aria-label={`${cluster.name}: what if (N+1, evacuation, placement)`}
          >
            What if
          </Link>
          <Link
            href={`/admin/clusters/${cluster.id}/rebalancing`}
            className="font-medium text-accent hover:underline"
            aria-label={`${cluster.name}: rebalancing (dynamic optimization)`}
          >
            Rebalancing
          </Link>
          <Link href={`/admin/hosts?cluster=${cluster.id}`} className="font-medium text-accent hover:underline">
            Hosts
          </Link>
        </span>
      </div>
    </div>
  );
}
