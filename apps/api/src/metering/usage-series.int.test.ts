import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { existedSince } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Usage and cost over time, through the real API: agents' samples are
// ingested and rolled up, then charted per tenant, VM and host; a tenant
// only ever sees its own.

const H = 3_600_000;
const D = 24 * H;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let hostId: string;
let vmA: string;
let vmB: string;
let yellowVm: string;
/** UTC midnight three days ago: samples are within sample retention. */
const day0 = Math.floor(Date.now() / D) * D - 3 * D;
const t = (ms: number) => new Date(day0 + ms);

interface Point {
  from: Date;
  to: Date;
  meteredSeconds: number;
  avgCpuMhz: number;
  avgMemoryMiB: number;
  avgDiskGiB: number;
  networkInBytes: number;
  networkOutBytes: number;
  runningVmHours: number;
}
interface Series {
  scope: { kind: string; id: string };
  points: Point[];
  availableFrom: Date | null;
}
interface CostSeries {
  tenantId: string;
  currency: string;
  resources: string[];
  buckets: {
    from: string;
    priced: boolean;
    byResource: { resource: string; amount: string }[];
    subtotal: string;
    discount: string;
    total: string;
  }[];
  bucketsTotal: string;
  periodTotal: string | null;
  roundingNote: string;
}

/** `minutes` one-minute samples of a VM from `startMs`. */
function samples(vmId: string, startMs: number, minutes: number, over: Record<string, number> = {}) {
  return Array.from({ length: minutes }, (_, i) => ({
    vmId,
    at: new Date(startMs + (i + 1) * 60_000).toISOString(),
    intervalSeconds: 60,
    cpuAvgMhz: 1000,
    memoryAvgMiB: 2048,
    memoryMinMiB: 2048,
    memoryMaxMiB: 2048,
    diskAllocatedGiB: 40,
    diskReadBytes: 0,
    diskWriteBytes: 0,
    networkInInternetBytes: 1_000,
    networkOutInternetBytes: 2_000,
    networkInDatacenterBytes: 0,
    networkOutDatacenterBytes: 0,
    ...over,
  }));
}

const series = (client: ApiClient, input: unknown) => client.query<Series>('metering.usageSeries', input);
const hourly = (scope: unknown, fromMs: number, toMs: number) => ({
  scope,
  from: t(fromMs),
  to: t(toMs),
  bucket: 'hour',
});

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock });
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  blueId = tenants.find((x) => x.name === 'Blue Corp')?.id ?? '';
  yellowId = tenants.find((x) => x.name === 'Yellow Corp')?.id ?? '';
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  const host = (await register(api.url, token, 'chart-01')).body as { hostId: string; credential: string };
  hostId = host.hostId;
  const create = async (client: ApiClient, name: string, vcpus = 2) =>
    (
      await client.mutate<{ vm: { id: string } }>('vms.create', {
        name,
        vcpus,
        memory: { mode: 'static', sizeMiB: 2048 },
        disks: [{ sizeGiB: 40 }],
        startAfterCreate: false,
      })
    ).vm.id;
  vmA = await create(c.blueAdmin, 'chart-a');
  vmB = await create(c.blueAdmin, 'chart-b');
  // 4 vCPUs: its 9,000 MHz is more than 2 vCPUs of this host's 2,900 MHz can give (refused as impossible).
  yellowVm = await create(c.yellowAdmin, 'yellow-chart', 4);
  await existedSince(api, { hostIds: [hostId], vmIds: [vmA, vmB, yellowVm] });
  await api.services.metering.housekeeping();

  // Day 0, 10:00–11:00: A all hour at 1,000 MHz / 2 GiB; B half the hour at 500 MHz / 1 GiB; Yellow all hour.
  // Day 1, 03:00–04:00: A all hour at 2,000 MHz.
  const all = [
    ...samples(vmA, day0 + 10 * H, 60),
    ...samples(vmB, day0 + 10 * H, 30, { cpuAvgMhz: 500, memoryAvgMiB: 1024, memoryMinMiB: 1024, memoryMaxMiB: 1024 }),
    ...samples(yellowVm, day0 + 10 * H, 60, { cpuAvgMhz: 9000 }),
    ...samples(vmA, day0 + D + 3 * H, 60, { cpuAvgMhz: 2000 }),
  ];
  const r = await agentPost(
    api.url,
    `/agent/v1/hosts/${hostId}/samples`,
    { seq: 1, batch: 1, samples: all },
    { credential: host.credential },
  );
  expect(r.body).toEqual({ stored: all.length, ignored: 0 });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

describe('metering.usageSeries', () => {
  it('a tenant’s hourly series sums its VMs’ rollups per hour, empty hours as zeros', async () => {
    const s = await series(c.blueUser, hourly({ kind: 'tenant' }, 9 * H, 12 * H));
    expect(s.scope).toEqual({ kind: 'tenant', id: blueId });
    expect(s.points.map((p) => p.from.getTime())).toEqual([9, 10, 11].map((h) => day0 + h * H));
    expect(s.points[0]).toMatchObject({ avgCpuMhz: 0, meteredSeconds: 0, runningVmHours: 0 });
    expect(s.points[2]).toMatchObject({ avgCpuMhz: 0, meteredSeconds: 0, runningVmHours: 0 });
    // (1,000 MHz × 3,600 s + 500 MHz × 1,800 s) / 3,600 s; Yellow's 9,000 MHz is not Blue's.
    expect(s.points[1]).toEqual({
      from: t(10 * H),
      to: t(11 * H),
      meteredSeconds: 5400,
      avgCpuMhz: 1250,
      avgMemoryMiB: 2048 + 512,
      avgDiskGiB: 40 + 20,
      networkInBytes: 90 * 1000,
      networkOutBytes: 90 * 2000,
      runningVmHours: 1.5,
    });
    expect(s.availableFrom).toBeNull();
  });

  it('a daily series averages over each whole day; a VM metered all hour matches Measure-VM', async () => {
    const s = await series(c.blueAdmin, { scope: { kind: 'tenant' }, from: t(0), to: t(3 * D), bucket: 'day' });
    expect(s.points.map((p) => [p.from.getTime(), p.avgCpuMhz])).toEqual([
      [day0, (1000 * 3600 + 500 * 1800) / 86400],
      [day0 + D, (2000 * 3600) / 86400],
      [day0 + 2 * D, 0],
    ]);
    const vm = await series(c.blueUser, hourly({ kind: 'vm', vmId: vmA }, 10 * H, 11 * H));
    const measured = await c.blueUser.query<{ avgCpuMhz: number; avgMemoryMiB: number }>('metering.measureVm', {
      id: vmA,
      from: t(10 * H),
      to: t(11 * H),
    });
    expect(vm.points).toHaveLength(1);
    expect(vm.points[0]).toMatchObject({ avgCpuMhz: measured.avgCpuMhz, avgMemoryMiB: measured.avgMemoryMiB });
  });

  it('a tenant naming another tenant gets its own usage; another tenant’s VM is NOT_FOUND like a missing one', async () => {
    const own = await series(c.blueUser, hourly({ kind: 'tenant' }, 10 * H, 11 * H));
    const named = await series(c.blueUser, hourly({ kind: 'tenant', tenantId: yellowId }, 10 * H, 11 * H));
    expect(named).toEqual(own);
    expect(named.scope.id).toBe(blueId);

    const strip = (r: Awaited<ReturnType<ApiClient['call']>>) => (r.ok ? r : { code: r.code, message: r.message });
    const missing = strip(
      await c.blueAdmin.call(
        'metering.usageSeries',
        'query',
        hourly({ kind: 'vm', vmId: randomUUID() }, 10 * H, 11 * H),
      ),
    );
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    const yellows = strip(
      await c.blueAdmin.call('metering.usageSeries', 'query', hourly({ kind: 'vm', vmId: yellowVm }, 10 * H, 11 * H)),
    );
    expect(yellows).toEqual(missing);
    // The control: Yellow sees its VM, and finance any tenant's.
    expect(
      (await series(c.yellowUser, hourly({ kind: 'vm', vmId: yellowVm }, 10 * H, 11 * H))).points[0]?.avgCpuMhz,
    ).toBe(9000);
    expect(
      (await series(c.finance, hourly({ kind: 'tenant', tenantId: yellowId }, 10 * H, 11 * H))).points[0]?.avgCpuMhz,
    ).toBe(9000);
  });

  it('a host’s series comes from raw samples of every tenant’s VMs there, for provider roles only', async () => {
    const s = await series(c.finance, hourly({ kind: 'host', hostId }, 10 * H, 11 * H));
    expect(s.points[0]?.avgCpuMhz).toBe(1000 + 250 + 9000);
    expect(s.points[0]?.runningVmHours).toBe(2.5);
    const today = Math.floor(Date.now() / D) * D;
    expect(s.availableFrom?.getTime()).toBe(today - api.config.sampleRetentionDays * D);
    expect(
      await c.blueAdmin.call('metering.usageSeries', 'query', hourly({ kind: 'host', hostId }, 10 * H, 11 * H)),
    ).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    expect(
      await c.admin.call(
        'metering.usageSeries',
        'query',
        hourly({ kind: 'host', hostId: randomUUID() }, 10 * H, 11 * H),
      ),
    ).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
  });

  it('provider roles name an existing tenant', async () => {
    expect(
      await c.admin.call('metering.usageSeries', 'query', hourly({ kind: 'tenant' }, 10 * H, 11 * H)),
    ).toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
    });
    expect(
      await c.admin.call(
        'metering.usageSeries',
        'query',
        hourly({ kind: 'tenant', tenantId: randomUUID() }, 10 * H, 11 * H),
      ),
    ).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('refuses a reversed period, a period off the hour and too many points, naming the limit', async () => {
    const call = (input: unknown) => c.blueAdmin.call('metering.usageSeries', 'query', input);
    expect(await call(hourly({ kind: 'tenant' }, 11 * H, 10 * H))).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await call(hourly({ kind: 'tenant' }, 10 * H + 60_000, 11 * H))).toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
    });
    const tooMany = await call(hourly({ kind: 'tenant' }, 0, 2201 * H));
    expect(tooMany).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(JSON.stringify(tooMany)).toContain('At most 2,200 hourly points per series; this period has 2,201');
    expect((await call(hourly({ kind: 'tenant' }, 0, 2200 * H))).ok).toBe(true);
  });
});

describe('chargeback.costSeries', () => {
  beforeAll(async () => {
    // Rate cards start today at the earliest: add one "on" day 0, then come back.
    offsetMs = day0 - Date.now();
    await c.finance.mutate('chargeback.addRateCard', {
      currency: 'USD',
      effectiveFrom: new Date(day0).toISOString().slice(0, 10),
      prices: {
        vcpuHour: '0.0125',
        memoryGiBHour: '0.005',
        diskGiBMonth: '0.10',
        networkOutGiB: { internet: '0.09', datacenter: '0.01' },
        networkInGiB: { internet: '0', datacenter: '0' },
        replicaStorageGiBMonth: '0.05',
      },
    });
    offsetMs = 0;
  });

  const period = () => ({ from: t(0).toISOString(), to: t(3 * D).toISOString() });

  it('rates each day on its own; per resource sums to each day’s total; the period’s bill total is given', async () => {
    const s = await c.blueAdmin.query<CostSeries>('chargeback.costSeries', { period: period(), bucket: 'day' });
    expect(s.tenantId).toBe(blueId);
    expect(s.buckets).toHaveLength(3);
    for (const b of s.buckets) {
      const cents = b.byResource.reduce((n, r) => n + Math.round(Number(r.amount) * 100), 0);
      expect(cents).toBe(Math.round(Number(b.subtotal) * 100));
      expect(b.total).toBe(b.subtotal);
    }
    // Day 0's vCPU lines, one per VM, each rounded once: A 2 vCPU-h × 0.0125 = 0.025 → 0.02, B 1 vCPU-h → 0.0125 → 0.01.
    expect(s.buckets[0]?.byResource.find((r) => r.resource === 'vcpu')?.amount).toBe('0.03');
    expect(s.buckets[2]).toMatchObject({ total: '0.00', byResource: [] });
    const bill = await c.blueAdmin.query<{ total: string }>('chargeback.bill', { period: period() });
    expect(s.periodTotal).toBe(bill.total);
    expect(s.roundingNote).toMatch(/rounded on its own/);
  });

  it('a tenant admin naming another tenant gets its own; a tenant user may not see cost', async () => {
    const named = await c.blueAdmin.query<CostSeries>('chargeback.costSeries', {
      tenantId: yellowId,
      period: period(),
      bucket: 'day',
    });
    expect(named.tenantId).toBe(blueId);
    expect(await c.blueUser.call('chargeback.costSeries', 'query', { period: period(), bucket: 'day' })).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    const yellow = await c.finance.query<CostSeries>('chargeback.costSeries', {
      tenantId: yellowId,
      period: period(),
      bucket: 'month',
    });
    expect(yellow.tenantId).toBe(yellowId);
    expect(Number(yellow.bucketsTotal)).toBeGreaterThan(0);
  });
});
