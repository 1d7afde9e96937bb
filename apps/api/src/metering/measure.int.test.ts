import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import {
  createStoppedVm,
  demoTenantIds,
  hourOfSamples,
  minuteSample,
  postSamples,
  registerProductionHost,
  type TestHost,
} from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// metering.measure through the real API: agents' samples ingested, rolled up
// (hourly and daily), then a tenant's or a resource pool's VMs measured
// together. The totals equal the sum of the VMs' own Measure-VM.

const H = 3_600_000;
const D = 24 * H;
/** UTC midnight three days ago: samples are within sample retention. */
const day0 = Math.floor(Date.now() / D) * D - 3 * D;
const t = (ms: number) => new Date(day0 + ms);

interface Traffic {
  remoteAddress: string;
  inboundBytes: number;
  outboundBytes: number;
}
interface Acl {
  acl: string;
  inboundBytes: number;
  outboundBytes: number;
}
interface VmMeasurement {
  vmId: string;
  samples: number;
  meteredSeconds: number;
  avgCpuMhz: number;
  avgMemoryMiB: number;
  minMemoryMiB: number;
  maxMemoryMiB: number;
  avgDiskGiB: number;
  totalDiskGiB: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  network: Traffic[];
  networkAcls: Acl[];
}
interface Measurement extends Omit<VmMeasurement, 'vmId'> {
  scope: { kind: string; id: string };
  vmCount: number;
  runningVmHours: number;
  vms: { vmId: string; name: string; avgCpuMhz: number; cpuShareMhz: number; samples: number }[];
  otherVms: number;
}

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let host: TestHost;
let vmA: string;
let vmB: string;
let yellowVm: string;
let productionId: string;
let developmentId: string;

const measure = (client: ApiClient, scope: object, from: Date, to: Date) =>
  client.query<Measurement>('metering.measure', { scope, from, to });
const measureVm = (client: ApiClient, id: string, from: Date, to: Date) =>
  client.query<VmMeasurement>('metering.measureVm', { id, from, to });

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  ({ blueId, yellowId } = await demoTenantIds(c));
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  productionId = clusters.find((cl) => cl.name === 'Production')?.id ?? '';
  developmentId = clusters.find((cl) => cl.name === 'Development')?.id ?? '';
  await c.admin.mutate('metering.defineAddressClass', { name: 'storage-net', remoteAddresses: ['10.50.0.0/16'] });
  host = await registerProductionHost(api, c.admin, 'measure-01');
  vmA = await createStoppedVm(c.blueAdmin, 'measure-a');
  vmB = await createStoppedVm(c.blueAdmin, 'measure-b', { diskGiB: 100 });
  // 4 vCPUs: its 9,000 MHz is more than 2 vCPUs of this host's 2,900 MHz can give (refused as impossible).
  yellowVm = await createStoppedVm(c.yellowAdmin, 'measure-yellow', { vcpus: 4 });
  await api.services.metering.housekeeping();

  const acl = (inBytes: number, outBytes: number) => ({ networkAcls: [{ acl: 'storage-net', inBytes, outBytes }] });
  // Day 0, 10:00–11:00: A all hour at 1,000 MHz; B half the hour at 500 MHz / 1 GiB / 100 GiB disk; Yellow all hour.
  // Day 1, 03:00–04:00: A all hour at 2,000 MHz with internet and metered ACL traffic.
  await postSamples(api, host, hourOfSamples(vmA, new Date(t(10 * H)).toISOString(), { cpuAvgMhz: 1000 }));
  await postSamples(
    api,
    host,
    hourOfSamples(vmB, new Date(t(10 * H)).toISOString(), {
      cpuAvgMhz: 500,
      memoryAvgMiB: 1024,
      diskAllocatedGiB: 100,
    }).slice(0, 30),
  );
  await postSamples(api, host, hourOfSamples(yellowVm, new Date(t(10 * H)).toISOString(), { cpuAvgMhz: 9000 }));
  await postSamples(
    api,
    host,
    hourOfSamples(vmA, new Date(t(D + 3 * H)).toISOString(), {
      cpuAvgMhz: 2000,
      networkInInternetBytes: 1_000,
      networkOutInternetBytes: 2_000,
    }).map((s) => ({ ...s, ...acl(10, 20) })),
  );
  await api.services.metering.housekeeping();
  // Late, after the rollup: day 1, 05:00–05:10, pending (read from raw samples until the next rollup).
  await postSamples(
    api,
    host,
    Array.from({ length: 10 }, (_, i) =>
      minuteSample(vmB, day0 + D + 5 * H + (i + 1) * 60_000, { cpuAvgMhz: 3000, diskAllocatedGiB: 120 }),
    ),
  );
});
afterAll(() => api?.close());

/** The totals the tenant's VMs' own Measure-VMs add up to (averages weighted by metered seconds). */
function sumOf(vms: VmMeasurement[], from: Date, to: Date) {
  const period = (to.getTime() - from.getTime()) / 1000;
  const sum = (f: (m: VmMeasurement) => number) => vms.reduce((s, m) => s + f(m), 0);
  const metered = vms.filter((m) => m.samples > 0);
  return {
    samples: sum((m) => m.samples),
    meteredSeconds: sum((m) => m.meteredSeconds),
    avgCpuMhz: sum((m) => m.avgCpuMhz * m.meteredSeconds) / period,
    avgMemoryMiB: sum((m) => m.avgMemoryMiB * m.meteredSeconds) / period,
    avgDiskGiB: sum((m) => m.avgDiskGiB * m.meteredSeconds) / period,
    minMemoryMiB: Math.min(...metered.map((m) => m.minMemoryMiB)),
    maxMemoryMiB: Math.max(...metered.map((m) => m.maxMemoryMiB)),
    totalDiskGiB: sum((m) => m.totalDiskGiB),
    network: ['internet', 'datacenter'].map((remoteAddress) => ({
      remoteAddress,
      inboundBytes: sum((m) => m.network.find((n) => n.remoteAddress === remoteAddress)?.inboundBytes ?? 0),
      outboundBytes: sum((m) => m.network.find((n) => n.remoteAddress === remoteAddress)?.outboundBytes ?? 0),
    })),
  };
}

describe('metering.measure for a tenant', () => {
  // Raw edges (09:30–10:00, day 2 00:00–00:10), whole hours, whole day 1 with a pending hour, so every source.
  it.each([
    ['edges, hours, a day with a pending hour', t(9.5 * H), t(2 * D + H / 6)],
    ['whole days only', t(0), t(2 * D)],
    ['inside one hour (raw samples only)', t(10 * H + 10 * 60_000), t(10 * H + 50 * 60_000)],
    ['whole hours only', t(10 * H), t(11 * H)],
  ])('equals the sum of its VMs’ Measure-VM: %s', async (_, from, to) => {
    const m = await measure(c.blueUser, { kind: 'tenant' }, from, to);
    const own = await Promise.all([vmA, vmB].map((id) => measureVm(c.blueUser, id, from, to)));
    const expected = sumOf(own, from, to);
    expect(m.scope).toEqual({ kind: 'tenant', id: blueId });
    expect(m).toMatchObject({
      samples: expected.samples,
      meteredSeconds: expected.meteredSeconds,
      minMemoryMiB: expected.minMemoryMiB,
      maxMemoryMiB: expected.maxMemoryMiB,
      totalDiskGiB: expected.totalDiskGiB,
      network: expected.network,
    });
    expect(m.avgCpuMhz).toBeCloseTo(expected.avgCpuMhz, 6);
    expect(m.avgMemoryMiB).toBeCloseTo(expected.avgMemoryMiB, 6);
    expect(m.avgDiskGiB).toBeCloseTo(expected.avgDiskGiB, 6);
    // Per VM: exactly its Measure-VM.
    for (const vm of own.filter((x) => x.samples > 0)) {
      expect(m.vms.find((v) => v.vmId === vm.vmId)).toMatchObject({ samples: vm.samples, avgCpuMhz: vm.avgCpuMhz });
    }
  });

  it('adds metered ACL classes, counts VM-hours, sorts VMs by CPU and never shows Yellow', async () => {
    const from = t(0);
    const to = t(2 * D);
    const m = await measure(c.blueAdmin, { kind: 'tenant' }, from, to);
    expect(m.networkAcls).toEqual([{ acl: 'storage-net', inboundBytes: 600, outboundBytes: 1_200 }]);
    expect(m.network[0]).toEqual({ remoteAddress: 'internet', inboundBytes: 60_000, outboundBytes: 120_000 });
    // A: 2 hours; B: 30 + 10 minutes.
    expect(m.runningVmHours).toBeCloseTo(2 + 40 / 60, 9);
    expect(m.vmCount).toBe(2);
    expect(m.vms.map((v) => v.name)).toEqual(['measure-a', 'measure-b']);
    // 1,000 MHz·h + 2,000 MHz·h of A over 48 h; B's 500 × 0.5 h + 3,000 × 1/6 h.
    expect(m.avgCpuMhz).toBeCloseTo((1000 * 3600 + 2000 * 3600 + 500 * 1800 + 3000 * 600) / (2 * 86_400), 9);
    // Disk at the end: A's 50 GiB, B's last sample 120 GiB.
    expect(m.totalDiskGiB).toBe(170);
    expect(JSON.stringify(m)).not.toContain(yellowVm);
  });

  it('a tenant naming another tenant still gets its own', async () => {
    const m = await measure(c.blueAdmin, { kind: 'tenant', tenantId: yellowId }, t(0), t(2 * D));
    expect(m.scope).toEqual({ kind: 'tenant', id: blueId });
    expect(m.vms.map((v) => v.vmId).sort()).toEqual([vmA, vmB].sort());
  });

  it('provider roles name the tenant: finance sees Yellow’s, a missing tenant is NOT_FOUND, none is a bad request', async () => {
    const y = await measure(c.finance, { kind: 'tenant', tenantId: yellowId }, t(0), t(D));
    expect(y.vms.map((v) => v.vmId)).toEqual([yellowVm]);
    expect(y.avgCpuMhz).toBeCloseTo(9000 / 24, 9);
    const missing = await c.admin.call('metering.measure', 'query', {
      scope: { kind: 'tenant', tenantId: randomUUID() },
      from: t(0),
      to: t(D),
    });
    expect(missing).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    const none = await c.admin.call('metering.measure', 'query', { scope: { kind: 'tenant' }, from: t(0), to: t(D) });
    expect(none).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: 'Name the tenant whose usage to measure' });
  });

  it('a period with no usage is zeros, not an error', async () => {
    const m = await measure(c.blueUser, { kind: 'tenant' }, t(-10 * D), t(-9 * D));
    expect(m).toMatchObject({ vmCount: 0, samples: 0, avgCpuMhz: 0, vms: [], otherVms: 0, networkAcls: [] });
  });

  it('refuses a reversed or too long period with a message naming the limit', async () => {
    const reversed = await c.blueUser.call('metering.measure', 'query', {
      scope: { kind: 'tenant' },
      from: t(D),
      to: t(0),
    });
    expect(reversed).toMatchObject({ ok: false, status: 400 });
    expect(JSON.stringify(reversed)).toContain('The period must end after it starts');
    const long = await c.finance.call('metering.measure', 'query', {
      scope: { kind: 'tenant', tenantId: blueId },
      from: t(-401 * D),
      to: t(0),
    });
    expect(long).toMatchObject({ ok: false, status: 400 });
    expect(JSON.stringify(long)).toContain('A measurement spans at most 400 days; this period has 401');
  });
});

describe('metering.measure for a resource pool (a cluster)', () => {
  it('counts only the VMs whose cluster it is now, with their whole history', async () => {
    const from = t(0);
    const to = t(2 * D);
    const before = await measure(c.admin, { kind: 'pool', clusterId: productionId }, from, to);
    expect(before.scope).toEqual({ kind: 'pool', id: productionId });
    expect(before.vms.map((v) => v.vmId).sort()).toEqual([vmA, vmB, yellowVm].sort());
    // B moves to Development (as a migration would leave it): its history goes with it.
    await withSql(api.databaseUrl, (sql) =>
      sql.query('UPDATE vms SET cluster_id = $1, host_id = NULL WHERE id = $2', [developmentId, vmB]),
    );
    const production = await measure(c.finance, { kind: 'pool', clusterId: productionId }, from, to);
    const development = await measure(c.finance, { kind: 'pool', clusterId: developmentId }, from, to);
    expect(production.vms.map((v) => v.vmId).sort()).toEqual([vmA, yellowVm].sort());
    expect(development.vms.map((v) => v.vmId)).toEqual([vmB]);
    const b = await measureVm(c.admin, vmB, from, to);
    expect(development).toMatchObject({ samples: b.samples, meteredSeconds: b.meteredSeconds });
    expect(production.samples + development.samples).toBe(before.samples);
    expect(production.avgCpuMhz + development.avgCpuMhz).toBeCloseTo(before.avgCpuMhz, 9);
  });

  it('is for provider admins and finance: tenant roles are FORBIDDEN, an unknown cluster NOT_FOUND', async () => {
    for (const client of [c.blueAdmin, c.blueUser, c.yellowAdmin]) {
      const r = await client.call('metering.measure', 'query', {
        scope: { kind: 'pool', clusterId: productionId },
        from: t(0),
        to: t(D),
      });
      expect(r).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    }
    const unknown = await c.admin.call('metering.measure', 'query', {
      scope: { kind: 'pool', clusterId: randomUUID() },
      from: t(0),
      to: t(D),
    });
    expect(unknown).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});
