import { cn } from '@/lib/cn';

export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden="true" className={cn('skeleton rounded', className)} />;
}

/** Placeholder rows for a table while its first page loads. */
export function TableSkeleton({ rows = 8, columns = 6 }: { rows?: number; columns?: number }) {
  return (
    <div role="status" aria-label="Loading" className="divide-y divide-border">
      {Array.from({ length: rows }, (_, r) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
        <div key={r} className="flex items-center gap-6 px-4 py-3">
          {Array.from({ length: columns }, (_, c) => (
            <Skeleton
              // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
              key={c}
              className={cn('h-3', c === 0 ? 'w-40' : 'w-20', c === columns - 1 && 'ml-auto')}
            />
          ))}
        </div>
      ))}
    </div>
  );
}
