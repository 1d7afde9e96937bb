/**
 * Rating metered address classes (metered port ACLs): lines
 * `network-out:<class>` / `network-in:<class>` priced under the card in
 * effect; a class the card does not price is listed at rate 0 and not
 * charged; usage and cards without ACLs rate exactly as before.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Invoice, rateUsage } from './rate';
import type { RateCard, RatePrices } from './rate-card';
import { rateCardSchema } from './rate-card.schema';
import { LIST_PLAN, type TenantPlan } from './tenant-plan';
import type { HourlyUsage } from './usage.schema';

const HOUR_MS = 3_600_000;
const GIB = 2 ** 30;
const FROM_MS = Date.parse('2026-11-28T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const PERIOD = { from: iso(FROM_MS), to: iso(FROM_MS + 72 * HOUR_MS) };

const basePrices: RatePrices = {
  vcpuHour: '0.02',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.05',
  networkOutGiB: { internet: '0.08', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.04',
};
const card = (effectiveFrom: string, prices: RatePrices = basePrices): RateCard => ({
  currency: 'EUR',
  effectiveFrom,
  prices,
});

const hourRow = (vmId: string, hour: number, aclBytes?: HourlyUsage['aclBytes']): HourlyUsage => ({
  vmId,
  vmName: vmId,
  hour: iso(FROM_MS + hour * HOUR_MS),
  vcpus: 2,
  runningSeconds: 3600,
  memMibSeconds: 4096 * 3600,
  diskGibSeconds: 40 * 3600,
  replicaGibSeconds: 0,
  networkInBytes: { internet: GIB, datacenter: 2 * GIB },
  networkOutBytes: { internet: 3 * GIB, datacenter: 4 * GIB },
  ...(aclBytes ? { aclBytes } : {}),
});

const sumLines = (invoice: Invoice) => invoice.lines.reduce((sum, l) => sum.plus(l.amount), new Decimal(0));
const withoutAcl = (invoice: Invoice) => invoice.lines.filter((l) => l.resource.includes(':') === false);

describe('rate cards with per-class prices', () => {
  it('parse with and without class prices; a card without them is unchanged by parsing', () => {
    expect(rateCardSchema.parse(card('2026-11-01'))).toEqual(card('2026-11-01'));
    const priced = card('2026-11-01', {
      ...basePrices,
      networkOutGiB: { ...basePrices.networkOutGiB, storage: '0.002' },
      networkInGiB: { ...basePrices.networkInGiB, storage: '0.001' },
    });
    expect(rateCardSchema.parse(priced).prices.networkOutGiB).toEqual({
      internet: '0.08',
      datacenter: '0.01',
      storage: '0.002',
    });
  });

  it('refuse a bad class name or price, naming it', () => {
    const bad = (out: Record<string, string>) =>
      rateCardSchema
        .safeParse(card('2026-11-01', { ...basePrices, networkOutGiB: { ...basePrices.networkOutGiB, ...out } }))
        .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(bad({ Storage: '0.1' })).toEqual(['prices.networkOutGiB.Storage: "Storage" is not an address class name']);
    expect(bad({ storage: '-1' })).toEqual([
      'prices.networkOutGiB.storage: A price is a decimal such as "0.0125" (at most 6 decimals)',
    ]);
  });
});

describe('rating metered classes', () => {
  const storagePrices: RatePrices = {
    ...basePrices,
    networkOutGiB: { ...basePrices.networkOutGiB, storage: '0.25' },
    networkInGiB: { ...basePrices.networkInGiB, storage: '0.125' },
  };

  it('prices each class and direction under its card, after the fixed lines, and totals are Σ lines', () => {
    const usage = [
      hourRow('vm-a', 0, { storage: { inBytes: GIB, outBytes: 2 * GIB }, backup: { inBytes: 0, outBytes: GIB } }),
      hourRow('vm-a', 30, { storage: { inBytes: GIB, outBytes: 2 * GIB } }),
    ];
    // From day 2 (hour 24) storage is priced; before it, it is not.
    const invoice = rateUsage(usage, [card('2026-10-01'), card('2026-11-29', storagePrices)], LIST_PLAN, PERIOD);
    const acl = invoice.lines.filter((l) => l.resource.includes(':'));
    expect(acl.map((l) => [l.resource, l.cardEffectiveFrom, l.quantity, l.rate, l.amount])).toEqual([
      ['network-out:backup', '2026-10-01', '1', '0', '0.00'],
      ['network-out:storage', '2026-10-01', '2', '0', '0.00'],
      ['network-out:storage', '2026-11-29', '2', '0.25', '0.50'],
      ['network-in:storage', '2026-10-01', '1', '0', '0.00'],
      ['network-in:storage', '2026-11-29', '1', '0.125', '0.12'], // half to even,
    ]);
    expect(acl.every((l) => l.unit === 'GiB' && l.vmId === 'vm-a')).toBe(true);
    // Fixed resources first, then the classes.
    const firstAcl = invoice.lines.findIndex((l) => l.resource.includes(':'));
    expect(invoice.lines.slice(firstAcl).every((l) => l.resource.includes(':'))).toBe(true);
    expect(sumLines(invoice).toFixed(2)).toBe(invoice.subtotal);
    const plain = rateUsage(
      usage.map(({ aclBytes: _, ...row }) => row),
      [card('2026-10-01'), card('2026-11-29', storagePrices)],
      LIST_PLAN,
      PERIOD,
    );
    expect(new Decimal(invoice.subtotal).minus(plain.subtotal).toFixed(2)).toBe('0.62');
    expect(withoutAcl(invoice)).toEqual(plain.lines);
  });

  it('a card without class prices charges nothing for them and lists their traffic', () => {
    const usage = [hourRow('vm-a', 1, { storage: { inBytes: 3 * GIB, outBytes: 5 * GIB } })];
    const invoice = rateUsage(usage, [card('2026-10-01')], LIST_PLAN, PERIOD);
    const plain = rateUsage([hourRow('vm-a', 1)], [card('2026-10-01')], LIST_PLAN, PERIOD);
    expect(invoice.total).toBe(plain.total);
    expect(
      invoice.lines.filter((l) => l.resource.includes(':')).map((l) => [l.resource, l.quantity, l.amount]),
    ).toEqual([
      ['network-out:storage', '5', '0.00'],
      ['network-in:storage', '3', '0.00'],
    ]);
  });
});

// Property: random usage with and without ACL bytes, cards with and without class prices.
const priceArb = fc.integer({ min: 0, max: 10_000_000 }).map((m) => new Decimal(m).dividedBy(1_000_000).toFixed());
const CLASSES = ['backup', 'storage', 'x-site'] as const;
const classPricesArb = fc.dictionary(fc.constantFrom(...CLASSES), priceArb, { maxKeys: 3 });
const pricesArb = (withClasses: boolean): fc.Arbitrary<RatePrices> =>
  fc
    .record({
      prices: fc.record({
        vcpuHour: priceArb,
        memoryGiBHour: priceArb,
        diskGiBMonth: priceArb,
        replicaStorageGiBMonth: priceArb,
        out: fc.record({ internet: priceArb, datacenter: priceArb }),
        in: fc.record({ internet: priceArb, datacenter: priceArb }),
      }),
      outClasses: withClasses ? classPricesArb : fc.constant({}),
      inClasses: withClasses ? classPricesArb : fc.constant({}),
    })
    .map(({ prices: p, outClasses, inClasses }) => ({
      vcpuHour: p.vcpuHour,
      memoryGiBHour: p.memoryGiBHour,
      diskGiBMonth: p.diskGiBMonth,
      replicaStorageGiBMonth: p.replicaStorageGiBMonth,
      networkOutGiB: { ...outClasses, ...p.out },
      networkInGiB: { ...inClasses, ...p.in },
    }));
const cardsArb = (withClasses: boolean) =>
  fc
    .tuple(pricesArb(withClasses), fc.option(pricesArb(withClasses), { nil: undefined }))
    .map(([base, change]) => [card('2026-10-01', base), ...(change ? [card('2026-11-29', change)] : [])]);
const bytesArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 }));
const aclArb = fc.dictionary(fc.constantFrom(...CLASSES), fc.record({ inBytes: bytesArb, outBytes: bytesArb }), {
  maxKeys: 3,
});
const rowArb = fc
  .record({
    vmId: fc.constantFrom('vm-a', 'vm-b', 'vm-c'),
    hour: fc.integer({ min: 0, max: 71 }),
    acl: fc.option(aclArb, { nil: undefined }),
    vcpus: fc.integer({ min: 0, max: 8 }),
    out: bytesArb,
  })
  .map(({ vmId, hour, acl, vcpus, out }) => ({
    ...hourRow(vmId, hour, acl),
    vcpus,
    networkOutBytes: { internet: out, datacenter: 0 },
  }));
const usageArb = fc.uniqueArray(rowArb, { maxLength: 40, selector: (r) => `${r.vmId} ${r.hour}` });
const planArb: fc.Arbitrary<TenantPlan> = fc.oneof(
  fc.constant(LIST_PLAN),
  fc.integer({ min: 0, max: 100 }).map((p) => ({ kind: 'discount' as const, percent: String(p) })),
);

describe('properties with metered classes', () => {
  it('subtotal = Σ lines exactly, total = subtotal − discount; order does not matter', () => {
    fc.assert(
      fc.property(usageArb, cardsArb(true), planArb, (usage, cards, plan) => {
        const invoice = rateUsage(usage, cards, plan, PERIOD);
        expect(sumLines(invoice).toFixed()).toBe(new Decimal(invoice.subtotal).toFixed());
        expect(new Decimal(invoice.subtotal).minus(invoice.discount).toFixed()).toBe(
          new Decimal(invoice.total).toFixed(),
        );
        for (const line of invoice.lines) {
          expect(
            new Decimal(line.quantity).times(line.rate).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed(2),
          ).toBe(line.amount);
        }
        expect(rateUsage([...usage].reverse(), cards, plan, PERIOD)).toEqual(invoice);
      }),
      { numRuns: 300 },
    );
  });

  it('a card without class prices gives today’s bill: same total and fixed lines, class lines at 0', () => {
    fc.assert(
      fc.property(usageArb, cardsArb(false), planArb, (usage, cards, plan) => {
        const invoice = rateUsage(usage, cards, plan, PERIOD);
        const today = rateUsage(
          usage.map(({ aclBytes: _, ...row }) => row),
          cards,
          plan,
          PERIOD,
        );
        expect([invoice.subtotal, invoice.discount, invoice.total]).toEqual([
          today.subtotal,
          today.discount,
          today.total,
        ]);
        expect(withoutAcl(invoice)).toEqual(today.lines);
        expect(invoice.lines.filter((l) => l.resource.includes(':')).every((l) => l.amount === '0.00')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
