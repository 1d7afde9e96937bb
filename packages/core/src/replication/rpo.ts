/**
 * RPO compliance: the share of a period during which the replica held a
 * point no older than the RPO. Between two points p_i < p_{i+1} the lag
 * grows from 0, so the time out of compliance is max(0, gap - rpo); after the
 * last point, until the period ends, likewise. Cost: O(points).
 */
export function rpoTargetMs(frequencySeconds: number): number {
  // One cycle may be late or missed: two periods without a point is a breach.
  return 2 * frequencySeconds * 1000;
}

export interface ComplianceBucket {
  readonly from: number;
  readonly to: number;
  /** 0–1 of the bucket within the RPO; null before the relationship existed. */
  readonly share: number | null;
}

/**
 * `pointTimes`: epoch ms of recovery points, ascending (the last point before
 * `from` included when there is one). `since`: when replication began (time
 * before it is not judged).
 */
export function compliance(
  pointTimes: readonly number[],
  rpoMs: number,
  from: number,
  to: number,
  bucketMs: number,
  since: number,
): { share: number | null; buckets: ComplianceBucket[] } {
  const buckets: ComplianceBucket[] = [];
  let judgedTotal = 0;
  let okTotal = 0;
  for (let start = from; start < to; start += bucketMs) {
    const end = Math.min(to, start + bucketMs);
    const judgedFrom = Math.max(start, since);
    if (judgedFrom >= end) {
      buckets.push({ from: start, to: end, share: null });
      continue;
    }
    const bad = breachWithin(pointTimes, rpoMs, judgedFrom, end, since);
    const judged = end - judgedFrom;
    judgedTotal += judged;
    okTotal += judged - bad;
    buckets.push({ from: start, to: end, share: (judged - bad) / judged });
  }
  return { share: judgedTotal === 0 ? null : okTotal / judgedTotal, buckets };
}

/** ms of [a, b) during which the newest point was older than rpo (or none existed, counted from `since`). */
function breachWithin(times: readonly number[], rpoMs: number, a: number, b: number, since: number): number {
  let bad = 0;
  // Segments [t_i, t_{i+1}) with t_0 = since (no point yet: the lag counts from when replication began).
  let prev = since;
  let i = lowerBound(times, a);
  if (i > 0) prev = Math.max(since, times[i - 1] as number);
  for (; ; i++) {
    const next = i < times.length ? Math.min(times[i] as number, b) : b;
    const breachStart = Math.max(prev + rpoMs, a);
    if (next > breachStart) bad += next - breachStart;
    if (i >= times.length || (times[i] as number) >= b) break;
    prev = times[i] as number;
  }
  return bad;
}

function lowerBound(times: readonly number[], x: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
