import { describe, expect, it } from 'vitest';
import { rateUsage } from './rate';
import type { RateCard, RatePrices } from './rate-card';
import type { TenantPlan } from './tenant-plan';
import type { HourlyUsage, UsageRow } from './usage.schema';

const GIB_BYTES = 2 ** 30;

const basePrices: RatePrices = {
  vcpuHour: '0.01',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.1',
  networkOutGiB: { internet: '0.09', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.05',
};
const zeroPrices: RatePrices = {
  vcpuHour: '0',
  memoryGiBHour: '0',
  diskGiBMonth: '0',
  networkOutGiB: { internet: '0', datacenter: '0' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0',
};
const card = (effectiveFrom: string, prices: Partial<RatePrices> = {}, currency = 'EUR'): RateCard => ({
  currency,
  effectiveFrom,
  prices: { ...basePrices, ...prices },
});
/** A VM that did nothing for an hour; each case adds only what it bills. */
const row = (hour: string, usage: Partial<HourlyUsage> = {}): HourlyUsage => ({
  vmId: 'vm-a',
  vmName: 'web-1',
  hour,
  vcpus: 0,
  runningSeconds: 0,
  memMibSeconds: 0,
  diskGibSeconds: 0,
  replicaGibSeconds: 0,
  networkInBytes: { internet: 0, datacenter: 0 },
  networkOutBytes: { internet: 0, datacenter: 0 },
  ...usage,
});
const LIST: TenantPlan = { kind: 'list' };
const NOV = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };

/** [resource, quantity, rate, amount, cardEffectiveFrom] per line, in invoice order. */
type LineRow = [string, string, string, string, string];

interface Case {
  name: string;
  usage: HourlyUsage[];
  cards: RateCard[];
  plan?: TenantPlan;
  period?: { from: string; to: string };
  lines: LineRow[];
  totals: { subtotal: string; discount: string; total: string };
}

const cases: Case[] = [
  {
    name: 'one hour of every resource at list price',
    usage: [
      row('2026-11-03T10:00:00Z', {
        vcpus: 2,
        runningSeconds: 3600,
        memMibSeconds: 4096 * 3600,
        diskGibSeconds: 100 * 3600,
        replicaGibSeconds: 730 * 3600,
        networkOutBytes: { internet: GIB_BYTES, datacenter: GIB_BYTES / 2 },
        networkInBytes: { internet: GIB_BYTES, datacenter: 0 },
      }),
    ],
    cards: [card('2026-10-01', { networkInGiB: { internet: '0.001', datacenter: '0' } })],
    lines: [
      ['vcpu', '2', '0.01', '0.02', '2026-10-01'],
      ['memory', '4', '0.005', '0.02', '2026-10-01'],
      // 100 GiB for 1 of a month's 730 hours: 100 / 730 GiB-months.
      ['disk', '0.136986301369863013698630136986301369863', '0.1', '0.01', '2026-10-01'],
      ['replica-storage', '1', '0.05', '0.05', '2026-10-01'],
      ['network-out-internet', '1', '0.09', '0.09', '2026-10-01'],
      // 0.5 GiB × 0.01 = 0.005 exactly: half to even gives 0.00.
      ['network-out-datacenter', '0.5', '0.01', '0.00', '2026-10-01'],
      // 1 GiB × 0.001 = 0.001, below half a cent: a line with an amount of zero still shows the usage.
      ['network-in-internet', '1', '0.001', '0.00', '2026-10-01'],
    ],
    totals: { subtotal: '0.19', discount: '0.00', total: '0.19' },
  },
  {
    name: 'a VM stopped half the hour pays half the vCPU-hours',
    usage: [row('2026-11-03T10:00:00Z', { vcpus: 4, runningSeconds: 1800 })],
    cards: [card('2026-10-01', { vcpuHour: '0.5' })],
    lines: [['vcpu', '2', '0.5', '1.00', '2026-10-01']],
    totals: { subtotal: '1.00', discount: '0.00', total: '1.00' },
  },
  {
    name: 'a rate change inside the period splits the line at 00:00 UTC of its date',
    usage: ['2026-11-14T22:00:00Z', '2026-11-14T23:00:00Z', '2026-11-15T00:00:00Z', '2026-11-15T01:00:00Z'].map((h) =>
      row(h, { vcpus: 1, runningSeconds: 3600 }),
    ),
    cards: [card('2026-11-15', { vcpuHour: '0.02' }), card('2026-10-01', { vcpuHour: '0.01' })],
    lines: [
      ['vcpu', '2', '0.01', '0.02', '2026-10-01'],
      ['vcpu', '2', '0.02', '0.04', '2026-11-15'],
    ],
    totals: { subtotal: '0.06', discount: '0.00', total: '0.06' },
  },
  {
    name: 'a card that takes effect after the period does not appear',
    usage: [row('2026-11-30T23:00:00Z', { vcpus: 1, runningSeconds: 3600 })],
    cards: [card('2026-10-01', { vcpuHour: '1' }), card('2026-12-01', { vcpuHour: '2' })],
    lines: [['vcpu', '1', '1', '1.00', '2026-10-01']],
    totals: { subtotal: '1.00', discount: '0.00', total: '1.00' },
  },
  {
    name: 'a discount is taken off the subtotal and rounded once, half to even (0.025 → 0.02)',
    usage: [row('2026-11-03T10:00:00Z', { vcpus: 1, runningSeconds: 3600 })],
    cards: [card('2026-10-01', { vcpuHour: '0.25' })],
    plan: { kind: 'discount', percent: '10' },
    lines: [['vcpu', '1', '0.25', '0.25', '2026-10-01']],
    totals: { subtotal: '0.25', discount: '0.02', total: '0.23' },
  },
  {
    name: 'a discount of 100 % makes the bill free but keeps the lines',
    usage: [row('2026-11-03T10:00:00Z', { vcpus: 3, runningSeconds: 3600 })],
    cards: [card('2026-10-01', { vcpuHour: '0.333333' })],
    plan: { kind: 'discount', percent: '100' },
    lines: [['vcpu', '3', '0.333333', '1.00', '2026-10-01']],
    totals: { subtotal: '1.00', discount: '1.00', total: '0.00' },
  },
  {
    name: 'an override replaces only the resources it names, under every card',
    usage: ['2026-11-14T23:00:00Z', '2026-11-15T00:00:00Z'].map((h) =>
      row(h, { vcpus: 1, runningSeconds: 3600, memMibSeconds: 1024 * 3600 }),
    ),
    cards: [card('2026-10-01', { memoryGiBHour: '0.1' }), card('2026-11-15', { memoryGiBHour: '0.2' })],
    plan: { kind: 'override', prices: { vcpu: '0.75' } },
    lines: [
      ['vcpu', '1', '0.75', '0.75', '2026-10-01'],
      ['vcpu', '1', '0.75', '0.75', '2026-11-15'],
      ['memory', '1', '0.1', '0.10', '2026-10-01'],
      ['memory', '1', '0.2', '0.20', '2026-11-15'],
    ],
    totals: { subtotal: '1.80', discount: '0.00', total: '1.80' },
  },
  {
    name: 'rounding is half to even at .005: 0.005 → 0.00, 0.015 → 0.02, 0.025 → 0.02, 0.0051 → 0.01',
    usage: [
      row('2026-11-03T10:00:00Z', { vmId: 'vm-1', vcpus: 1, runningSeconds: 3600 }),
      row('2026-11-03T10:00:00Z', { vmId: 'vm-3', vcpus: 3, runningSeconds: 3600 }),
      row('2026-11-03T10:00:00Z', { vmId: 'vm-5', vcpus: 5, runningSeconds: 3600 }),
      row('2026-11-03T10:00:00Z', { vmId: 'vm-6', memMibSeconds: 1024 * 3600 }),
    ],
    cards: [card('2026-10-01', { vcpuHour: '0.005', memoryGiBHour: '0.0051' })],
    lines: [
      ['vcpu', '1', '0.005', '0.00', '2026-10-01'],
      ['vcpu', '3', '0.005', '0.02', '2026-10-01'],
      ['vcpu', '5', '0.005', '0.02', '2026-10-01'],
      ['memory', '1', '0.0051', '0.01', '2026-10-01'],
    ],
    totals: { subtotal: '0.05', discount: '0.00', total: '0.05' },
  },
  {
    name: 'each line is rounded once: 1000 hours at 0.0004 is 0.40, not 1000 × 0.00',
    usage: Array.from({ length: 1000 }, (_, i) =>
      row(new Date(Date.parse('2026-11-01T00:00:00Z') + i * 3_600_000).toISOString(), {
        vcpus: 1,
        runningSeconds: 3600,
      }),
    ),
    cards: [card('2026-10-01', { vcpuHour: '0.0004' })],
    period: { from: '2026-11-01T00:00:00Z', to: '2027-01-01T00:00:00Z' },
    lines: [['vcpu', '1000', '0.0004', '0.40', '2026-10-01']],
    totals: { subtotal: '0.40', discount: '0.00', total: '0.40' },
  },
  {
    name: 'a currency without minor units rounds to whole units, half to even (JPY 2.5 → 2, 3.5 → 4)',
    usage: [
      row('2026-11-03T10:00:00Z', { vmId: 'vm-1', vcpus: 5, runningSeconds: 3600 }),
      row('2026-11-03T10:00:00Z', { vmId: 'vm-2', vcpus: 7, runningSeconds: 3600 }),
    ],
    cards: [card('2026-10-01', { vcpuHour: '0.5' }, 'JPY')],
    lines: [
      ['vcpu', '5', '0.5', '2', '2026-10-01'],
      ['vcpu', '7', '0.5', '4', '2026-10-01'],
    ],
    totals: { subtotal: '6', discount: '0', total: '6' },
  },
  {
    name: 'a currency with three minor digits keeps them (KWD)',
    usage: [row('2026-11-03T10:00:00Z', { vcpus: 1, runningSeconds: 3600 })],
    cards: [card('2026-10-01', { vcpuHour: '0.0125' }, 'KWD')],
    lines: [['vcpu', '1', '0.0125', '0.012', '2026-10-01']],
    totals: { subtotal: '0.012', discount: '0.000', total: '0.012' },
  },
  {
    name: 'zero usage gives no lines and a zero bill',
    usage: [row('2026-11-03T10:00:00Z'), row('2026-11-03T11:00:00Z', { vcpus: 8, runningSeconds: 0 })],
    cards: [card('2026-10-01')],
    plan: { kind: 'discount', percent: '50' },
    lines: [],
    totals: { subtotal: '0.00', discount: '0.00', total: '0.00' },
  },
  {
    name: 'rows outside the period are not billed',
    usage: [
      row('2026-10-31T23:00:00Z', { vcpus: 1, runningSeconds: 3600 }),
      row('2026-11-01T00:00:00Z', { vcpus: 1, runningSeconds: 3600 }),
      row('2026-12-01T00:00:00Z', { vcpus: 1, runningSeconds: 3600 }),
    ],
    cards: [card('2026-10-01', { vcpuHour: '1' })],
    lines: [['vcpu', '1', '1', '1.00', '2026-10-01']],
    totals: { subtotal: '1.00', discount: '0.00', total: '1.00' },
  },
  {
    name: 'a zero price still lists the usage',
    usage: [row('2026-11-03T10:00:00Z', { vcpus: 1, runningSeconds: 3600 })],
    cards: [card('2026-10-01', zeroPrices)],
    lines: [['vcpu', '1', '0', '0.00', '2026-10-01']],
    totals: { subtotal: '0.00', discount: '0.00', total: '0.00' },
  },
];

describe('rateUsage', () => {
  it.each(cases)('$name', ({ usage, cards, plan, period, lines, totals }) => {
    const invoice = rateUsage(usage, cards, plan ?? LIST, period ?? NOV);
    expect(invoice.lines.map((l) => [l.resource, l.quantity, l.rate, l.amount, l.cardEffectiveFrom])).toEqual(lines);
    expect({ subtotal: invoice.subtotal, discount: invoice.discount, total: invoice.total }).toEqual(totals);
  });

  it('gives each line its VM, unit and the VM name of its latest hour', () => {
    const invoice = rateUsage(
      [
        row('2026-11-03T11:00:00Z', { vmName: 'web-renamed', memMibSeconds: 1024 * 3600 }),
        row('2026-11-03T10:00:00Z', { vmName: 'web-1', vcpus: 1, runningSeconds: 3600 }),
      ],
      [card('2026-10-01')],
      LIST,
      NOV,
    );
    expect(invoice.currency).toBe('EUR');
    expect(invoice.lines.map((l) => [l.vmId, l.vmName, l.resource, l.unit])).toEqual([
      ['vm-a', 'web-renamed', 'vcpu', 'vCPU-hour'],
      ['vm-a', 'web-renamed', 'memory', 'GiB-hour'],
    ]);
  });

  it('rejects the same VM-hour twice rather than billing it twice', () => {
    const hour = row('2026-11-03T10:00:00Z', { vcpus: 1, runningSeconds: 3600 });
    expect(() => rateUsage([hour, { ...hour }], [card('2026-10-01')], LIST, NOV)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_USAGE' }),
    );
  });

  it('does not charge the hours before the first card, and says so', () => {
    const usage = ['2026-11-19T23:00:00Z', '2026-11-20T00:00:00Z'].map((h) =>
      row(h, { vcpus: 1, runningSeconds: 3600 }),
    );
    const invoice = rateUsage(usage, [card('2026-11-20', { vcpuHour: '1' })], LIST, NOV);
    expect(invoice.unpricedBefore).toBe('2026-11-20T00:00:00Z');
    expect(invoice.lines.map((l) => [l.resource, l.quantity, l.amount])).toEqual([['vcpu', '1', '1.00']]);
    expect(invoice.total).toBe('1.00');
    // A period wholly before the first card: a zero bill in the cards' currency, still saying why.
    const before = rateUsage(usage, [card('2026-12-05', {}, 'USD')], LIST, NOV);
    expect(before).toMatchObject({ currency: 'USD', lines: [], total: '0.00', unpricedBefore: '2026-12-05T00:00:00Z' });
    // A period that the cards cover says nothing.
    expect(rateUsage(usage, [card('2026-10-01')], LIST, NOV).unpricedBefore).toBeUndefined();
  });

  it('refuses to bill without any rate card', () => {
    expect(() => rateUsage([], [], LIST, NOV)).toThrow(expect.objectContaining({ code: 'NO_RATE_CARD' }));
  });
});

describe('rateUsage over days and other spans', () => {
  const day = (date: string, usage: Partial<UsageRow> = {}): UsageRow => ({
    vmId: 'vm-a',
    vmName: 'web-1',
    from: `${date}T00:00:00Z`,
    to: new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString(),
    vcpuSeconds: 0,
    memMibSeconds: 0,
    diskGibSeconds: 0,
    replicaGibSeconds: 0,
    networkInBytes: { internet: 0, datacenter: 0 },
    networkOutBytes: { internet: 0, datacenter: 0 },
    ...usage,
  });

  it('rates a day row like its 24 hours, exact decimal strings beyond 2^53 included', () => {
    const bytes = '18014398509481985'; // 2^54 + 1: not a float
    const hours = Array.from({ length: 24 }, (_, h) =>
      row(new Date(Date.parse('2026-11-03T00:00:00Z') + h * 3_600_000).toISOString(), {
        vcpus: 2,
        runningSeconds: 3600,
      }),
    );
    const byDay = rateUsage(
      [day('2026-11-03', { vcpuSeconds: '172800', networkOutBytes: { internet: bytes, datacenter: 0 } })],
      [card('2026-10-01')],
      LIST,
      NOV,
    );
    expect(byDay.lines.map((l) => [l.resource, l.quantity, l.amount])).toEqual([
      ['vcpu', '48', '0.48'],
      ['network-out-internet', '16777216.000000000931322574615478515625', '1509949.44'],
    ]);
    const byHour = rateUsage(hours, [card('2026-10-01')], LIST, NOV);
    expect(byHour.lines[0]).toEqual(byDay.lines[0]);
  });

  it('names the VM after its latest span, whether an hour or a day', () => {
    const invoice = rateUsage(
      [
        row('2026-11-04T05:00:00Z', { vmName: 'web-latest', vcpus: 1, runningSeconds: 3600 }),
        day('2026-11-03', { vmName: 'web-older', vcpuSeconds: 3600 }),
      ],
      [card('2026-10-01')],
      LIST,
      NOV,
    );
    expect(invoice.lines.map((l) => [l.vmName, l.quantity])).toEqual([['web-latest', '2']]);
  });

  it.each([
    ['a day and one of its hours', [day('2026-11-03'), row('2026-11-03T10:00:00Z')], 'DUPLICATE_USAGE'],
    [
      'two overlapping spans',
      [day('2026-11-03'), { ...day('2026-11-03'), to: '2026-11-05T00:00:00Z' }],
      'DUPLICATE_USAGE',
    ],
    ['a day across the start of the period', [{ ...day('2026-11-01'), from: '2026-10-31T12:00:00Z' }], 'USAGE_SPAN'],
    ['a span across a card change', [{ ...day('2026-11-14'), to: '2026-11-16T00:00:00Z' }], 'USAGE_SPAN'],
    ['a span across the first card', [{ ...day('2026-09-30'), to: '2026-10-02T00:00:00Z' }], 'USAGE_SPAN'],
  ])('refuses %s rather than bill it wrong', (_name, usage, code) => {
    const period = { from: '2026-09-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
    const attempt = () =>
      rateUsage(usage, [card('2026-10-01'), card('2026-11-15')], LIST, _name.includes('start') ? NOV : period);
    expect(attempt).toThrow(expect.objectContaining({ code }));
  });
});
