import { describe, expect, it } from 'vitest';
import { type BucketTotals, buildUsagePoints, usageBuckets } from './usage-series';
import { USAGE_SERIES_LIMITS, usageBucketCount, usageSeriesInput } from './usage-series.schema';

const H = 3_600_000;
const D = 24 * H;
const at = (iso: string) => new Date(iso);

const totals = (start: string, over: Partial<BucketTotals> = {}): BucketTotals => ({
  start: at(start),
  meteredSeconds: 0,
  cpuMhzSeconds: 0,
  memMibSeconds: 0,
  diskGibSeconds: 0,
  networkInBytes: 0,
  networkOutBytes: 0,
  runningSeconds: 0,
  ...over,
});

const VM = '7a1c1e1e-51a3-4f8e-9a55-1e6d1a2c3b4d';
const input = (from: string, to: string, bucket: 'hour' | 'day') => ({
  scope: { kind: 'vm' as const, vmId: VM },
  from: at(from),
  to: at(to),
  bucket,
});
const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  r.success ? [] : (r.error?.issues.map((i) => i.message) ?? []);

describe('usage buckets', () => {
  it.each([
    ['hourly, aligned', '2026-11-02T10:00:00Z', '2026-11-02T13:00:00Z', 'hour', 3],
    ['daily, whole days', '2026-11-01T00:00:00Z', '2026-11-08T00:00:00Z', 'day', 7],
    ['daily, cut at both ends', '2026-11-01T22:00:00Z', '2026-11-03T02:00:00Z', 'day', 3],
  ] as const)('%s', (_, from, to, bucket, count) => {
    const buckets = usageBuckets(Date.parse(from), Date.parse(to), bucket);
    expect(buckets).toHaveLength(count);
    expect(usageBucketCount(Date.parse(from), Date.parse(to), bucket)).toBe(count);
    // Contiguous and exactly covering the period.
    expect(buckets[0]?.fromMs).toBe(Date.parse(from));
    expect(buckets.at(-1)?.toMs).toBe(Date.parse(to));
    for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]?.fromMs).toBe(buckets[i - 1]?.toMs);
  });

  it('a cut daily bucket keeps its day start as key, and its own span', () => {
    const [first] = usageBuckets(Date.parse('2026-11-01T22:00:00Z'), Date.parse('2026-11-03T02:00:00Z'), 'day');
    expect(first).toEqual({
      startMs: Date.parse('2026-11-01T00:00:00Z'),
      fromMs: Date.parse('2026-11-01T22:00:00Z'),
      toMs: Date.parse('2026-11-02T00:00:00Z'),
    });
  });
});

describe('usage points', () => {
  it('fills empty buckets with zero points, so a chart has no holes', () => {
    const points = buildUsagePoints(
      [totals('2026-11-02T11:00:00Z', { cpuMhzSeconds: 3600 * 1000, meteredSeconds: 3600 })],
      at('2026-11-02T10:00:00Z'),
      at('2026-11-02T13:00:00Z'),
      'hour',
    );
    expect(points.map((p) => [p.from.toISOString(), p.avgCpuMhz])).toEqual([
      ['2026-11-02T10:00:00.000Z', 0],
      ['2026-11-02T11:00:00.000Z', 1000],
      ['2026-11-02T12:00:00.000Z', 0],
    ]);
    expect(points[0]).toEqual({
      from: at('2026-11-02T10:00:00Z'),
      to: at('2026-11-02T11:00:00Z'),
      meteredSeconds: 0,
      avgCpuMhz: 0,
      avgMemoryMiB: 0,
      avgDiskGiB: 0,
      networkInBytes: 0,
      networkOutBytes: 0,
      runningVmHours: 0,
    });
  });

  it('averages are time-weighted sums over the bucket’s wall-clock seconds (Measure-VM’s definition, summed over VMs)', () => {
    // Two VMs in one hour: one all hour at 2 GiB, one half the hour at 4 GiB.
    const [point] = buildUsagePoints(
      [
        totals('2026-11-02T10:00:00Z', {
          meteredSeconds: 3600 + 1800,
          memMibSeconds: 2048 * 3600 + 4096 * 1800,
          diskGibSeconds: 40 * 3600 + 100 * 1800,
          cpuMhzSeconds: 500 * 3600,
          networkInBytes: 123,
          networkOutBytes: 456,
          runningSeconds: 3600 + 1800,
        }),
      ],
      at('2026-11-02T10:00:00Z'),
      at('2026-11-02T11:00:00Z'),
      'hour',
    );
    expect(point).toMatchObject({
      meteredSeconds: 5400,
      avgMemoryMiB: 2048 + 2048,
      avgDiskGiB: 40 + 50,
      avgCpuMhz: 500,
      networkInBytes: 123,
      networkOutBytes: 456,
      runningVmHours: 1.5,
    });
  });

  it('a daily bucket cut by the period averages over the hours it covers', () => {
    // 22:00–24:00 of Nov 1 only: 2 hours at 1,000 MHz → average 1,000 MHz, not 1000 × 2/24.
    const points = buildUsagePoints(
      [totals('2026-11-01T00:00:00Z', { cpuMhzSeconds: 1000 * 7200, meteredSeconds: 7200 })],
      at('2026-11-01T22:00:00Z'),
      at('2026-11-02T06:00:00Z'),
      'day',
    );
    expect(points.map((p) => [p.from.getTime(), p.to.getTime(), p.avgCpuMhz])).toEqual([
      [Date.parse('2026-11-01T22:00:00Z'), Date.parse('2026-11-02T00:00:00Z'), 1000],
      [Date.parse('2026-11-02T00:00:00Z'), Date.parse('2026-11-02T06:00:00Z'), 0],
    ]);
  });

  it('ignores rows outside the period', () => {
    const points = buildUsagePoints(
      [totals('2026-11-02T09:00:00Z', { cpuMhzSeconds: 99 })],
      at('2026-11-02T10:00:00Z'),
      at('2026-11-02T11:00:00Z'),
      'hour',
    );
    expect(points.map((p) => p.avgCpuMhz)).toEqual([0]);
  });
});

describe('usage series input', () => {
  it('accepts a period of whole hours that ends after it starts', () => {
    expect(usageSeriesInput.safeParse(input('2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', 'hour')).success).toBe(
      true,
    );
  });

  it.each([
    ['an empty period', '2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z', 'hour', 'The period must end after it starts'],
    ['a reversed period', '2026-11-02T00:00:00Z', '2026-11-01T00:00:00Z', 'day', 'The period must end after it starts'],
    ['a start off the hour', '2026-11-02T00:30:00Z', '2026-11-03T00:00:00Z', 'hour', 'Must fall on a whole UTC hour'],
  ] as const)('refuses %s', (_, from, to, bucket, message) => {
    expect(messages(usageSeriesInput.safeParse(input(from, to, bucket)))).toContain(message);
  });

  it('names the limit of hourly points: 2,200 is fine, 2,201 is not', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    const ok = usageSeriesInput.safeParse({
      ...input('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'hour'),
      to: new Date(from + USAGE_SERIES_LIMITS.hour * H),
    });
    expect(ok.success).toBe(true);
    const over = usageSeriesInput.safeParse({
      ...input('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'hour'),
      to: new Date(from + 2201 * H),
    });
    expect(messages(over)).toEqual([
      'At most 2,200 hourly points per series; this period has 2,201. Choose a shorter period or daily buckets.',
    ]);
  });

  it('names the limit of daily points: 400 days is fine, 401 is not', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    const base = input('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'day');
    expect(usageSeriesInput.safeParse({ ...base, to: new Date(from + 400 * D) }).success).toBe(true);
    expect(messages(usageSeriesInput.safeParse({ ...base, to: new Date(from + 401 * D) }))).toEqual([
      'At most 400 daily points per series; this period has 401. Choose a shorter period or fewer days.',
    ]);
    // A day cut at both ends counts as a point: 399 whole days plus two partial ones is 401.
    expect(
      usageSeriesInput.safeParse({ ...base, from: new Date(from + H), to: new Date(from + 400 * D + H) }).success,
    ).toBe(false);
  });
});
