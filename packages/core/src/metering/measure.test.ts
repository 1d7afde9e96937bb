import { describe, expect, it } from 'vitest';
import { aggregateMeasurement, planMeasureParts, type VmPeriodTotals } from './measure';
import { MEASURE_TOP_VMS, measureInput } from './measure.schema';

const H = 3_600_000;
const D = 24 * H;
const ms = (iso: string) => Date.parse(iso);
const iso = (spans: { fromMs: number; toMs: number }[]) =>
  spans.map((s) => [new Date(s.fromMs).toISOString(), new Date(s.toMs).toISOString()]);

describe('planMeasureParts', () => {
  it('a period inside one hour is read from raw samples only', () => {
    const p = planMeasureParts(ms('2026-11-02T10:05:00Z'), ms('2026-11-02T10:50:00Z'), []);
    expect(iso(p.raw)).toEqual([['2026-11-02T10:05:00.000Z', '2026-11-02T10:50:00.000Z']]);
    expect(p.hours).toEqual([]);
    expect(p.days).toEqual([]);
  });

  it('partial edge hours raw, whole hours hourly, whole UTC days daily', () => {
    const p = planMeasureParts(ms('2026-11-01T22:30:00Z'), ms('2026-11-04T01:15:00Z'), []);
    expect(iso(p.raw)).toEqual([
      ['2026-11-01T22:30:00.000Z', '2026-11-01T23:00:00.000Z'],
      ['2026-11-04T01:00:00.000Z', '2026-11-04T01:15:00.000Z'],
    ]);
    expect(iso(p.hours)).toEqual([
      ['2026-11-01T23:00:00.000Z', '2026-11-02T00:00:00.000Z'],
      ['2026-11-04T00:00:00.000Z', '2026-11-04T01:00:00.000Z'],
    ]);
    expect(iso(p.days)).toEqual([['2026-11-02T00:00:00.000Z', '2026-11-04T00:00:00.000Z']]);
  });

  it('a pending hour is read raw and its day hour by hour (its daily row is stale)', () => {
    const p = planMeasureParts(ms('2026-11-01T00:00:00Z'), ms('2026-11-04T00:00:00Z'), [
      ms('2026-11-02T05:00:00Z'),
      ms('2026-10-30T05:00:00Z'), // outside the period: ignored
    ]);
    expect(iso(p.raw)).toEqual([['2026-11-02T05:00:00.000Z', '2026-11-02T06:00:00.000Z']]);
    expect(iso(p.hours)).toEqual([
      ['2026-11-02T00:00:00.000Z', '2026-11-02T05:00:00.000Z'],
      ['2026-11-02T06:00:00.000Z', '2026-11-03T00:00:00.000Z'],
    ]);
    expect(iso(p.days)).toEqual([
      ['2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'],
      ['2026-11-03T00:00:00.000Z', '2026-11-04T00:00:00.000Z'],
    ]);
  });

  it.each([
    ['minutes', '2026-11-02T10:05:00Z', '2026-11-02T10:06:00Z', []],
    ['odd edges', '2026-01-31T23:59:59Z', '2026-03-01T00:00:01Z', ['2026-02-10T03:00:00Z', '2026-03-01T00:00:00Z']],
    ['aligned days', '2026-01-01T00:00:00Z', '2027-02-04T00:00:00Z', ['2026-06-30T23:00:00Z']],
    ['an edge hour pending', '2026-11-02T09:30:00Z', '2026-11-02T12:00:00Z', ['2026-11-02T10:00:00Z']],
  ] as const)('covers the period exactly once, without overlaps (%s)', (_, from, to, pending) => {
    const p = planMeasureParts(
      ms(from),
      ms(to),
      pending.map((h) => ms(h)),
    );
    const all = [...p.raw, ...p.hours, ...p.days].sort((a, b) => a.fromMs - b.fromMs);
    expect(all[0]?.fromMs).toBe(ms(from));
    expect(all.at(-1)?.toMs).toBe(ms(to));
    for (let i = 1; i < all.length; i += 1) expect(all[i]?.fromMs).toBe(all[i - 1]?.toMs);
    for (const s of p.hours) expect([s.fromMs % H, s.toMs % H]).toEqual([0, 0]);
    for (const s of p.days) expect([s.fromMs % D, s.toMs % D]).toEqual([0, 0]);
  });
});

const vm = (vmId: string, over: Partial<VmPeriodTotals> = {}): VmPeriodTotals => ({
  vmId,
  name: vmId,
  samples: 0,
  seconds: 0,
  cpuMhzSeconds: 0,
  memMibSeconds: 0,
  memMinMiB: null,
  memMaxMiB: null,
  diskGibSeconds: 0,
  lastDiskGiB: null,
  diskReadBytes: 0,
  diskWriteBytes: 0,
  netInInternet: 0,
  netOutInternet: 0,
  netInDatacenter: 0,
  netOutDatacenter: 0,
  runningSeconds: 0,
  acls: [],
  ...over,
});

describe('aggregateMeasurement', () => {
  const from = new Date('2026-11-02T10:00:00Z');
  const to = new Date('2026-11-02T11:00:00Z');
  const scope = { kind: 'tenant' as const, id: 't' };

  it('sums VMs, averages over the period’s seconds, min/max memory over all VMs, disk at the end summed', () => {
    // a: all hour at 1,000 MHz / 2,048 MiB / 40 GiB; b: half the hour at 500 MHz / 1,024 MiB / 100 GiB.
    const m = aggregateMeasurement(scope, from, to, [
      vm('a', {
        samples: 60,
        seconds: 3600,
        cpuMhzSeconds: 1000 * 3600,
        memMibSeconds: 2048 * 3600,
        memMinMiB: 1500,
        memMaxMiB: 3000,
        diskGibSeconds: 40 * 3600,
        lastDiskGiB: 40,
        netInInternet: 1,
        netOutInternet: 2,
        netInDatacenter: 3,
        netOutDatacenter: 4,
        runningSeconds: 3600,
        acls: [{ acl: 'storage', inBytes: 5, outBytes: 6 }],
      }),
      vm('b', {
        samples: 30,
        seconds: 1800,
        cpuMhzSeconds: 500 * 1800,
        memMibSeconds: 1024 * 1800,
        memMinMiB: 1024,
        memMaxMiB: 1024,
        diskGibSeconds: 100 * 1800,
        lastDiskGiB: 100,
        netInInternet: 10,
        netOutInternet: 20,
        runningSeconds: 1800,
        acls: [
          { acl: 'storage', inBytes: 50, outBytes: 60 },
          { acl: 'backup', inBytes: 7, outBytes: 8 },
        ],
      }),
    ]);
    expect(m).toMatchObject({
      vmCount: 2,
      samples: 90,
      meteredSeconds: 5400,
      avgCpuMhz: 1000 + 250,
      avgMemoryMiB: 2048 + 512,
      minMemoryMiB: 1024,
      maxMemoryMiB: 3000,
      avgDiskGiB: 40 + 50,
      totalDiskGiB: 140,
      runningVmHours: 1.5,
      otherVms: 0,
    });
    expect(m.network).toEqual([
      { remoteAddress: 'internet', inboundBytes: 11, outboundBytes: 22 },
      { remoteAddress: 'datacenter', inboundBytes: 3, outboundBytes: 4 },
    ]);
    expect(m.networkAcls).toEqual([
      { acl: 'backup', inboundBytes: 7, outboundBytes: 8 },
      { acl: 'storage', inboundBytes: 55, outboundBytes: 66 },
    ]);
    // Per VM: Measure-VM's own averages (per metered second), and the share of the total.
    expect(m.vms.map((v) => [v.vmId, v.avgCpuMhz, v.cpuShareMhz, v.avgMemoryMiB, v.runningVmHours])).toEqual([
      ['a', 1000, 1000, 2048, 1],
      ['b', 500, 250, 1024, 0.5],
    ]);
    // The totals' average is the sum of the VMs' shares.
    expect(m.vms.reduce((s, v) => s + v.cpuShareMhz, 0)).toBe(m.avgCpuMhz);
  });

  it('no usage: zeros, no VMs, not NaN', () => {
    const m = aggregateMeasurement(scope, from, to, []);
    expect(m).toMatchObject({ vmCount: 0, avgCpuMhz: 0, minMemoryMiB: 0, maxMemoryMiB: 0, totalDiskGiB: 0, vms: [] });
    expect(m.networkAcls).toEqual([]);
  });

  it(`lists the ${MEASURE_TOP_VMS} heaviest CPU users, ties by name, and counts the rest`, () => {
    const rows = Array.from({ length: MEASURE_TOP_VMS + 7 }, (_, i) =>
      vm(`vm-${String(i).padStart(3, '0')}`, { cpuMhzSeconds: (i % 20) * 1000, seconds: 60, samples: 1 }),
    );
    const m = aggregateMeasurement(scope, from, to, rows);
    expect(m.vms).toHaveLength(MEASURE_TOP_VMS);
    expect(m.otherVms).toBe(7);
    expect(m.vmCount).toBe(MEASURE_TOP_VMS + 7);
    expect(m.vms.slice(0, 3).map((v) => v.vmId)).toEqual(['vm-019', 'vm-039', 'vm-018']);
    const cpu = m.vms.map((v) => v.cpuShareMhz);
    expect(cpu).toEqual([...cpu].sort((a, b) => b - a));
    // Totals include the VMs not listed.
    expect(m.samples).toBe(MEASURE_TOP_VMS + 7);
  });
});

describe('measure input', () => {
  const base = { scope: { kind: 'tenant' as const } };
  const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
    r.success ? [] : (r.error?.issues.map((i) => i.message) ?? []);

  it('accepts any instants, 400 days at most', () => {
    const from = new Date('2026-01-01T00:07:13Z');
    expect(measureInput.safeParse({ ...base, from, to: new Date(from.getTime() + 400 * D) }).success).toBe(true);
  });

  it.each([
    ['an empty period', '2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z', 'The period must end after it starts'],
    ['a reversed period', '2026-11-02T00:00:00Z', '2026-11-01T00:00:00Z', 'The period must end after it starts'],
    [
      'over 400 days',
      '2026-01-01T00:00:00Z',
      '2027-02-05T12:00:00Z',
      'A measurement spans at most 400 days; this period has 401. Choose a shorter period.',
    ],
  ] as const)('refuses %s, naming the limit', (_, from, to, message) => {
    expect(messages(measureInput.safeParse({ ...base, from: new Date(from), to: new Date(to) }))).toEqual([message]);
  });

  it('refuses a pool without a cluster id and an unknown scope kind', () => {
    const from = new Date('2026-11-01T00:00:00Z');
    const to = new Date('2026-11-02T00:00:00Z');
    expect(measureInput.safeParse({ scope: { kind: 'pool' }, from, to }).success).toBe(false);
    expect(measureInput.safeParse({ scope: { kind: 'host', hostId: 'x' }, from, to }).success).toBe(false);
  });
});
