'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Receipt } from 'lucide-react';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { cn } from '@/lib/cn';
import { errorCode } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { StackedBarChart } from './stacked-bar-chart';
import type { UsagePeriod } from './usage-period';

const RESOURCE_LABELS: Record<string, string> = {
  vcpu: 'vCPU',
  memory: 'Memory',
  disk: 'Disk',
  'replica-storage': 'Replica storage',
  'network-out-internet': 'Network out (internet)',
  'network-out-datacenter': 'Network out (datacenter)',
  'network-in-internet': 'Network in (internet)',
  'network-in-datacenter': 'Network in (datacenter)',
};

function moneyFormat(currency: string) {
  const f = new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2 });
  return (value: number) => f.format(value);
}

/**
 * A tenant's cost per day, stacked by resource, each day rated as its own
 * bill. The API rounds each day on its own, so the days may not add up to
 * the period's bill to the cent; the footer says so and gives both.
 */
export function CostChart({ tenantId, period }: { tenantId?: string; period: UsagePeriod }) {
  const trpc = useTRPC();
  const query = useQuery(
    trpc.chargeback.costSeries.queryOptions(
      {
        ...(tenantId ? { tenantId } : {}),
        period: { from: period.from.toISOString(), to: period.to.toISOString() },
        bucket: 'day',
      },
      { placeholderData: keepPreviousData },
    ),
  );

  if (query.isPending) {
    return (
      <div role="status" aria-label="Loading cost">
        <Skeleton className="h-3.5 w-40" />
        <Skeleton className="mt-3 h-[200px] w-full rounded-md" />
      </div>
    );
  }
  if (query.isError) {
    if (errorCode(query.error) === 'PRECONDITION_FAILED') {
      return (
        <EmptyState
          icon={<Receipt />}
          title="No rate card in effect"
          description="Costs appear once the provider has published a rate card covering this period."
          className="py-10"
        />
      );
    }
    return (
      <ErrorState
        error={query.error}
        title="Could not load cost"
        onRetry={() => void query.refetch()}
        retrying={query.isFetching}
      />
    );
  }

  const data = query.data;
  const format = moneyFormat(data.currency);
  if (data.buckets.every((b) => Number(b.total) === 0)) {
    return (
      <EmptyState
        icon={<Receipt />}
        title="No cost recorded in this period"
        description="No metered usage was priced between these dates."
        className="py-10"
      />
    );
  }
  const times = data.buckets.map((b) => new Date(b.from));
  const stacks = data.resources.map((resource) => ({
    label: RESOURCE_LABELS[resource] ?? resource,
    values: data.buckets.map((b) => Number(b.byResource.find((r) => r.resource === resource)?.amount ?? 0)),
  }));
  const discounted = data.buckets.some((b) => Number(b.discount) > 0);
  return (
    <div className={cn('transition-opacity', query.isPlaceholderData && 'opacity-60')} data-testid="cost-chart">
      <StackedBarChart
        title={`Cost per day by resource (${data.currency})`}
        times={times}
        bucket="day"
        stacks={stacks}
        totals={data.buckets.map((b) => format(Number(b.total)))}
        format={format}
        testId="chart-cost"
        footer={
          <div className="flex flex-col gap-1 text-[12px] text-muted">
            <p>
              Days added up: <span className="font-medium text-fg tabular">{format(Number(data.bucketsTotal))}</span>
              {data.periodTotal !== null ? (
                <>
                  {' '}
                  · Bill for the whole period:{' '}
                  <span className="font-medium text-fg tabular" data-testid="cost-period-total">
                    {format(Number(data.periodTotal))}
                  </span>
                </>
              ) : null}
              {discounted ? ' · bars show list amounts before each day’s discount; totals include it' : null}
            </p>
            {data.unpricedBefore ? (
              <p>Usage before {formatDate(data.unpricedBefore)} is not charged: no rate card was in effect yet.</p>
            ) : null}
            <p data-testid="cost-rounding-note">{data.roundingNote}</p>
          </div>
        }
      />
    </div>
  );
}
