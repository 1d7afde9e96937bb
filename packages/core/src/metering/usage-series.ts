import type { UsageBucket, UsagePoint } from './usage-series.schema';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Time-weighted sums of one bucket, as the repository adds them up (over VMs and hours). */
export interface BucketTotals {
  /** Start of the UTC hour or day. */
  start: Date;
  meteredSeconds: number;
  cpuMhzSeconds: number;
  memMibSeconds: number;
  diskGibSeconds: number;
  networkInBytes: number;
  networkOutBytes: number;
  runningSeconds: number;
}

/** The buckets covering [fromMs, toMs): aligned UTC hours or days, the first and last cut to the period. */
export function usageBuckets(
  fromMs: number,
  toMs: number,
  bucket: UsageBucket,
): { startMs: number; fromMs: number; toMs: number }[] {
  const size = bucket === 'hour' ? HOUR_MS : DAY_MS;
  const out: { startMs: number; fromMs: number; toMs: number }[] = [];
  for (let start = Math.floor(fromMs / size) * size; start < toMs; start += size) {
    out.push({ startMs: start, fromMs: Math.max(start, fromMs), toMs: Math.min(start + size, toMs) });
  }
  return out;
}

/**
 * Turns the repository's per-bucket sums into chart points: every bucket of
 * the period in order (a bucket without rows is a zero point, so a chart has
 * no holes), averages as time-weighted sums over the bucket's seconds.
 * Rows for buckets outside the period are ignored.
 */
export function buildUsagePoints(
  rows: readonly BucketTotals[],
  from: Date,
  to: Date,
  bucket: UsageBucket,
): UsagePoint[] {
  const byStart = new Map<number, BucketTotals>();
  for (const row of rows) byStart.set(row.start.getTime(), row);
  return usageBuckets(from.getTime(), to.getTime(), bucket).map((b) => {
    const row = byStart.get(b.startMs);
    const seconds = (b.toMs - b.fromMs) / 1000;
    const per = (sum: number | undefined) => (sum ? sum / seconds : 0);
    return {
      from: new Date(b.fromMs),
      to: new Date(b.toMs),
      meteredSeconds: row?.meteredSeconds ?? 0,
      avgCpuMhz: per(row?.cpuMhzSeconds),
      avgMemoryMiB: per(row?.memMibSeconds),
      avgDiskGiB: per(row?.diskGibSeconds),
      networkInBytes: row?.networkInBytes ?? 0,
      networkOutBytes: row?.networkOutBytes ?? 0,
      runningVmHours: (row?.runningSeconds ?? 0) / 3600,
    };
  });
}
