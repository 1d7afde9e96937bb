'use client';

import { WHAT_IF_MAX_VMS } from '@fabric/core/compute/what-if.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Boxes, ChevronRight, FlaskConical, LogOut, Play, RotateCw, Server, ShieldCheck } from 'lucide-react';
import Link from 'next/link';
import { type FormEvent, useState } from 'react';
import { EvacuationPlan } from '@/components/placement/evacuation-plan';
import { type NPlusOne, NPlusOneBadge, plural } from '@/components/placement/n-plus-one';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Skeleton, TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import { errorCode, errorMessage } from '@/lib/errors';
import { formatCount, formatMiB } from '@/lib/format';
import { useUrlState } from '@/lib/use-url-state';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs, RouterOutputs } from '@/trpc/types';

type WhatIfInput = RouterInputs['placement']['whatIf'];
type WhatIfResult = RouterOutputs['placement']['whatIf'];

export function WhatIfView({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const cluster = clusters.data?.find((c) => c.id === clusterId);
  const { params, update } = useUrlState();
  const hostId = params.get('host') ?? '';

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href={`/admin/clusters?cluster=${clusterId}`} className="hover:text-fg hover:underline">
        Clusters
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <Link href={`/admin/hosts?cluster=${clusterId}`} className="hover:text-fg hover:underline">
        {cluster?.name ?? '…'}
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        What if
      </span>
    </nav>
  );

  if (clusters.isSuccess && !cluster) {
    return (
      <>
        <PageHeader title="What if" breadcrumb={breadcrumb} />
        <Card>
          <EmptyState
            icon={<Boxes />}
            title="Cluster not found"
            description="It may have been removed, or the link is wrong."
            action={
              <Link href="/admin/clusters" className={buttonClass('secondary', 'sm')}>
                Back to clusters
              </Link>
            }
          />
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        breadcrumb={breadcrumb}
        title={cluster ? `What if · ${cluster.name}` : 'What if'}
        description="Failure and capacity questions answered on a copy of the cluster. Nothing is created, moved or reserved."
      />
      <div className="flex flex-col gap-5">
        <div className="grid grid-cols-1 items-start gap-5 2xl:grid-cols-2">
          <NPlusOnePanel clusterId={clusterId} onEvacuate={(id) => update({ host: id })} />
          <EvacuatePanel clusterId={clusterId} hostId={hostId} onHost={(id) => update({ host: id || null })} />
        </div>
        <PlacePanel clusterId={clusterId} />
      </div>
    </>
  );
}

// ------------------------------------------------------------------ N+1

function NPlusOnePanel({ clusterId, onEvacuate }: { clusterId: string; onEvacuate: (hostId: string) => void }) {
  const trpc = useTRPC();
  const health = useQuery(trpc.placement.nPlusOne.queryOptions({ clusterId }, { staleTime: 0 }));
  return (
    <Card className="overflow-hidden" aria-labelledby="n-plus-one-heading">
      <CardHeader
        id="n-plus-one-heading"
        title="N+1: lose any one host"
        description="For each connected host: if it failed, could its HA VMs restart on the others?"
        actions={
          health.isSuccess ? (
            <Button
              size="sm"
              variant="ghost"
              icon={<RotateCw />}
              loading={health.isFetching}
              onClick={() => void health.refetch()}
              aria-label="Recheck N+1"
            >
              Recheck
            </Button>
          ) : undefined
        }
      />
      {health.isPending ? (
        <TableSkeleton rows={4} columns={4} />
      ) : health.isError ? (
        <ErrorState
          error={health.error}
          title={errorCode(health.error) === 'NOT_FOUND' ? 'Cluster not found' : 'Could not check N+1'}
          onRetry={() => void health.refetch()}
          retrying={health.isFetching}
          className="py-8"
        />
      ) : health.data.perHost.length === 0 ? (
        <EmptyState
          icon={<Server />}
          title="No connected hosts"
          description="N+1 is checked over connected hosts. Register hosts into this cluster, or bring them out of maintenance."
          className="py-8"
        />
      ) : (
        <NPlusOneBody health={health.data} onEvacuate={onEvacuate} />
      )}
    </Card>
  );
}

function NPlusOneBody({ health, onEvacuate }: { health: NPlusOne; onEvacuate: (hostId: string) => void }) {
  const rows = [...health.perHost].sort(
    (a, b) => b.unplaced - a.unplaced || Number(a.ok) - Number(b.ok) || a.hostName.localeCompare(b.hostName),
  );
  const worst = health.worst;
  return (
    <>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-border px-4 py-2.5 text-[12.5px]">
        <NPlusOneBadge health={health} />
        <span className="text-muted tabular">{plural(health.perHost.length, 'connected host')} checked</span>
      </div>
      <Table aria-label="N+1 per host">
        <THead>
          <TH>Host lost</TH>
          <TH className="text-right">HA VMs re-placed</TH>
          <TH className="text-right">Unplaced</TH>
          <TH>Result</TH>
          <TH>
            <span className="sr-only">Actions</span>
          </TH>
        </THead>
        <tbody>
          {rows.map((row) => (
            <TR key={row.hostId} data-testid="n-plus-one-row">
              <TD className="font-medium">
                <Link href={`/admin/hosts/${row.hostId}`} className="hover:underline">
                  {row.hostName}
                </Link>
              </TD>
              <TD className="text-right tabular">{formatCount(row.placed)}</TD>
              <TD className={cn('text-right tabular', row.unplaced > 0 ? 'font-semibold text-danger' : 'text-muted')}>
                {formatCount(row.unplaced)}
              </TD>
              <TD>
                <Badge tone={row.ok ? 'green' : 'amber'} dot>
                  {row.ok ? 'all restart' : 'some stranded'}
                </Badge>
              </TD>
              <TD className="text-right">
                <Button
                  size="sm"
                  variant="ghost"
                  icon={<LogOut />}
                  onClick={() => {
                    onEvacuate(row.hostId);
                    document.getElementById('evacuate-heading')?.scrollIntoView({ block: 'start', behavior: 'smooth' });
                  }}
                  aria-label={`Plan evacuation of ${row.hostName}`}
                >
                  Evacuate…
                </Button>
              </TD>
            </TR>
          ))}
        </tbody>
      </Table>
      {worst.unplaced.length > 0 ? (
        <div className="border-t border-border px-4 py-3">
          <h3 className="text-[12.5px] font-semibold text-fg">
            If {worst.hostName} fails, {plural(worst.unplaced.length, 'HA VM')} would not restart
          </h3>
          <ul className="mt-2 max-h-64 divide-y divide-border overflow-y-auto rounded-md border border-border text-[12.5px]">
            {worst.unplaced.map((vm, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: names repeat across tenants
              <li key={`${vm.vmId ?? vm.name}-${i}`} className="flex flex-col gap-0.5 px-3 py-2 sm:flex-row sm:gap-3">
                <span className="shrink-0 font-medium sm:w-44 sm:truncate">
                  {vm.vmId ? (
                    <Link href={`/admin/vms/${vm.vmId}`} className="hover:underline">
                      {vm.name}
                    </Link>
                  ) : (
                    vm.name
                  )}
                </span>
                <span className="text-muted">{vm.summary}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p className="flex items-center gap-2 border-t border-border px-4 py-2.5 text-[12.5px] text-muted">
          <ShieldCheck className="size-3.5 text-emerald-600 dark:text-emerald-400" aria-hidden="true" />
          Every HA VM restarts elsewhere whichever host fails.
        </p>
      )}
    </>
  );
}

// ------------------------------------------------------------ evacuation

function EvacuatePanel({
  clusterId,
  hostId,
  onHost,
}: {
  clusterId: string;
  hostId: string;
  onHost: (hostId: string) => void;
}) {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions({ clusterId, pageSize: 100, sort: 'name', dir: 'asc' }));
  const selected = hosts.data?.rows.find((h) => h.id === hostId);
  return (
    <Card className="overflow-hidden" aria-labelledby="evacuate-heading">
      <CardHeader
        id="evacuate-heading"
        title="Evacuate a host"
        description="Where each of its VMs would go if it were emptied, highest HA priority first. Nothing is moved."
      />
      <div className="flex flex-wrap items-end gap-3 border-b border-border px-4 py-3">
        <Field label="Host to empty" htmlFor="evacuate-host" className="w-full sm:w-72">
          {hosts.isPending ? (
            <Skeleton className="h-8 w-full rounded-md" />
          ) : (
            <Select
              id="evacuate-host"
              value={selected ? selected.id : ''}
              disabled={!hosts.isSuccess}
              onChange={(e) => onHost(e.target.value)}
            >
              <option value="">Choose a host…</option>
              {hosts.data?.rows.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.name} ({h.state})
                </option>
              ))}
            </Select>
          )}
        </Field>
        {selected ? (
          <Link
            href={`/admin/hosts/${selected.id}`}
            className="pb-1.5 text-[12.5px] font-medium text-accent hover:underline"
          >
            Open {selected.name}
          </Link>
        ) : null}
      </div>
      {hosts.isError ? (
        <ErrorState
          error={hosts.error}
          title="Could not load the cluster's hosts"
          onRetry={() => void hosts.refetch()}
          retrying={hosts.isFetching}
          className="py-8"
        />
      ) : hosts.isSuccess && hosts.data.rows.length === 0 ? (
        <EmptyState icon={<Server />} title="No hosts in this cluster" className="py-8" />
      ) : selected ? (
        <EvacuationPlan key={selected.id} hostId={selected.id} />
      ) : (
        <EmptyState
          icon={<LogOut />}
          title="Choose a host"
          description="Pick a host above, or “Evacuate…” on an N+1 row, to see its evacuation plan."
          className="py-8"
        />
      )}
    </Card>
  );
}

// ----------------------------------------------------------- place N VMs

interface Draft {
  tenantId: string;
  count: string;
  vcpus: string;
  memoryGiB: string;
  diskGiB: string;
}
type Errors = Partial<Record<keyof Draft, string>>;

// The API's own limit: the form stops where the server would refuse.
const MAX_BATCH = WHAT_IF_MAX_VMS;

function validate(d: Draft): Errors {
  const errors: Errors = {};
  const count = Number(d.count);
  if (!d.tenantId) errors.tenantId = 'Choose the tenant whose VMs these would be';
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH) errors.count = `A whole number, 1–${MAX_BATCH}`;
  const vcpus = Number(d.vcpus);
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 64) errors.vcpus = 'A whole number, 1–64 (Hyper-V limit)';
  const mem = Number(d.memoryGiB);
  if (!d.memoryGiB || !Number.isFinite(mem) || mem * 1024 < 32 || mem > 1024) errors.memoryGiB = '32 MiB to 1,024 GiB';
  const disk = Number(d.diskGiB);
  if (!d.diskGiB || !Number.isFinite(disk) || disk <= 0 || disk > 65_536)
    errors.diskGiB = 'More than 0, at most 65,536 GiB (64 TiB)';
  return errors;
}

function batchOf(clusterId: string, d: Draft): WhatIfInput {
  const count = Number(d.count);
  const vm = {
    vcpus: Number(d.vcpus),
    memory: { mode: 'static' as const, sizeMiB: Math.round(Number(d.memoryGiB) * 1024) },
    disks: [{ sizeGiB: Number(d.diskGiB) }],
  };
  return {
    clusterId,
    tenantId: d.tenantId,
    vms: Array.from({ length: count }, (_, i) => ({ ...vm, name: `whatif-${i + 1}` })),
  };
}

interface Run {
  input: Draft;
  tenantName: string;
  result: WhatIfResult;
}

function PlacePanel({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  const [draft, setDraft] = useState<Draft>({ tenantId: '', count: '10', vcpus: '2', memoryGiB: '4', diskGiB: '20' });
  const [errors, setErrors] = useState<Errors>({});
  const [run, setRun] = useState<Run | null>(null);
  const tenantId = draft.tenantId || tenants.data?.[0]?.id || '';
  const effective: Draft = { ...draft, tenantId };

  const whatIf = useMutation({
    mutationFn: (input: WhatIfInput) =>
      queryClient.fetchQuery({ ...trpc.placement.whatIf.queryOptions(input), staleTime: 0, gcTime: 0 }),
    onSuccess: (result) =>
      setRun({
        input: effective,
        tenantName: tenants.data?.find((t) => t.id === tenantId)?.name ?? 'the tenant',
        result,
      }),
  });

  function set<K extends keyof Draft>(key: K, value: Draft[K]) {
    setDraft((d) => ({ ...d, [key]: value }));
    if (errors[key]) setErrors((e) => ({ ...e, [key]: undefined }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = validate(effective);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      requestAnimationFrame(() => document.querySelector<HTMLElement>('#place-form [aria-invalid="true"]')?.focus());
      return;
    }
    whatIf.mutate(batchOf(clusterId, effective));
  }

  const count = Number(draft.count);
  const label = Number.isInteger(count) && count >= 1 && count <= MAX_BATCH ? `Place ${count} VMs` : 'Place VMs';

  return (
    <Card className="overflow-hidden" aria-labelledby="place-heading">
      <CardHeader
        id="place-heading"
        title="Place these N VMs"
        description="Would N identical VMs fit, and where? Placed one after another on a copy of the cluster, as real creates would be."
        actions={
          <Badge tone="blue">
            <FlaskConical className="size-3" aria-hidden="true" />
            Nothing is created
          </Badge>
        }
      />
      <form id="place-form" onSubmit={submit} noValidate className="border-b border-border px-4 py-4">
        <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-[minmax(0,14rem)_repeat(4,minmax(0,8.5rem))_auto] xl:items-start">
          <Field label="Tenant" htmlFor="wi-tenant" error={errors.tenantId} className="col-span-2 md:col-span-1">
            {tenants.isPending ? (
              <Skeleton className="h-8 w-full rounded-md" />
            ) : (
              <Select
                {...describedBy('wi-tenant', errors.tenantId)}
                value={tenantId}
                onChange={(e) => set('tenantId', e.target.value)}
                disabled={!tenants.isSuccess || tenants.data.length === 0}
              >
                {tenants.data?.length === 0 ? <option value="">No tenants yet</option> : null}
                {tenants.data?.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <NumberField
            id="wi-count"
            label="Number of VMs"
            value={draft.count}
            onChange={(v) => set('count', v)}
            error={errors.count}
            min={1}
            max={MAX_BATCH}
            unit="VMs"
            hint={`At most ${formatCount(MAX_BATCH)}`}
          />
          <NumberField
            id="wi-vcpus"
            label="vCPUs each"
            value={draft.vcpus}
            onChange={(v) => set('vcpus', v)}
            error={errors.vcpus}
            min={1}
            max={64}
            unit="vCPU"
          />
          <NumberField
            id="wi-memory"
            label="Memory each"
            value={draft.memoryGiB}
            onChange={(v) => set('memoryGiB', v)}
            error={errors.memoryGiB}
            min={0.03125}
            max={1024}
            step={0.5}
            unit="GiB"
          />
          <NumberField
            id="wi-disk"
            label="Disk each"
            value={draft.diskGiB}
            onChange={(v) => set('diskGiB', v)}
            error={errors.diskGiB}
            min={1}
            max={65_536}
            unit="GiB"
          />
          <div className="col-span-2 flex items-end md:col-span-1 xl:col-span-1 xl:pt-[1.625rem]">
            <Button type="submit" variant="primary" icon={<Play />} loading={whatIf.isPending} className="w-full">
              {label}
            </Button>
          </div>
        </div>
        {tenants.isError ? (
          <div className="mt-3">
            <InlineError>Could not load tenants: {errorMessage(tenants.error)}</InlineError>
          </div>
        ) : null}
        {whatIf.isError ? (
          <div className="mt-3">
            <InlineError>
              This run failed: {errorMessage(whatIf.error)}
              {run ? ' The results below are from the previous run.' : ''}
            </InlineError>
          </div>
        ) : null}
        <p className="mt-3 text-[12px] text-muted">
          VMs are named <span className="font-mono text-fg">whatif-1…N</span>, with static memory and one dynamic disk.
          Quotas are not checked; tenant affinity and dedicated hosts are.
        </p>
      </form>
      {whatIf.isPending && !run ? (
        <TableSkeleton rows={5} columns={3} />
      ) : run ? (
        <PlaceResults run={run} stale={whatIf.isPending || whatIf.isError} />
      ) : (
        <EmptyState
          icon={<FlaskConical />}
          title="No what-if run yet"
          description="Fill in the VM size and press Place to see where they would land."
          className="py-8"
        />
      )}
    </Card>
  );
}

function NumberField({
  id,
  label,
  value,
  onChange,
  error,
  min,
  max,
  step = 1,
  unit,
  hint,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  min: number;
  max: number;
  step?: number;
  unit: string;
  hint?: string;
}) {
  return (
    <Field label={label} htmlFor={id} error={error} hint={hint}>
      <div className="relative">
        <Input
          {...describedBy(id, error)}
          type="number"
          inputMode="decimal"
          min={min}
          max={max}
          step={step}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          className="w-full pr-11 tabular"
        />
        <span
          aria-hidden="true"
          className="pointer-events-none absolute inset-y-0 right-2.5 flex items-center text-[12px] text-subtle"
        >
          {unit}
        </span>
      </div>
    </Field>
  );
}

function PlaceResults({ run, stale }: { run: Run; stale: boolean }) {
  const { result, input } = run;
  const total = result.results.length;
  const unplaced = total - result.placed;
  const byHost = new Map<string, { hostId: string; hostName: string; count: number }>();
  for (const r of result.results) {
    if (!r.hostId || !r.hostName) continue;
    const entry = byHost.get(r.hostId) ?? { hostId: r.hostId, hostName: r.hostName, count: 0 };
    entry.count += 1;
    byHost.set(r.hostId, entry);
  }
  const hosts = [...byHost.values()].sort((a, b) => b.count - a.count || a.hostName.localeCompare(b.hostName));
  const most = Math.max(1, ...hosts.map((h) => h.count), unplaced);
  const memMiB = Math.round(Number(input.memoryGiB) * 1024);

  return (
    <div className={cn('transition-opacity', stale && 'opacity-60')} aria-busy={stale || undefined}>
      <div
        className="flex flex-wrap items-center gap-x-3 gap-y-1.5 border-b border-border px-4 py-3"
        aria-live="polite"
      >
        <Badge tone={unplaced === 0 ? 'green' : result.placed === 0 ? 'red' : 'amber'} dot>
          {unplaced === 0 ? 'All fit' : `${formatCount(unplaced)} would not fit`}
        </Badge>
        <p className="text-[13px] text-fg tabular" data-testid="what-if-placed">
          <span className="font-semibold">
            {formatCount(result.placed)} of {formatCount(total)} placed
          </span>
        </p>
        <p className="text-[12.5px] text-muted tabular">
          {run.tenantName} · {formatCount(total)} × {input.vcpus} vCPU, {formatMiB(memMiB)}, {input.diskGiB} GiB disk
        </p>
      </div>
      <div className="grid grid-cols-1 lg:grid-cols-[minmax(0,20rem)_1fr]">
        <section aria-labelledby="per-host-heading" className="border-b border-border p-4 lg:border-r lg:border-b-0">
          <h3 id="per-host-heading" className="text-[12.5px] font-semibold text-fg">
            Per host
          </h3>
          <ul className="mt-2.5 flex flex-col gap-2" aria-label="VMs per host">
            {hosts.map((h) => (
              <HostCount
                key={h.hostId}
                label={h.hostName}
                href={`/admin/hosts/${h.hostId}`}
                count={h.count}
                most={most}
              />
            ))}
            {unplaced > 0 ? <HostCount label="Not placed" count={unplaced} most={most} danger /> : null}
          </ul>
        </section>
        <div className="max-h-[28rem] overflow-y-auto">
          <Table aria-label="What-if placement results">
            <THead>
              <TH>VM</TH>
              <TH>Host</TH>
            </THead>
            <tbody>
              {result.results.map((r) => (
                <TR key={r.name} data-testid="what-if-row">
                  <TD className="font-mono text-[12px]">{r.name}</TD>
                  <TD className="whitespace-normal py-2">
                    {r.hostId && r.hostName ? (
                      <Link href={`/admin/hosts/${r.hostId}`} className="font-medium hover:underline">
                        {r.hostName}
                      </Link>
                    ) : (
                      <span className="flex flex-col gap-0.5">
                        <span>
                          <Badge tone="red">not placed</Badge>
                        </span>
                        <span className="text-[12px] text-muted">{r.summary}</span>
                      </span>
                    )}
                  </TD>
                </TR>
              ))}
            </tbody>
          </Table>
        </div>
      </div>
    </div>
  );
}

function HostCount({
  label,
  href,
  count,
  most,
  danger = false,
}: {
  label: string;
  href?: string;
  count: number;
  most: number;
  danger?: boolean;
}) {
  return (
    <li className="grid grid-cols-[minmax(0,7rem)_1fr_auto] items-center gap-2.5 text-[12.5px]">
      <span className={cn('truncate', danger ? 'font-medium text-danger' : 'text-fg')}>
        {href ? (
          <Link href={href} className="hover:underline">
            {label}
          </Link>
        ) : (
          label
        )}
      </span>
      <span className="h-1.5 overflow-hidden rounded-full bg-track" aria-hidden="true">
        <span
          className={cn('block h-full rounded-full', danger ? 'bg-red-500' : 'bg-accent')}
          style={{ width: `${(count / most) * 100}%` }}
        />
      </span>
      <span className="w-8 text-right font-medium tabular">{formatCount(count)}</span>
    </li>
  );
}
