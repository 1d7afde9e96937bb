'use client';

import { useState } from 'react';
import { Chips } from '@/components/ui/chips';

const HOUR_MS = 3_600_000;

export type UsagePeriodKey = '24h' | '7d' | '30d' | 'month';

export const USAGE_PERIOD_OPTIONS: { value: UsagePeriodKey; label: string }[] = [
  { value: '24h', label: 'Last 24 h' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: 'month', label: 'This month' },
];

export interface UsagePeriod {
  key: UsagePeriodKey;
  /** Whole UTC hours; `to` is the end of the current hour, so the latest rollups show. */
  from: Date;
  to: Date;
  /** Hourly points up to a week (168), daily beyond. */
  bucket: 'hour' | 'day';
}

export function usagePeriod(key: UsagePeriodKey, nowMs: number): UsagePeriod {
  const to = Math.ceil(nowMs / HOUR_MS) * HOUR_MS;
  switch (key) {
    case '24h':
      return { key, from: new Date(to - 24 * HOUR_MS), to: new Date(to), bucket: 'hour' };
    case '7d':
      return { key, from: new Date(to - 7 * 24 * HOUR_MS), to: new Date(to), bucket: 'hour' };
    case '30d':
      return { key, from: new Date(to - 30 * 24 * HOUR_MS), to: new Date(to), bucket: 'day' };
    case 'month': {
      const now = new Date(nowMs);
      const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      return { key, from: new Date(from), to: new Date(Math.max(to, from + HOUR_MS)), bucket: 'day' };
    }
  }
}

/** The period chips and the chosen period, anchored when chosen (so queries do not chase the clock). */
export function useUsagePeriod(initial: UsagePeriodKey = '7d') {
  const [period, setPeriod] = useState(() => usagePeriod(initial, Date.now()));
  const picker = (
    <Chips
      label="Period"
      options={USAGE_PERIOD_OPTIONS}
      value={period.key}
      onChange={(key) => setPeriod(usagePeriod(key, Date.now()))}
    />
  );
  return { period, picker, refresh: () => setPeriod(usagePeriod(period.key, Date.now())) };
}
