import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChargebackError } from './chargeback.errors';
import { costBuckets, costSeries } from './cost-series';
import { costSeriesInput } from './cost-series.schema';
import { Dec } from './money';
import { rateUsage } from './rate';
import type { RateCard, RatePrices } from './rate-card';
import type { TenantPlan } from './tenant-plan';
import type { HourlyUsage } from './usage.schema';

const GIB_BYTES = 2 ** 30;
const prices: RatePrices = {
  vcpuHour: '0.0125',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.10',
  networkOutGiB: { internet: '0.09', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.05',
};
const card = (effectiveFrom: string, over: Partial<RatePrices> = {}): RateCard => ({
  currency: 'USD',
  effectiveFrom,
  prices: { ...prices, ...over },
});
const LIST: TenantPlan = { kind: 'list' };
const row = (hour: string, over: Partial<HourlyUsage> = {}, vmId = 'vm-a'): HourlyUsage => ({
  vmId,
  vmName: vmId,
  hour,
  vcpus: 2,
  runningSeconds: 3600,
  memMibSeconds: 4096 * 3600,
  diskGibSeconds: 100 * 3600,
  replicaGibSeconds: 0,
  networkInBytes: { internet: 0, datacenter: 0 },
  networkOutBytes: { internet: GIB_BYTES, datacenter: 0 },
  ...over,
});
const TENANT = 'tenant-1';
const cents = (s: string) => new Dec(s);

/** Σ per-resource amounts = subtotal and subtotal − discount = total, in every bucket. */
function expectBucketsReconcile(series: ReturnType<typeof costSeries>) {
  for (const b of series.buckets) {
    const sum = b.byResource.reduce((acc, r) => acc.plus(r.amount), new Dec(0));
    expect(sum.toFixed(2), `${b.from} per resource`).toBe(b.subtotal);
    expect(cents(b.subtotal).minus(b.discount).toFixed(2), `${b.from} total`).toBe(b.total);
  }
  const all = series.buckets.reduce((acc, b) => acc.plus(b.total), new Dec(0));
  expect(all.toFixed(2)).toBe(series.bucketsTotal);
}

describe('cost buckets', () => {
  it.each([
    ['days, whole', '2026-11-01T00:00:00Z', '2026-11-04T00:00:00Z', 'day', ['2026-11-01', '2026-11-02', '2026-11-03']],
    [
      'days, cut at both ends',
      '2026-11-01T20:00:00Z',
      '2026-11-03T04:00:00Z',
      'day',
      ['2026-11-01T20', '2026-11-02T00', '2026-11-03T00'],
    ],
    [
      'months across a year end',
      '2026-11-15T00:00:00Z',
      '2027-02-01T00:00:00Z',
      'month',
      ['2026-11-15', '2026-12-01', '2027-01-01'],
    ],
  ] as const)('%s', (_, from, to, bucket, starts) => {
    const ranges = costBuckets(Date.parse(from), Date.parse(to), bucket);
    expect(ranges.map((r) => new Date(r.fromMs).toISOString().slice(0, starts[0].length))).toEqual(starts);
    expect(ranges.at(-1)?.toMs).toBe(Date.parse(to));
    for (let i = 1; i < ranges.length; i += 1) expect(ranges[i]?.fromMs).toBe(ranges[i - 1]?.toMs);
  });
});

describe('cost series', () => {
  it('rates each day as a bill of its own; per resource sums to the bucket total; empty days are zero', () => {
    const usage = [row('2026-11-01T10:00:00Z'), row('2026-11-01T11:00:00Z'), row('2026-11-03T10:00:00Z')];
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-04T00:00:00Z' };
    const s = costSeries(TENANT, usage, [card('2026-10-01')], LIST, period, 'day');
    expect(s.buckets.map((b) => [b.from.slice(0, 10), b.total, b.priced])).toEqual([
      [
        '2026-11-01',
        rateUsage(usage.slice(0, 2), [card('2026-10-01')], LIST, {
          from: '2026-11-01T00:00:00Z',
          to: '2026-11-02T00:00:00Z',
        }).total,
        true,
      ],
      ['2026-11-02', '0.00', true],
      [
        '2026-11-03',
        rateUsage(usage.slice(2), [card('2026-10-01')], LIST, {
          from: '2026-11-03T00:00:00Z',
          to: '2026-11-04T00:00:00Z',
        }).total,
        true,
      ],
    ]);
    // Day 1: vcpu 2×2 h×0.0125 = 0.05; memory 4 GiB×2 h×0.005 = 0.04; disk 100×2/730×0.10 = 0.0274 → 0.03; net 2 GiB×0.09 = 0.18.
    expect(s.buckets[0]?.byResource).toEqual([
      { resource: 'vcpu', amount: '0.05' },
      { resource: 'memory', amount: '0.04' },
      { resource: 'disk', amount: '0.03' },
      { resource: 'network-out-internet', amount: '0.18' },
    ]);
    expect(s.buckets[0]?.total).toBe('0.30');
    expect(s.resources).toEqual(['vcpu', 'memory', 'disk', 'network-out-internet']);
    expect(s.currency).toBe('USD');
    expectBucketsReconcile(s);
  });

  it('says that buckets are rounded on their own, and may differ from the period’s bill by cents', () => {
    // 100 GiB of disk for one hour a day: 0.0137 a day → 0.01 each; the month's bill rounds 0.0411 once → 0.04.
    const usage = ['01', '02', '03'].map((d) =>
      row(`2026-11-${d}T10:00:00Z`, {
        vcpus: 0,
        runningSeconds: 0,
        memMibSeconds: 0,
        networkOutBytes: { internet: 0, datacenter: 0 },
      }),
    );
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-04T00:00:00Z' };
    const s = costSeries(TENANT, usage, [card('2026-10-01')], LIST, period, 'day');
    expect(s.buckets.map((b) => b.total)).toEqual(['0.01', '0.01', '0.01']);
    expect(s.bucketsTotal).toBe('0.03');
    expect(s.periodTotal).toBe('0.04');
    expect(s.periodTotal).toBe(rateUsage(usage, [card('2026-10-01')], LIST, period).total);
    expect(s.roundingNote).toMatch(/rounded on its own/);
  });

  it('applies a discount per bucket, rounded once; per resource − discount = total', () => {
    const usage = [row('2026-11-01T10:00:00Z'), row('2026-12-05T10:00:00Z')];
    const plan: TenantPlan = { kind: 'discount', percent: '10' };
    const period = { from: '2026-11-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
    const s = costSeries(TENANT, usage, [card('2026-10-01')], plan, period, 'month');
    expect(s.buckets.map((b) => [b.from.slice(0, 7), b.subtotal, b.discount, b.total])).toEqual([
      ['2026-11', '0.14', '0.01', '0.13'],
      ['2026-12', '0.14', '0.01', '0.13'],
    ]);
    expectBucketsReconcile(s);
  });

  it('prices a month under each card in effect, split at the card’s date, like a bill', () => {
    const usage = [row('2026-11-10T10:00:00Z'), row('2026-11-20T10:00:00Z')];
    const cards = [card('2026-10-01'), card('2026-11-15', { vcpuHour: '1' })];
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
    const s = costSeries(TENANT, usage, cards, LIST, period, 'month');
    expect(s.buckets).toHaveLength(1);
    // vCPU lines split at the card's date: 2 × 1 h × 0.0125 = 0.025 → 0.02, then 2 × 1 h × 1 = 2.00.
    expect(s.buckets[0]?.byResource.find((r) => r.resource === 'vcpu')?.amount).toBe('2.02');
    expect(s.buckets[0]?.total).toBe(s.periodTotal);
  });

  it('leaves days before the first rate card unpriced (zero), like the bill, and says from when it prices', () => {
    const usage = [row('2026-11-01T10:00:00Z'), row('2026-11-02T10:00:00Z')];
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' };
    const cards = [card('2026-11-02')];
    const s = costSeries(TENANT, usage, cards, LIST, period, 'day');
    expect(s.buckets.map((b) => [b.priced, b.total, b.byResource.length])).toEqual([
      [false, '0.00', 0],
      // One hour: vcpu 0.025 → 0.02 (half to even), memory 0.02, disk 0.0137 → 0.01, network 0.09.
      [true, '0.14', 4],
    ]);
    expect(s.periodTotal).toBe(rateUsage(usage, cards, LIST, period).total);
    expect(s.unpricedBefore).toBe('2026-11-02T00:00:00Z');
  });

  it('fails like a bill when the provider has no rate card at all', () => {
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' };
    expect(() => costSeries(TENANT, [], [], LIST, period, 'day')).toThrowError(ChargebackError);
    // A card from later on: every day unpriced, nothing charged.
    const later = costSeries(TENANT, [row('2026-11-01T10:00:00Z')], [card('2027-01-01')], LIST, period, 'day');
    expect(later.buckets.map((b) => [b.priced, b.total])).toEqual([
      [false, '0.00'],
      [false, '0.00'],
    ]);
  });

  it('property: every bucket reconciles, and Σ buckets is within half a cent per line of the period’s bill', () => {
    const hours = Array.from({ length: 24 * 6 }, (_, i) =>
      new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString(),
    );
    const arbRow = fc.record({
      vm: fc.constantFrom('vm-a', 'vm-b', 'vm-c'),
      hour: fc.constantFrom(...hours),
      vcpus: fc.integer({ min: 0, max: 64 }),
      running: fc.integer({ min: 0, max: 3600 }),
      memMiB: fc.integer({ min: 0, max: 65536 }),
      diskGiB: fc.integer({ min: 0, max: 4096 }),
      outBytes: fc.integer({ min: 0, max: 50 * GIB_BYTES }),
    });
    fc.assert(
      fc.property(
        fc.array(arbRow, { maxLength: 60 }),
        fc.constantFrom<'day' | 'month'>('day', 'month'),
        (rows, bucket) => {
          const unique = new Map(rows.map((r) => [`${r.vm}${r.hour}`, r]));
          const usage = [...unique.values()].map((r) =>
            row(
              r.hour,
              {
                vcpus: r.vcpus,
                runningSeconds: r.running,
                memMibSeconds: r.memMiB * r.running,
                diskGibSeconds: r.diskGiB * 3600,
                networkOutBytes: { internet: r.outBytes, datacenter: 0 },
              },
              r.vm,
            ),
          );
          const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-07T00:00:00Z' };
          const s = costSeries(TENANT, usage, [card('2026-10-01')], LIST, period, bucket);
          expectBucketsReconcile(s);
          const whole = rateUsage(usage, [card('2026-10-01')], LIST, period);
          expect(s.periodTotal).toBe(whole.total);
          // Each bucket line and each period line rounds by at most half a cent.
          const lines = s.buckets.reduce((n, b) => n + b.byResource.length * 3, 0) + whole.lines.length;
          expect(new Dec(s.bucketsTotal).minus(whole.total).abs().lte(new Dec(lines).times('0.005'))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('cost series input', () => {
  const base = { period: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, bucket: 'day' as const };
  const message = (value: unknown) => {
    const r = costSeriesInput.safeParse(value);
    return r.success ? null : r.error.issues.map((i) => i.message).join('; ');
  };
  it('accepts 400 days and refuses 401, naming the limit', () => {
    expect(message({ ...base, period: { from: '2026-01-01T00:00:00Z', to: '2027-02-05T00:00:00Z' } })).toBeNull();
    expect(message({ ...base, period: { from: '2026-01-01T00:00:00Z', to: '2027-02-06T00:00:00Z' } })).toBe(
      'At most 400 daily buckets per cost series; this period has 401. Choose a shorter period or monthly buckets.',
    );
  });
  it('accepts 120 months and refuses 121', () => {
    expect(
      message({ bucket: 'month', period: { from: '2020-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' } }),
    ).toBeNull();
    expect(message({ bucket: 'month', period: { from: '2020-01-01T00:00:00Z', to: '2030-01-01T01:00:00Z' } })).toMatch(
      /^At most 120 monthly buckets per cost series; this period has 121/,
    );
  });
  it('refuses a reversed period or one off the hour', () => {
    expect(message({ ...base, period: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toMatch(
      /end after it starts/,
    );
    expect(message({ ...base, period: { from: '2026-01-01T00:30:00Z', to: '2026-01-02T00:00:00Z' } })).toMatch(
      /whole UTC hour/,
    );
  });
});
