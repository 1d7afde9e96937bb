import type { UseQueryResult } from '@tanstack/react-query';
import { AlertTriangle, CheckCircle2 } from 'lucide-react';
import type { ReactNode } from 'react';
import { Card, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { UsageBar } from '@/components/ui/usage-bar';
import { cn } from '@/lib/cn';
import { formatCount } from '@/lib/format';
import type { QuotaAndUsage } from '../quota-strip';
import { type Headroom, headroomSentence, overQuota } from './headroom';

/** What the new VMs take from the tenant's quota, shown before submit; `footer` holds the submit row. */
export function QuotaHeadroom({
  quota,
  headroom,
  count,
  footer,
}: {
  quota: UseQueryResult<QuotaAndUsage, unknown>;
  headroom: readonly Headroom[];
  count: number;
  footer: ReactNode;
}) {
  return (
    <Card>
      <CardHeader
        title="Quota headroom"
        description={
          count > 1
            ? `What these ${formatCount(count)} VMs take from what your tenant has left`
            : 'What this VM takes from what your tenant has left'
        }
      />
      <div className="p-4">
        {quota.isPending ? (
          <div role="status" aria-label="Loading quota" className="flex flex-col gap-3">
            {[0, 1, 2, 3].map((i) => (
              <Skeleton key={i} className="h-8" />
            ))}
          </div>
        ) : quota.isError ? (
          <ErrorState
            error={quota.error}
            title="Could not load your quota"
            onRetry={() => void quota.refetch()}
            retrying={quota.isFetching}
            className="py-4"
          />
        ) : (
          <ul className="flex flex-col gap-3" data-testid="quota-headroom">
            {headroom.map((h) => (
              <HeadroomRow key={h.label} h={h} count={count} />
            ))}
          </ul>
        )}
      </div>
      <div className="flex flex-col gap-2 border-t border-border bg-surface-2/60 px-4 py-3">{footer}</div>
    </Card>
  );
}

function HeadroomRow({ h, count }: { h: Headroom; count: number }) {
  const over = overQuota(h);
  const after = h.used + h.needs;
  return (
    <li>
      <div className="flex items-center justify-between gap-2 text-[12.5px]">
        <span className="font-medium text-fg">{h.label}</span>
        <span className={cn('tabular', over ? 'text-danger' : 'text-muted')}>
          {h.format(after)} / {h.format(h.max)}
        </span>
      </div>
      <UsageBar
        used={after}
        capacity={h.max}
        label={`${h.label} after ${count > 1 ? 'these VMs' : 'this VM'}`}
        size="sm"
        className="mt-1"
      />
      <p className={cn('mt-1 flex items-start gap-1 text-[11.5px]', over ? 'text-danger' : 'text-muted')}>
        {over ? (
          <AlertTriangle className="mt-px size-3 shrink-0" aria-hidden="true" />
        ) : (
          <CheckCircle2 className="mt-px size-3 shrink-0 text-emerald-500" aria-hidden="true" />
        )}
        <span className="first-letter:uppercase">{headroomSentence(h, count)}</span>
      </p>
    </li>
  );
}
