/**
 * Invariants of a bill over random usage, cards and plans (STYLE.md rule 7):
 * the money sums match exactly, each amount is its quantity × rate rounded
 * once, row order never matters, a period rated in two pieces agrees
 * with the whole to within one minor unit per line, and rating days (or
 * per-card sums) instead of hours gives the very same invoice.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Invoice, rateUsage, rateUsageTotals } from './rate';
import { cardsInEffect, type RateCard, type RatePrices } from './rate-card';
import type { TenantPlan } from './tenant-plan';
import { type Counter, type HourlyUsage, type UsageRow, usageFromHourly } from './usage.schema';

const HOUR_MS = 3_600_000;
const PERIOD_FROM_MS = Date.parse('2026-11-28T00:00:00Z');
const PERIOD_HOURS = 24 * 6;
const iso = (ms: number) => new Date(ms).toISOString();
const PERIOD = { from: iso(PERIOD_FROM_MS), to: iso(PERIOD_FROM_MS + PERIOD_HOURS * HOUR_MS) };

// Prices of 0 to 10 with up to 6 decimals, built from an integer so they are exact decimals.
const priceArb = fc
  .integer({ min: 0, max: 10_000_000 })
  .map((micros) => new Decimal(micros).dividedBy(1_000_000).toFixed());
const classArb = fc.record({ internet: priceArb, datacenter: priceArb });
const pricesArb: fc.Arbitrary<RatePrices> = fc.record({
  vcpuHour: priceArb,
  memoryGiBHour: priceArb,
  diskGiBMonth: priceArb,
  networkOutGiB: classArb,
  networkInGiB: classArb,
  replicaStorageGiBMonth: priceArb,
});

// A base card before the period, and up to three changes on days inside it.
const cardsArb: fc.Arbitrary<RateCard[]> = fc
  .tuple(
    fc.constantFrom('EUR', 'JPY', 'KWD'),
    pricesArb,
    fc.uniqueArray(fc.record({ day: fc.integer({ min: 1, max: 5 }), prices: pricesArb }), {
      maxLength: 3,
      selector: (change) => change.day,
    }),
  )
  .map(([currency, basePrices, changes]) => [
    { currency, effectiveFrom: '2026-10-01', prices: basePrices },
    ...changes.map((change) => ({
      currency,
      effectiveFrom: iso(PERIOD_FROM_MS + change.day * 24 * HOUR_MS).slice(0, 10),
      prices: change.prices,
    })),
  ]);

const bytesArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 }));
const rowArb: fc.Arbitrary<HourlyUsage> = fc.record({
  vmId: fc.constantFrom('vm-a', 'vm-b', 'vm-c', 'vm-d'),
  vmName: fc.constantFrom('web', 'db', 'cache'),
  // Hours a little outside the period too: those rows must be ignored.
  hour: fc.integer({ min: -3, max: PERIOD_HOURS + 2 }).map((h) => iso(PERIOD_FROM_MS + h * HOUR_MS)),
  vcpus: fc.integer({ min: 0, max: 64 }),
  runningSeconds: fc.integer({ min: 0, max: 3600 }),
  memMibSeconds: fc.integer({ min: 0, max: 256 * 1024 * 3600 }),
  diskGibSeconds: fc.oneof(fc.integer({ min: 0, max: 4096 * 3600 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
  replicaGibSeconds: fc.integer({ min: 0, max: 4096 * 3600 }),
  networkInBytes: fc.record({ internet: bytesArb, datacenter: bytesArb }),
  networkOutBytes: fc.record({ internet: bytesArb, datacenter: bytesArb }),
});
const usageArb = fc.uniqueArray(rowArb, { maxLength: 60, selector: (r) => `${r.vmId} ${r.hour}` });

const planArb: fc.Arbitrary<TenantPlan> = fc.oneof(
  fc.constant({ kind: 'list' as const }),
  fc
    .integer({ min: 0, max: 1_000_000 })
    .map((p) => ({ kind: 'discount' as const, percent: new Decimal(p).dividedBy(10_000).toFixed() })),
  fc.record({ vcpu: priceArb, 'network-out-internet': priceArb }, { requiredKeys: [] }).map((prices) => ({
    kind: 'override' as const,
    prices,
  })),
);

const minorUnit = (invoice: Invoice) =>
  new Decimal(1).dividedBy(new Decimal(10).pow(invoice.subtotal.split('.')[1]?.length ?? 0));

describe('rateUsage properties', () => {
  it('total = subtotal − discount and subtotal = Σ line amounts, exactly; amount = round(quantity × rate)', () => {
    fc.assert(
      fc.property(usageArb, cardsArb, planArb, (usage, cards, plan) => {
        const invoice = rateUsage(usage, cards, plan, PERIOD);
        const sum = invoice.lines.reduce((acc, line) => acc.plus(line.amount), new Decimal(0));
        expect(sum.equals(invoice.subtotal)).toBe(true);
        expect(new Decimal(invoice.subtotal).minus(invoice.discount).equals(invoice.total)).toBe(true);
        const places = invoice.subtotal.split('.')[1]?.length ?? 0;
        for (const line of invoice.lines) {
          // Recomputed here with decimal.js directly, half to even, to the currency's minor unit.
          const expected = new Decimal(line.quantity).times(line.rate).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN);
          expect(line.amount).toBe(expected.toFixed(places));
          expect(new Decimal(line.quantity).isPositive() && !new Decimal(line.quantity).isZero()).toBe(true);
        }
        if (plan.kind !== 'discount') expect(new Decimal(invoice.discount).isZero()).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('rating the same usage in a different order gives the identical invoice', () => {
    fc.assert(
      fc.property(
        usageArb.chain((usage) =>
          fc.tuple(
            fc.constant(usage),
            fc.shuffledSubarray(usage, { minLength: usage.length, maxLength: usage.length }),
          ),
        ),
        cardsArb,
        planArb,
        ([usage, shuffled], cards, plan) => {
          expect(rateUsage(shuffled, [...cards].reverse(), plan, PERIOD)).toEqual(
            rateUsage(usage, cards, plan, PERIOD),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a period rated in two pieces sums to within one minor unit per line of the whole', () => {
    // Why one unit: for one VM, resource and card, the exact amounts of the two
    // pieces (a, b) add up to the whole's exact amount (quantities are linear
    // in the summed counters). Each of round(a), round(b) and round(a + b) is
    // off by at most half a unit, so round(a) + round(b) − round(a + b) is at
    // most 1.5 units away from zero; being a whole number of units, it is -1,
    // 0 or 1. It is not always 0: 0.004 + 0.004 bills 0.00 + 0.00 in pieces
    // but 0.01 whole. That is why a closed period is never re-rated in pieces.
    fc.assert(
      fc.property(
        usageArb,
        cardsArb,
        planArb,
        fc.integer({ min: 1, max: PERIOD_HOURS - 1 }),
        (usage, cards, plan, cut) => {
          const cutIso = iso(PERIOD_FROM_MS + cut * HOUR_MS);
          const whole = rateUsage(usage, cards, plan, PERIOD);
          const first = rateUsage(usage, cards, plan, { from: PERIOD.from, to: cutIso });
          const second = rateUsage(usage, cards, plan, { from: cutIso, to: PERIOD.to });
          const unit = minorUnit(whole);
          const key = (l: Invoice['lines'][number]) => `${l.vmId} ${l.resource} ${l.cardEffectiveFrom}`;
          const pieces = new Map<string, Decimal>();
          for (const line of [...first.lines, ...second.lines]) {
            pieces.set(key(line), (pieces.get(key(line)) ?? new Decimal(0)).plus(line.amount));
          }
          expect([...pieces.keys()].sort()).toEqual(whole.lines.map(key).sort());
          for (const line of whole.lines) {
            const difference = (pieces.get(key(line)) ?? new Decimal(0)).minus(line.amount).abs();
            expect(difference.lessThanOrEqualTo(unit)).toBe(true);
          }
          const subtotalDifference = new Decimal(first.subtotal).plus(second.subtotal).minus(whole.subtotal).abs();
          expect(subtotalDifference.lessThanOrEqualTo(unit.times(whole.lines.length))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the totals alone (the all-tenant report) equal the invoice’s totals and counts', () => {
    fc.assert(
      fc.property(usageArb, cardsArb, planArb, (usage, cards, plan) => {
        const invoice = rateUsage(usage, cards, plan, PERIOD);
        expect(rateUsageTotals(usage, cards, plan, PERIOD)).toEqual({
          currency: invoice.currency,
          subtotal: invoice.subtotal,
          discount: invoice.discount,
          total: invoice.total,
          vmCount: new Set(invoice.lines.map((l) => l.vmId)).size,
          lineCount: invoice.lines.length,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('rating whole days from daily rows and the edges from hourly rows gives exactly the hourly invoice', () => {
    fc.assert(
      fc.property(storedUsageArb, cardsArb, planArb, periodArb, (usage, cards, plan, period) => {
        const hourly = rateUsage(usage, cards, plan, period);
        expect(rateUsage(daysAndEdges(usage, period), cards, plan, period)).toEqual(hourly);
        // What the all-tenant report sends: one row per VM and card segment.
        expect(rateUsage(perSegment(usage, cards, period), cards, plan, period)).toEqual(hourly);
      }),
      { numRuns: 300 },
    );
  });
});

// Counters as Postgres stores them (numeric with at most 3 or 4 decimals), so
// the day sums are exact, as they are in SQL.
const decimalArb = (max: number, places: number) =>
  fc.integer({ min: 0, max: max * 10 ** places }).map((n) => new Decimal(n).dividedBy(10 ** places).toNumber());
const storedRowArb: fc.Arbitrary<HourlyUsage> = fc.record({
  vmId: fc.constantFrom('vm-a', 'vm-b', 'vm-c'),
  vmName: fc.constantFrom('web', 'db', 'cache'),
  hour: fc.integer({ min: -3, max: PERIOD_HOURS + 2 }).map((h) => iso(PERIOD_FROM_MS + h * HOUR_MS)),
  vcpus: fc.integer({ min: 0, max: 64 }),
  runningSeconds: fc.integer({ min: 0, max: 3600 }),
  memMibSeconds: decimalArb(256 * 1024 * 3600, 3),
  diskGibSeconds: decimalArb(4096 * 3600, 4),
  replicaGibSeconds: decimalArb(4096 * 3600, 4),
  networkInBytes: fc.record({ internet: bytesArb, datacenter: bytesArb }),
  networkOutBytes: fc.record({ internet: bytesArb, datacenter: bytesArb }),
});
const storedUsageArb = fc.uniqueArray(storedRowArb, { maxLength: 120, selector: (r) => `${r.vmId} ${r.hour}` });
// Periods on any hours in and around the six days, so most have partial days at both ends.
const periodArb = fc
  .tuple(fc.integer({ min: -2, max: PERIOD_HOURS }), fc.integer({ min: 1, max: PERIOD_HOURS }))
  .map(([start, length]) => ({
    from: iso(PERIOD_FROM_MS + start * HOUR_MS),
    to: iso(PERIOD_FROM_MS + (start + length) * HOUR_MS),
  }));

const DAY_MS = 24 * HOUR_MS;
const sum = (values: Counter[]) => values.reduce<Decimal>((acc, v) => acc.plus(v), new Decimal(0)).toFixed();

/** Sums hourly rows into one row spanning [from, to), as the daily rollup and the report's SQL do. */
function spanOf(rows: HourlyUsage[], from: number, to: number): UsageRow {
  const hours = rows.map(usageFromHourly);
  const latest = [...rows].sort((a, b) => Date.parse(b.hour) - Date.parse(a.hour))[0];
  return {
    vmId: latest?.vmId ?? '',
    vmName: latest?.vmName ?? '',
    from: iso(from),
    to: iso(to),
    vcpuSeconds: sum(hours.map((h) => h.vcpuSeconds)),
    memMibSeconds: sum(hours.map((h) => h.memMibSeconds)),
    diskGibSeconds: sum(hours.map((h) => h.diskGibSeconds)),
    replicaGibSeconds: sum(hours.map((h) => h.replicaGibSeconds)),
    networkInBytes: {
      internet: sum(hours.map((h) => h.networkInBytes.internet)),
      datacenter: sum(hours.map((h) => h.networkInBytes.datacenter)),
    },
    networkOutBytes: {
      internet: sum(hours.map((h) => h.networkOutBytes.internet)),
      datacenter: sum(hours.map((h) => h.networkOutBytes.datacenter)),
    },
  };
}

function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

/** Daily rows for the whole UTC days inside the period, hourly rows for its partial-day edges. */
function daysAndEdges(usage: HourlyUsage[], period: { from: string; to: string }): UsageRow[] {
  const fromMs = Date.parse(period.from);
  const toMs = Date.parse(period.to);
  const firstDay = Math.ceil(fromMs / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(toMs / DAY_MS) * DAY_MS;
  const inWholeDay = (ms: number) => firstDay < lastDay && ms >= firstDay && ms < lastDay;
  const edges = usage.filter((r) => !inWholeDay(Date.parse(r.hour))).map(usageFromHourly);
  const days = groupBy(usage, (r) => {
    const ms = Date.parse(r.hour);
    return inWholeDay(ms) ? `${r.vmId} ${Math.floor(ms / DAY_MS) * DAY_MS}` : undefined;
  });
  const dayRows = [...days].map(([key, rows]) => {
    const dayMs = Number(key.split(' ')[1]);
    return spanOf(rows, dayMs, dayMs + DAY_MS);
  });
  return [...dayRows, ...edges];
}

/** One row per VM and card segment of the period (the rows before the first card and outside are dropped). */
function perSegment(usage: HourlyUsage[], cards: RateCard[], period: { from: string; to: string }): UsageRow[] {
  const segments = cardsInEffect(cards, Date.parse(period.from), Date.parse(period.to));
  const groups = groupBy(usage, (r) => {
    const ms = Date.parse(r.hour);
    const index = segments.findIndex((s) => s.fromMs <= ms && ms < s.toMs);
    return index < 0 ? undefined : `${r.vmId} ${index}`;
  });
  return [...groups].map(([key, rows]) => {
    const segment = segments[Number(key.split(' ')[1])];
    return spanOf(rows, segment?.fromMs ?? 0, segment?.toMs ?? 0);
  });
}
