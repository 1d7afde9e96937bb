'use client';

import type { LiveStatus } from '@/components/shell/live';
import { LiveDot } from '@/components/shell/live-dot';
import { cn } from '@/lib/cn';

const LABELS: Record<Exclude<LiveStatus, 'off'>, { text: string; dot: string; help: string }> = {
  live: { text: 'Live', dot: 'bg-emerald-500', help: 'Tasks update as they change' },
  connecting: { text: 'Connecting…', dot: 'bg-amber-500', help: 'Opening the live update stream' },
  reconnecting: {
    text: 'Reconnecting…',
    dot: 'bg-amber-500',
    help: 'The live stream dropped; running tasks refresh every 5 s meanwhile',
  },
  offline: {
    text: 'Disconnected',
    dot: 'bg-red-500',
    help: 'Live updates are off; running tasks refresh every 5 s',
  },
};

/** Whether the tasks on screen follow the live stream, in words and a dot. */
export function LiveBadge({ status, className }: { status: LiveStatus; className?: string }) {
  if (status === 'off') return null;
  const label = LABELS[status];
  return (
    <span
      role="status"
      title={label.help}
      data-testid="tasks-live"
      className={cn('inline-flex items-center gap-1.5 text-[12px] text-muted', className)}
    >
      <LiveDot live={status === 'live'} dot={label.dot} />
      <span>
        <span className="sr-only">Task updates: </span>
        {label.text}
      </span>
    </span>
  );
}
