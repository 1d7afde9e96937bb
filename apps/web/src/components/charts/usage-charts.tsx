'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Activity } from 'lucide-react';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { cn } from '@/lib/cn';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs } from '@/trpc/types';
import { byteScale } from './chart-scale';
import { TimeSeriesChart } from './time-series-chart';
import type { UsagePeriod } from './usage-period';

export type UsageScope = RouterInputs['metering']['usageSeries']['scope'];

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

function formatCpu(mhz: number): string {
  if (mhz >= 1000) return `${Number((mhz / 1000).toFixed(2))} GHz`;
  return `${Math.round(mhz)} MHz`;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** Byte series in one binary unit chosen from their maximum: axis ticks are round numbers of it. */
function inBytes(title: string, label: string, series: { label: string; bytes: number[] }[]) {
  const { divisor, unit } = byteScale(Math.max(0, ...series.flatMap((s) => s.bytes)));
  return {
    title: `${title} (${unit}${label})`,
    series: series.map((s) => ({ label: s.label, values: s.bytes.map((b) => b / divisor) })),
    format: (value: number) => `${number.format(value)} ${unit}`,
  };
}

function formatVmHours(hours: number): string {
  return `${Number(hours.toFixed(2))} VM-h`;
}

/**
 * Usage over a period as charts: average CPU, memory and disk, network in and
 * out, VM-hours running. Loading, error (with retry) and empty states.
 */
export function UsageCharts({ scope, period }: { scope: UsageScope; period: UsagePeriod }) {
  const trpc = useTRPC();
  const query = useQuery(
    trpc.metering.usageSeries.queryOptions(
      { scope, from: period.from, to: period.to, bucket: period.bucket },
      { placeholderData: keepPreviousData },
    ),
  );

  if (query.isPending) {
    return (
      <div role="status" aria-label="Loading usage" className="grid grid-cols-1 gap-5 lg:grid-cols-2">
        {['cpu', 'memory', 'disk', 'network'].map((k) => (
          <div key={k}>
            <Skeleton className="h-3.5 w-32" />
            <Skeleton className="mt-3 h-[180px] w-full rounded-md" />
          </div>
        ))}
      </div>
    );
  }
  if (query.isError) {
    return (
      <ErrorState
        error={query.error}
        title="Could not load usage"
        onRetry={() => void query.refetch()}
        retrying={query.isFetching}
      />
    );
  }

  const data = query.data;
  const points = data.points;
  const times = points.map((p) => p.from);
  const bucket = data.bucket;
  const dropped =
    data.availableFrom && period.from < data.availableFrom ? (
      <p className="mb-3 text-[12px] text-muted">
        Host usage comes from raw samples, kept until they are {formatDateTime(data.availableFrom)} old; earlier points
        are empty.
      </p>
    ) : null;

  if (points.every((p) => p.meteredSeconds === 0)) {
    return (
      <>
        {dropped}
        <EmptyState
          icon={<Activity />}
          title="No usage recorded in this period"
          description="Hosts report usage every minute while VMs exist; rollups appear within minutes. Try a longer period."
          className="py-10"
        />
      </>
    );
  }

  return (
    <div
      className={cn('transition-opacity', query.isPlaceholderData && 'opacity-60')}
      aria-busy={query.isPlaceholderData || undefined}
      data-testid="usage-charts"
    >
      {dropped}
      <div className="grid grid-cols-1 gap-x-6 gap-y-6 lg:grid-cols-2">
        <TimeSeriesChart
          title="Average CPU (MHz)"
          times={times}
          bucket={bucket}
          series={[{ label: 'CPU', values: points.map((p) => p.avgCpuMhz) }]}
          format={formatCpu}
          area
          testId="chart-cpu"
        />
        <TimeSeriesChart
          {...inBytes('Average memory', '', [{ label: 'Memory', bytes: points.map((p) => p.avgMemoryMiB * MIB) }])}
          times={times}
          bucket={bucket}
          area
          testId="chart-memory"
        />
        <TimeSeriesChart
          {...inBytes('Network traffic', ` per ${bucket}`, [
            { label: 'Inbound', bytes: points.map((p) => p.networkInBytes) },
            { label: 'Outbound', bytes: points.map((p) => p.networkOutBytes) },
          ])}
          times={times}
          bucket={bucket}
          testId="chart-network"
        />
        <TimeSeriesChart
          {...inBytes('Average disk allocated', '', [{ label: 'Disk', bytes: points.map((p) => p.avgDiskGiB * GIB) }])}
          times={times}
          bucket={bucket}
          area
          testId="chart-disk"
        />
        <TimeSeriesChart
          title={`VMs running (VM-hours per ${bucket})`}
          times={times}
          bucket={bucket}
          series={[{ label: 'Running', values: points.map((p) => p.runningVmHours) }]}
          format={formatVmHours}
          area
          testId="chart-running"
        />
      </div>
    </div>
  );
}
