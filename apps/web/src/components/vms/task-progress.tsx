'use client';

import { cn } from '@/lib/cn';
import { useLiveTask } from './live-vms';

/** A task's progress bar; indeterminate (a sliding bar) until the first report arrives. */
export function ProgressBar({
  value,
  label,
  className,
  tone = 'accent',
}: {
  value: number | null;
  label: string;
  className?: string;
  tone?: 'accent' | 'red';
}) {
  const pct = value === null ? null : Math.min(100, Math.max(0, Math.round(value)));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct ?? undefined}
      aria-valuetext={pct === null ? 'waiting for the host' : `${pct}%`}
      className={cn('relative h-1.5 w-full overflow-hidden rounded-full bg-track', className)}
    >
      <div
        className={cn(
          'h-full rounded-full transition-[width] duration-500',
          tone === 'red' ? 'bg-red-500' : 'bg-accent',
          pct === null && 'absolute w-1/3 animate-pulse',
        )}
        style={pct === null ? undefined : { width: `${pct}%` }}
      />
    </div>
  );
}

/** The live progress of a VM's running task, for a table row; nothing when idle. */
export function RowTaskProgress({ vmId, name }: { vmId: string; name: string }) {
  const task = useLiveTask(vmId);
  if (!task) return null;
  return (
    <div className="mt-1 flex w-28 items-center gap-1.5" title={task.message}>
      <ProgressBar value={task.progress} label={`${name} task progress`} className="h-1" />
      <span className="text-[10.5px] text-muted tabular">{Math.round(task.progress)}%</span>
    </div>
  );
}
