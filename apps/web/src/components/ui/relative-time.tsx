'use client';

import { formatDateTime, formatRelative } from '@/lib/format';
import { useNow } from '@/lib/use-now';

/** A time that reads "3 s ago" and keeps ticking; the exact time is in the tooltip. */
export function RelativeTime({ value, className }: { value: Date | string | null | undefined; className?: string }) {
  const now = useNow();
  if (value == null) return <span className={className}>never</span>;
  const date = value instanceof Date ? value : new Date(value);
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date)} className={className} suppressHydrationWarning>
      {now === 0 ? formatDateTime(date) : formatRelative(date, now)}
    </time>
  );
}
