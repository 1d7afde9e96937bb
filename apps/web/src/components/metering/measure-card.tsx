'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Gauge } from 'lucide-react';
import { Figure, FiguresSkeleton, NetworkTable } from '@/components/metering/figures';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { formatCpu, formatDuration } from '@/components/vms/vm-metering-card';
import { cn } from '@/lib/cn';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatCount, formatDateTime, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs, RouterOutputs } from '@/trpc/types';

export type MeasureScope = RouterInputs['metering']['measure']['scope'];
type Measurement = RouterOutputs['metering']['measure'];

const GIB_BYTES = 1024 ** 3;
/**
 * "Totals for the period": Measure-VM's figures for a tenant's or a resource
 * pool's (cluster's) VMs together, and the heaviest CPU users one by one.
 * Averages are over the period's seconds, so they add up across VMs.
 */
export function MeasureCard({ scope, period }: { scope: MeasureScope | null; period: { from: Date; to: Date } }) {
  const trpc = useTRPC();
  const measure = useQuery(
    trpc.metering.measure.queryOptions(
      { scope: scope ?? { kind: 'tenant' }, from: period.from, to: period.to },
      { enabled: scope !== null, placeholderData: keepPreviousData },
    ),
  );
  const data = measure.data;
  const stale = measure.isPlaceholderData;

  return (
    <section aria-labelledby="measure-title" data-testid="measure-totals">
      <Card className="overflow-hidden">
        <CardHeader
          id="measure-title"
          title="Totals for the period"
          description={
            <>
              {formatDateTime(period.from)} – {formatDateTime(period.to)} ·{' '}
              {scope?.kind === 'pool'
                ? 'every VM now in this resource pool (resource pool = cluster), with its whole history'
                : 'all VMs of the tenant'}
              ; averages are over the whole period, so a VM that reported nothing adds zero
            </>
          }
        />
        {scope === null ? (
          <EmptyState title="Choose what to measure" description="Totals appear here." className="py-10" />
        ) : measure.isPending ? (
          <FiguresSkeleton label="Loading totals" tableHeight="h-24" />
        ) : measure.isError && !data ? (
          <ErrorState
            error={measure.error}
            title="Could not measure usage"
            onRetry={() => void measure.refetch()}
            retrying={measure.isFetching}
            className="py-10"
          />
        ) : data ? (
          <div className={cn('transition-opacity', stale && 'opacity-60')} aria-busy={stale || undefined}>
            {measure.isError ? (
              <div className="px-4 pt-3">
                <InlineError>Could not refresh: {errorMessage(measure.error)}</InlineError>
              </div>
            ) : null}
            <MeasureBody data={data} />
          </div>
        ) : null}
      </Card>
    </section>
  );
}

function MeasureBody({ data }: { data: Measurement }) {
  if (data.vmCount === 0) {
    return (
      <EmptyState
        icon={<Gauge />}
        title="No usage in this period"
        description="No VM here reported samples between these times. Try a longer period."
        className="py-10"
      />
    );
  }
  return (
    <>
      <p className="px-4 pt-3 text-[12.5px] text-muted" data-testid="measure-coverage">
        <span className="font-medium text-fg tabular">
          {formatCount(data.vmCount)} VM{data.vmCount === 1 ? '' : 's'}
        </span>{' '}
        metered for <span className="tabular">{formatDuration(data.meteredSeconds)}</span> in all (
        <span className="tabular">{formatCount(data.samples)} samples</span>)
      </p>
      <dl className="grid grid-cols-2 gap-x-5 gap-y-4 p-4 sm:grid-cols-3 lg:grid-cols-4">
        <Figure label="Average CPU" value={formatCpu(data.avgCpuMhz)} />
        <Figure label="Average memory" value={formatMiB(data.avgMemoryMiB)} />
        <Figure
          label="Memory, least / most of any VM"
          value={`${formatMiB(data.minMemoryMiB)} / ${formatMiB(data.maxMemoryMiB)}`}
        />
        <Figure label="VM-hours running" value={formatCount(Math.round(data.runningVmHours * 10) / 10)} />
        <Figure
          label="Disk allocated at the end"
          value={formatBytes(data.totalDiskGiB * GIB_BYTES)}
          sub={`average ${formatBytes(data.avgDiskGiB * GIB_BYTES)}`}
        />
        <Figure label="Disk read" value={formatBytes(data.diskReadBytes)} />
        <Figure label="Disk written" value={formatBytes(data.diskWriteBytes)} />
      </dl>
      <div className="border-t border-border">
        <NetworkTable
          label="Network traffic for the period by remote address"
          network={data.network}
          acls={data.networkAcls}
        />
      </div>
      <div className="border-t border-border">
        <Table aria-label="Usage per VM, heaviest CPU first">
          <THead>
            <TH>VM</TH>
            <TH className="text-right" title="Its share of the average CPU above">
              CPU (share)
            </TH>
            <TH className="text-right" title="Measure-VM: average while metered">
              Avg CPU
            </TH>
            <TH className="text-right">Avg memory</TH>
            <TH className="text-right">Disk at end</TH>
            <TH className="text-right">Network in / out</TH>
            <TH className="text-right">Hours running</TH>
          </THead>
          <tbody>
            {data.vms.map((vm) => (
              <TR key={vm.vmId}>
                <TD className="font-medium">{vm.name || vm.vmId.slice(0, 8)}</TD>
                <TD className="text-right tabular">{formatCpu(vm.cpuShareMhz)}</TD>
                <TD className="text-right tabular">{formatCpu(vm.avgCpuMhz)}</TD>
                <TD className="text-right tabular">{formatMiB(vm.avgMemoryMiB)}</TD>
                <TD className="text-right tabular">{formatBytes(vm.totalDiskGiB * GIB_BYTES)}</TD>
                <TD className="text-right tabular">
                  {formatBytes(vm.networkInBytes)} / {formatBytes(vm.networkOutBytes)}
                </TD>
                <TD className="text-right tabular">{formatCount(Math.round(vm.runningVmHours * 10) / 10)}</TD>
              </TR>
            ))}
          </tbody>
        </Table>
        {data.otherVms > 0 ? (
          <p className="px-4 py-2.5 text-[12px] text-muted">
            and {formatCount(data.otherVms)} more VM{data.otherVms === 1 ? '' : 's'} with less CPU (counted in the
            totals above)
          </p>
        ) : null}
      </div>
    </>
  );
}

/** Resource pools are clusters: the list for provider admins and finance (from the fabric overview). */
export function PoolSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.fabric.overview.queryOptions());
  if (overview.isError) return <InlineError>Could not load clusters: {errorMessage(overview.error)}</InlineError>;
  const clusters = overview.data?.clustersSummary ?? [];
  return (
    <Field
      label="Resource pool"
      htmlFor="usage-pool"
      className="w-64"
      hint={overview.data && clusters.length === 0 ? 'No clusters yet' : 'A resource pool is a cluster'}
    >
      <Select id="usage-pool" value={value} disabled={overview.isPending} onChange={(e) => onChange(e.target.value)}>
        <option value="">{overview.isPending ? 'Loading clusters…' : 'Choose a cluster'}</option>
        {clusters.map((cluster) => (
          <option key={cluster.id} value={cluster.id}>
            {cluster.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}
