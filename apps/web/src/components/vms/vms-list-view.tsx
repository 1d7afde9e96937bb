'use client';

import type { VmAction, VmState } from '@fabric/core/compute/vm.schema';
import { VM_SEARCH_MAX_LENGTH } from '@fabric/core/compute/vm.schema';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Asterisk, MonitorCog, Plus } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClass, Spinner } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Pagination } from '@/components/ui/pagination';
import { RelativeTime } from '@/components/ui/relative-time';
import { SearchInput } from '@/components/ui/search-input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { SortableTH, type SortDir, Table, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import { formatBytes, formatCount, formatMiB } from '@/lib/format';
import { useRememberListQuery } from '@/lib/list-return';
import { readEnum, readInt, useUrlState } from '@/lib/use-url-state';
import { useTRPC, useTRPCClient } from '@/trpc/client';
import type { RouterInputs, RouterOutputs } from '@/trpc/types';
import { BulkActionBar, type BulkOutcome, BulkResults, PatternDialog } from './bulk-actions';
import { MyQuotaStrip } from './quota-strip';
import { RowTaskProgress } from './task-progress';
import { VM_STATE_LIST, VmStateBadge, vmStateDot } from './vm-state';

type Sort = NonNullable<RouterInputs['vms']['list']['sort']>;
export type VmRow = RouterOutputs['vms']['list']['rows'][number];
const VM_SORTS: readonly Sort[] = ['name', 'state', 'vcpus', 'memoryMiB', 'createdAt'];
const DESC_FIRST: ReadonlySet<Sort> = new Set(['vcpus', 'memoryMiB', 'createdAt']);
const PAGE_SIZES = [25, 50, 100] as const;

/**
 * The VM table of both consoles: the portal sees its tenant's VMs, the
 * provider admin everyone's with tenant and host columns. Search, state,
 * sort and page live in the URL and are applied by the server.
 */
export function VmsListView({ area }: { area: 'portal' | 'admin' }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const router = useRouter();
  const { params, update } = useUrlState();
  const admin = area === 'admin';
  const base = admin ? '/admin/vms' : '/portal/vms';
  useRememberListQuery(base, params.toString());

  const search = params.get('q') ?? '';
  const state = readEnum(params.get('state'), VM_STATE_LIST);
  const tenantId = admin ? (params.get('tenant') ?? undefined) : undefined;
  const sort = readEnum(params.get('sort'), VM_SORTS) ?? 'name';
  const dir: SortDir = params.get('dir') === 'desc' ? 'desc' : 'asc';
  const page = readInt(params.get('page'), 1, 1, 100_000);
  const pageSize = readEnum(params.get('size'), PAGE_SIZES.map(String)) ? Number(params.get('size')) : 25;

  const vms = useQuery(
    trpc.vms.list.queryOptions(
      { search: search || undefined, state, tenantId, sort, dir, page, pageSize },
      { placeholderData: keepPreviousData },
    ),
  );
  const tenants = useQuery(trpc.tenants.list.queryOptions(undefined, { enabled: admin }));

  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState<BulkOutcome | null>(null);
  const [patternOpen, setPatternOpen] = useState(false);

  const rows = vms.data?.rows ?? [];
  const selectedRows = rows.filter((r) => selected.has(r.id));
  const allSelected = rows.length > 0 && selectedRows.length === rows.length;

  async function refresh() {
    await queryClient.invalidateQueries({ queryKey: trpc.vms.pathKey() });
  }

  const bulk = useMutation({
    mutationFn: async ({ action, targets }: { action: VmAction; targets: VmRow[] }) => {
      // One call per VM, so each VM gets its own answer (a refusal for one does not hide the others).
      const settled = await Promise.allSettled(targets.map((vm) => client.vms.act.mutate({ id: vm.id, action })));
      return {
        action,
        results: settled.map((result, i) => {
          const vm = targets[i];
          return {
            vmId: vm?.id ?? '',
            name: vm?.name ?? '',
            ok: result.status === 'fulfilled',
            message:
              result.status === 'fulfilled'
                ? 'Requested'
                : result.reason instanceof Error
                  ? result.reason.message
                  : 'Failed',
            taskId: result.status === 'fulfilled' ? result.value.taskId : null,
          };
        }),
      } satisfies BulkOutcome;
    },
    onSuccess: async (result) => {
      setOutcome(result);
      setSelected(new Set());
      await refresh();
    },
  });

  const pattern = useMutation(
    trpc.vms.actOnPattern.mutationOptions({
      onSuccess: async (results, input) => {
        setOutcome({ action: input.action, pattern: input.pattern, results });
        setPatternOpen(false);
        await refresh();
      },
    }),
  );

  const filtered = Boolean(search || state || tenantId);
  const stateOptions: ChipOption<VmState | 'all'>[] = [
    { value: 'all', label: 'All' },
    ...VM_STATE_LIST.map((s) => ({
      value: s,
      label: s,
      icon: <span aria-hidden="true" className={cn('size-1.5 rounded-full', vmStateDot(s))} />,
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

  function toggle(id: string) {
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  const total = vms.data?.total;
  const columns = admin ? 10 : 8;

  return (
    <>
      <PageHeader
        title="Virtual machines"
        description={
          total === undefined
            ? admin
              ? 'Every tenant’s VMs across the fabric'
              : 'Your tenant’s VMs'
            : `${formatCount(total)} VM${total === 1 ? '' : 's'}${filtered ? ' match the filters' : admin ? ' across all tenants' : ''}`
        }
        actions={
          <>
            <Button icon={<Asterisk />} onClick={() => setPatternOpen(true)}>
              Act by name pattern
            </Button>
            {admin ? null : (
              <Link href="/portal/vms/new" className={buttonClass('primary')}>
                <Plus aria-hidden="true" />
                New VM
              </Link>
            )}
          </>
        }
      />

      {admin ? null : <MyQuotaStrip className="mb-5" />}

      <div className="mb-3 flex flex-wrap items-center gap-2">
        <SearchInput
          maxLength={VM_SEARCH_MAX_LENGTH}
          value={search}
          onChange={(q) => update({ q, page: null })}
          label="Search VMs"
          placeholder="Search VMs by name"
          className="w-full sm:w-72"
        />
        <Chips
          label="Filter by state"
          options={stateOptions}
          value={state ?? 'all'}
          onChange={(value) => update({ state: value === 'all' ? null : value, page: null })}
        />
        {admin ? (
          <div className="ml-auto">
            <label htmlFor="tenant-filter" className="sr-only">
              Tenant
            </label>
            <select
              id="tenant-filter"
              value={tenantId ?? ''}
              onChange={(e) => update({ tenant: e.target.value || null, page: null })}
              className="h-8 w-48 rounded-md border border-border-strong bg-surface px-2.5 text-[13px] text-fg shadow-xs"
            >
              <option value="">All tenants</option>
              {tenants.data?.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </div>

      {outcome ? <BulkResults outcome={outcome} base={base} onDismiss={() => setOutcome(null)} /> : null}

      <Card className="overflow-hidden">
        {selectedRows.length > 0 ? (
          <BulkActionBar
            selected={selectedRows}
            pending={bulk.isPending ? bulk.variables.action : null}
            onAct={(action) => bulk.mutate({ action, targets: selectedRows })}
            onClear={() => setSelected(new Set())}
          />
        ) : null}
        {vms.isPending ? (
          <TableSkeleton columns={columns - 2} />
        ) : vms.isError && !vms.data ? (
          <ErrorState
            error={vms.error}
            title="Could not load VMs"
            onRetry={() => void vms.refetch()}
            retrying={vms.isFetching}
          />
        ) : rows.length === 0 ? (
          filtered ? (
            <EmptyState
              icon={<MonitorCog />}
              title="No VMs match these filters"
              description="Try another search term or state."
              action={
                <button
                  type="button"
                  className={buttonClass('secondary', 'sm')}
                  onClick={() => update({ q: null, state: null, tenant: null, page: null })}
                >
                  Clear filters
                </button>
              }
            />
          ) : admin ? (
            <EmptyState
              icon={<MonitorCog />}
              title="No VMs yet"
              description="Tenants create VMs from their portal; they appear here with the host that runs them."
            />
          ) : (
            <EmptyState
              icon={<MonitorCog />}
              title="No virtual machines yet"
              description="Create your first VM: pick its size, disks and networks, and Fabric places it on a host with room."
              action={
                <Link href="/portal/vms/new" className={buttonClass('primary', 'sm')}>
                  <Plus aria-hidden="true" />
                  New VM
                </Link>
              }
            />
          )
        ) : (
          <>
            <div className={cn('transition-opacity', vms.isPlaceholderData && 'opacity-60')}>
              <Table aria-label="Virtual machines" aria-busy={vms.isFetching || undefined}>
                <THead>
                  <TH className="w-8">
                    <input
                      type="checkbox"
                      aria-label="Select all VMs on this page"
                      checked={allSelected}
                      ref={(el) => {
                        if (el) el.indeterminate = selectedRows.length > 0 && !allSelected;
                      }}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
                      className="size-3.5 accent-[var(--color-accent)]"
                    />
                  </TH>
                  <SortableTH column="name" label="Name" sort={sort} dir={dir} onSort={onSort} />
                  <SortableTH column="state" label="State" sort={sort} dir={dir} onSort={onSort} />
                  {admin ? <TH>Tenant</TH> : null}
                  {admin ? <TH>Host</TH> : null}
                  <SortableTH
                    column="vcpus"
                    label="vCPUs"
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
                  <TH className="text-right">Storage</TH>
                  <TH>Tags</TH>
                  <SortableTH column="createdAt" label="Created" sort={sort} dir={dir} onSort={onSort} />
                </THead>
                <tbody>
                  {rows.map((vm) => (
                    <TR
                      key={vm.id}
                      data-testid="vm-row"
                      data-vm-name={vm.name}
                      aria-selected={selected.has(vm.id)}
                      className={cn('cursor-pointer', selected.has(vm.id) && 'bg-accent-soft/40')}
                      onClick={(event) => {
                        if ((event.target as HTMLElement).closest('a,button,input,label')) return;
                        router.push(`${base}/${vm.id}`);
                      }}
                    >
                      <TD className="w-8">
                        <input
                          type="checkbox"
                          aria-label={`Select ${vm.name}`}
                          checked={selected.has(vm.id)}
                          onChange={() => toggle(vm.id)}
                          className="size-3.5 accent-[var(--color-accent)]"
                        />
                      </TD>
                      <TD>
                        <Link
                          href={`${base}/${vm.id}`}
                          className="font-medium text-fg hover:text-accent hover:underline"
                        >
                          {vm.name}
                        </Link>
                      </TD>
                      <TD className="py-1.5">
                        <VmStateBadge state={vm.state} title={vm.stateReason} haRecovery={vm.haRecovery} />
                        <RowTaskProgress vmId={vm.id} name={vm.name} />
                      </TD>
                      {admin ? (
                        <TD className="text-muted">
                          <Link href={`/admin/tenants/${vm.tenantId}`} className="hover:text-fg hover:underline">
                            {vm.tenantName}
                          </Link>
                        </TD>
                      ) : null}
                      {admin ? (
                        <TD className="text-muted">
                          {vm.hostId ? (
                            <Link href={`/admin/hosts/${vm.hostId}`} className="hover:text-fg hover:underline">
                              {vm.hostName}
                            </Link>
                          ) : (
                            '—'
                          )}
                        </TD>
                      ) : null}
                      <TD className="text-right tabular">{formatCount(vm.vcpus)}</TD>
                      <TD className="text-right tabular">
                        {formatMiB(vm.memoryMiB)}
                        {vm.dynamicMemory ? (
                          <span className="ml-1 text-[11px] text-muted" title="Dynamic Memory: startup memory shown">
                            dyn
                          </span>
                        ) : null}
                      </TD>
                      <TD className="text-right tabular">{formatBytes(vm.storageBytes)}</TD>
                      <TD>
                        <div className="flex max-w-48 gap-1 overflow-hidden">
                          {vm.tags.length === 0 ? <span className="text-subtle">—</span> : null}
                          {vm.tags.slice(0, 3).map((tag) => (
                            <Badge key={tag}>{tag}</Badge>
                          ))}
                          {vm.tags.length > 3 ? (
                            <span className="text-[11.5px] text-muted">+{vm.tags.length - 3}</span>
                          ) : null}
                        </div>
                      </TD>
                      <TD className="text-muted tabular">
                        <RelativeTime value={vm.createdAt} />
                      </TD>
                    </TR>
                  ))}
                </tbody>
              </Table>
            </div>
            <Pagination
              page={page}
              pageSize={pageSize}
              total={vms.data.total}
              onPage={(p) => {
                setSelected(new Set());
                update({ page: p === 1 ? null : p });
              }}
              noun="VMs"
              pageSizes={PAGE_SIZES}
              onPageSize={(size) => update({ size: size === 25 ? null : size, page: null })}
            />
          </>
        )}
      </Card>
      {vms.isFetching && !vms.isPending ? (
        <p className="mt-2 inline-flex items-center gap-1.5 text-[12px] text-muted">
          <Spinner className="size-3" /> Updating…
        </p>
      ) : null}

      <PatternDialog
        open={patternOpen}
        onClose={() => {
          setPatternOpen(false);
          pattern.reset();
        }}
        pending={pattern.isPending}
        error={pattern.error}
        onSubmit={(input) => pattern.mutate(input)}
      />
    </>
  );
}
