'use client';

import { HOST_STATES, type HostState } from '@fabric/core/fabric/host-state';
import { SEARCH_MAX_LENGTH } from '@fabric/core/shared/text.schema';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { KeyRound, Server } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { HostStateBadge, hostStateDot } from '@/components/hosts/host-state';
import { buttonClass, Spinner } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Pagination } from '@/components/ui/pagination';
import { RelativeTime } from '@/components/ui/relative-time';
import { SearchInput } from '@/components/ui/search-input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { SortableTH, type SortDir, Table, TD, TH, THead, TR } from '@/components/ui/table';
import { UsageBar } from '@/components/ui/usage-bar';
import { cn } from '@/lib/cn';
import { formatBytes, formatCount, formatLPs, formatMiB } from '@/lib/format';
import { readEnum, readInt, useUrlState } from '@/lib/use-url-state';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs } from '@/trpc/types';

type Sort = NonNullable<RouterInputs['hosts']['list']['sort']>;
// Kept here rather than imported from the zod schema module so the browser bundle does not carry zod.
const HOST_SORTS: readonly Sort[] = ['name', 'state', 'cluster', 'lastHeartbeatAt', 'logicalProcessors', 'memoryMiB'];
const PAGE_SIZES = [25, 50, 100] as const;

// Numbers and recency read best largest / newest first on the first click.
const DESC_FIRST: ReadonlySet<Sort> = new Set(['lastHeartbeatAt', 'logicalProcessors', 'memoryMiB']);

export function HostsView() {
  const trpc = useTRPC();
  const router = useRouter();
  const { params, update } = useUrlState();

  const search = params.get('q') ?? '';
  const state = readEnum(params.get('state'), HOST_STATES);
  const clusterId = params.get('cluster') ?? undefined;
  const sort = readEnum(params.get('sort'), HOST_SORTS) ?? 'name';
  const dir: SortDir = params.get('dir') === 'desc' ? 'desc' : 'asc';
  const page = readInt(params.get('page'), 1, 1, 100_000);
  const pageSize = readEnum(params.get('size'), PAGE_SIZES.map(String)) ? Number(params.get('size')) : 25;

  const input = {
    search: search || undefined,
    state,
    clusterId,
    sort,
    dir,
    page,
    pageSize,
  };
  const hosts = useQuery(trpc.hosts.list.queryOptions(input, { placeholderData: keepPreviousData }));
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const overview = useQuery(trpc.fabric.overview.queryOptions());

  const filtered = Boolean(search || state || clusterId);
  const byState = overview.data?.hostsByState;
  const stateOptions: ChipOption<HostState | 'all'>[] = [
    { value: 'all', label: 'All' },
    ...HOST_STATES.map((s) => ({
      value: s,
      label: s,
      icon: <span aria-hidden="true" className={cn('size-1.5 rounded-full', hostStateDot(s))} />,
      count: byState?.[s],
    })),
  ];

  function onSort(column: Sort) {
    const nextDir: SortDir =
      column === sort ? (dir === 'asc' ? 'desc' : 'asc') : DESC_FIRST.has(column) ? 'desc' : 'asc';
    update({
      sort: column === 'name' && nextDir === 'asc' ? null : column,
      dir: nextDir === 'asc' ? null : nextDir,
      page: null,
    });
  }

  const total = hosts.data?.total;

  return (
    <>
      <PageHeader
        title="Hosts"
        description={
          total === undefined
            ? 'Hyper-V hosts reporting to this control plane'
            : `${formatCount(total)} host${total === 1 ? '' : 's'}${filtered ? ' match the filters' : ' registered'}`
        }
        actions={
          <Link href="/admin/clusters" className={buttonClass('secondary')}>
            <KeyRound aria-hidden="true" />
            Register hosts
          </Link>
        }
      />

      <div className="mb-3 flex flex-wrap items-center gap-2">
        <SearchInput
          maxLength={SEARCH_MAX_LENGTH}
          value={search}
          onChange={(q) => update({ q, page: null })}
          label="Search hosts"
          placeholder="Search hosts by name"
          className="w-full sm:w-72"
        />
        <Chips
          label="Filter by state"
          options={stateOptions}
          value={state ?? 'all'}
          onChange={(value) => update({ state: value === 'all' ? null : value, page: null })}
        />
        <div className="ml-auto flex items-center gap-2">
          <label htmlFor="cluster-filter" className="sr-only">
            Cluster
          </label>
          <Select
            id="cluster-filter"
            value={clusterId ?? ''}
            onChange={(e) => update({ cluster: e.target.value || null, page: null })}
            className="w-48"
          >
            <option value="">All clusters</option>
            {clusters.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </Select>
        </div>
      </div>

      <Card className="overflow-hidden">
        {hosts.isPending ? (
          <TableSkeleton columns={7} />
        ) : hosts.isError && !hosts.data ? (
          <ErrorState
            error={hosts.error}
            title="Could not load hosts"
            onRetry={() => void hosts.refetch()}
            retrying={hosts.isFetching}
          />
        ) : hosts.data.rows.length === 0 ? (
          filtered ? (
            <EmptyState
              icon={<Server />}
              title="No hosts match these filters"
              description="Try another search term, state or cluster."
              action={
                <button
                  type="button"
                  className={buttonClass('secondary', 'sm')}
                  onClick={() => update({ q: null, state: null, cluster: null, page: null })}
                >
                  Clear filters
                </button>
              }
            />
          ) : (
            <EmptyState
              icon={<Server />}
              title="No hosts registered yet"
              description="Create a registration token on a cluster, then start the Fabric agent on the host with the command shown. It appears here within seconds."
              action={
                <Link href="/admin/clusters" className={buttonClass('primary', 'sm')}>
                  <KeyRound aria-hidden="true" />
                  Create a registration token
                </Link>
              }
            />
          )
        ) : (
          <>
            <div className={cn('transition-opacity', hosts.isPlaceholderData && 'opacity-60')}>
              <Table aria-label="Hosts" aria-busy={hosts.isFetching || undefined}>
                <THead>
                  <SortableTH column="name" label="Name" sort={sort} dir={dir} onSort={onSort} />
                  <SortableTH column="state" label="State" sort={sort} dir={dir} onSort={onSort} />
                  <SortableTH column="cluster" label="Cluster" sort={sort} dir={dir} onSort={onSort} />
                  <SortableTH column="lastHeartbeatAt" label="Last heartbeat" sort={sort} dir={dir} onSort={onSort} />
                  <SortableTH
                    column="logicalProcessors"
                    label="CPU"
                    sort={sort}
                    dir={dir}
                    onSort={onSort}
                    align="right"
                    className="text-right"
                  />
                  <SortableTH
                    column="memoryMiB"
                    label="Memory"
                    sort={sort}
                    dir={dir}
                    onSort={onSort}
                    align="right"
                    className="text-right"
                  />
                  <TH className="w-44">Storage</TH>
                  <TH>Agent</TH>
                </THead>
                <tbody>
                  {hosts.data.rows.map((host) => (
                    <TR
                      key={host.id}
                      data-testid="host-row"
                      className="cursor-pointer"
                      onClick={(event) => {
                        // The name link handles keyboard and modified clicks itself.
                        if ((event.target as HTMLElement).closest('a,button')) return;
                        router.push(`/admin/hosts/${host.id}`);
                      }}
                    >
                      <TD>
                        <Link
                          href={`/admin/hosts/${host.id}`}
                          className="font-medium text-fg hover:text-accent hover:underline"
                        >
                          {host.name}
                        </Link>
                      </TD>
                      <TD>
                        <HostStateBadge state={host.state} />
                      </TD>
                      <TD className="text-muted">{host.clusterName}</TD>
                      <TD className="text-muted tabular">
                        <RelativeTime value={host.lastHeartbeatAt} />
                      </TD>
                      <TD className="text-right tabular">{formatLPs(host.logicalProcessors)}</TD>
                      <TD className="text-right tabular">{formatMiB(host.memoryMiB)}</TD>
                      <TD>
                        <div className="flex items-center gap-2">
                          <UsageBar
                            used={host.storageUsedBytes}
                            capacity={host.storageCapacityBytes}
                            label={`${host.name} storage used`}
                            size="sm"
                            className="w-16"
                          />
                          <span className="text-[12px] text-muted tabular">
                            {formatBytes(host.storageUsedBytes)} / {formatBytes(host.storageCapacityBytes)}
                          </span>
                        </div>
                      </TD>
                      <TD className="font-mono text-[12px] text-muted">{host.agentVersion}</TD>
                    </TR>
                  ))}
                </tbody>
              </Table>
            </div>
            <Pagination
              page={page}
              pageSize={pageSize}
              total={hosts.data.total}
              onPage={(p) => update({ page: p === 1 ? null : p })}
              noun="hosts"
              pageSizes={PAGE_SIZES}
              onPageSize={(size) => update({ size: size === 25 ? null : size, page: null })}
            />
          </>
        )}
      </Card>
      {hosts.isFetching && !hosts.isPending ? (
        <p className="mt-2 inline-flex items-center gap-1.5 text-[12px] text-muted">
          <Spinner className="size-3" /> Updating…
        </p>
      ) : null}
    </>
  );
}
