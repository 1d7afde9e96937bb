'use client';

import { useQuery } from '@tanstack/react-query';
import { Card } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { UsageBar } from '@/components/ui/usage-bar';
import { formatBytes, formatCount, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

export type QuotaAndUsage = RouterOutputs['vms']['myQuota'];

interface Row {
  label: string;
  used: number;
  max: number;
  running: number | null;
  maxRunning: number | null;
  format: (n: number) => string;
}

function rowsOf({ quota, usage }: QuotaAndUsage): Row[] {
  return [
    {
      label: 'VMs',
      used: usage.vms,
      max: quota.maxVms,
      running: usage.runningVms,
      maxRunning: quota.maxRunningVms,
      format: formatCount,
    },
    {
      label: 'vCPUs',
      used: usage.vcpus,
      max: quota.maxVcpus,
      running: usage.runningVcpus,
      maxRunning: quota.maxRunningVcpus,
      format: formatCount,
    },
    {
      label: 'Memory',
      used: usage.memoryMiB,
      max: quota.maxMemoryMiB,
      running: usage.runningMemoryMiB,
      maxRunning: quota.maxRunningMemoryMiB,
      format: formatMiB,
    },
    {
      label: 'Storage',
      used: usage.storageBytes,
      max: quota.maxStorageBytes,
      running: null,
      maxRunning: null,
      format: formatBytes,
    },
  ];
}

/** Allocated and running use against the tenant's quota, one tile per resource. */
export function QuotaStrip({ data, className }: { data: QuotaAndUsage; className?: string }) {
  return (
    <section aria-label="Quota and usage" className={className}>
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        {rowsOf(data).map((row) => (
          <Card key={row.label} className="p-4" data-testid={`quota-${row.label.toLowerCase()}`}>
            <div className="flex items-baseline justify-between gap-2">
              <p className="text-[12px] font-medium text-muted">{row.label}</p>
              <p className="text-[11.5px] text-subtle tabular">
                {formatCount(Math.round((row.max > 0 ? row.used / row.max : 0) * 100))}%
              </p>
            </div>
            <p className="mt-1 text-[15px] font-semibold tracking-[-0.01em] tabular">
              {row.format(row.used)}{' '}
              <span className="text-[12px] font-normal text-muted">of {row.format(row.max)}</span>
            </p>
            <UsageBar used={row.used} capacity={row.max} label={`${row.label} allocated`} className="mt-2" />
            {row.running !== null && row.maxRunning !== null ? (
              <div className="mt-2">
                <UsageBar used={row.running} capacity={row.maxRunning} label={`${row.label} running`} size="sm" />
                <p className="mt-1 text-[11.5px] text-muted tabular">
                  {row.format(row.running)} running of {row.format(row.maxRunning)}
                </p>
              </div>
            ) : (
              <p className="mt-3.5 text-[11.5px] text-muted">allocated on disk</p>
            )}
          </Card>
        ))}
      </div>
    </section>
  );
}

export function QuotaStripSkeleton() {
  return (
    <div role="status" aria-label="Loading quota" className="grid grid-cols-2 gap-4 lg:grid-cols-4">
      {[0, 1, 2, 3].map((i) => (
        <Skeleton key={i} className="h-[116px] rounded-lg" />
      ))}
    </div>
  );
}

/** The signed-in tenant's quota strip (portal). */
export function MyQuotaStrip({ className }: { className?: string }) {
  const trpc = useTRPC();
  const quota = useQuery(trpc.vms.myQuota.queryOptions());
  if (quota.isPending) return <QuotaStripSkeleton />;
  if (quota.isError) {
    return (
      <Card className={className}>
        <ErrorState
          error={quota.error}
          title="Could not load your quota"
          onRetry={() => void quota.refetch()}
          retrying={quota.isFetching}
          className="py-6"
        />
      </Card>
    );
  }
  return <QuotaStrip data={quota.data} className={className} />;
}
