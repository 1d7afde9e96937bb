import { cn } from '@/lib/cn';
import { formatPercent, ratio } from '@/lib/format';

/** A capacity bar; colour warns at 75% and 90% used, the usual datacenter thresholds. */
export function UsageBar({
  used,
  capacity,
  label,
  className,
  size = 'md',
}: {
  used: number;
  capacity: number;
  label: string;
  className?: string;
  size?: 'sm' | 'md';
}) {
  const fraction = ratio(used, capacity);
  const color = fraction >= 0.9 ? 'bg-red-500' : fraction >= 0.75 ? 'bg-amber-500' : 'bg-accent';
  return (
    // biome-ignore lint/a11y/useSemanticElements: <meter> cannot be styled consistently across browsers; the role keeps its semantics
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(fraction * 100)}
      aria-valuetext={`${formatPercent(fraction)} used`}
      className={cn('w-full overflow-hidden rounded-full bg-track', size === 'sm' ? 'h-1' : 'h-1.5', className)}
    >
      <div
        className={cn('h-full rounded-full transition-[width] duration-500', color)}
        style={{ width: `${fraction * 100}%` }}
      />
    </div>
  );
}
