import type { ReactNode } from 'react';
import { Skeleton } from '@/components/ui/skeleton';

/** One measured figure in a `<dl>` grid: a label, the value, an optional line under it. */
export function Figure({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return (
    <div>
      <dt className="text-[12px] text-muted">{label}</dt>
      <dd className="mt-0.5 text-[15px] font-semibold tracking-[-0.01em] tabular">{value}</dd>
      {sub ? <dd className="text-[11.5px] text-muted tabular">{sub}</dd> : null}
    </div>
  );
}

/** The loading shape of a figures grid and the table under it. */
export function FiguresSkeleton({ label, tableHeight }: { label: string; tableHeight: 'h-16' | 'h-24' }) {
  return (
    <div role="status" aria-label={label} className="p-4">
      <Skeleton className="h-3.5 w-56" />
      <div className="mt-4 grid grid-cols-2 gap-x-5 gap-y-4 sm:grid-cols-3 lg:grid-cols-4">
        {[1, 2, 3, 4, 5, 6, 7].map((k) => (
          <div key={k}>
            <Skeleton className="h-3 w-20" />
            <Skeleton className="mt-1.5 h-4 w-16" />
          </div>
        ))}
      </div>
      <Skeleton className={`mt-5 ${tableHeight} w-full rounded-md`} />
    </div>
  );
}
