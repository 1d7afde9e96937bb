import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { createStoppedVm, existedSince, registerProductionHost } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Measure-VM from agent samples: stored once, only for the host's own VMs,
// rolled up exactly and idempotently, measurable over any period.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: { hostId: string; credential: string };
let vmId: string;
let seq = 1;

const sample = (at: string, over: Record<string, number> = {}) => ({
  vmId,
  at,
  intervalSeconds: 60,
  cpuAvgMhz: 1000,
  memoryAvgMiB: 2048,
  memoryMinMiB: 1024,
  memoryMaxMiB: 3072,
  diskAllocatedGiB: 40,
  diskReadBytes: 100,
  diskWriteBytes: 200,
  networkInInternetBytes: 1_000,
  networkOutInternetBytes: 2_000,
  networkInDatacenterBytes: 3_000,
  networkOutDatacenterBytes: 4_000,
  ...over,
});

const post = (samples: unknown[], credential = host.credential, hostId = host.hostId) =>
  agentPost(api.url, `/agent/v1/hosts/${hostId}/samples`, { seq: seq++, batch: seq, samples }, { credential });

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  host = await registerProductionHost(api, c.admin, 'meter-01');
  vmId = await createStoppedVm(c.blueAdmin, 'metered-01', { diskGiB: 40 });
  await existedSince(api, { vmIds: [vmId] });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

describe('samples from agents', () => {
  it('are stored once: a resent batch changes nothing', async () => {
    const batch = [sample('2026-11-20T10:01:00.000Z'), sample('2026-11-20T10:02:00.000Z')];
    expect((await post(batch)).body).toEqual({ stored: 2, ignored: 0 });
    expect((await post(batch)).body).toEqual({ stored: 0, ignored: 0 });
    expect(await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`)).toBe(2);
  });

  it('for a VM the host does not run are ignored (a host reports for itself only)', async () => {
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
      clusterId: (await c.admin.query<{ id: string; name: string }[]>('clusters.list')).find(
        (cl) => cl.name === 'Development',
      )?.id,
    });
    const other = (await register(api.url, token, 'meter-other')).body as { hostId: string; credential: string };
    const r = await post([sample('2026-11-20T10:03:00.000Z')], other.credential, other.hostId);
    expect(r.body).toEqual({ stored: 0, ignored: 1 });
  });

  it('refuses malformed batches with a 4xx and stores nothing', async () => {
    const before = await countRows(api.databaseUrl, 'vm_samples');
    expect((await post([{ ...sample('2026-11-20T10:04:00.000Z'), cpuAvgMhz: -1 }])).status).toBe(400);
    expect((await post([{ ...sample('not-a-date') }])).status).toBe(400);
    expect(await countRows(api.databaseUrl, 'vm_samples')).toBe(before);
  });
});

describe('Measure-VM and rollups', () => {
  it('measures exactly over a period, and rollups are exact and idempotent, late samples included', async () => {
    // 10:00–11:00: 58 more samples at 1000 MHz, then one late sample at 3000 MHz.
    const more = Array.from({ length: 57 }, (_, i) =>
      sample(new Date(Date.UTC(2026, 10, 20, 10, 3 + i)).toISOString(), { cpuAvgMhz: 1000 }),
    );
    await post(more);
    const m = await c.blueUser.query<{
      samples: number;
      avgCpuMhz: number;
      minMemoryMiB: number;
      maxMemoryMiB: number;
      totalDiskGiB: number;
      network: { remoteAddress: string; inboundBytes: number; outboundBytes: number }[];
    }>('metering.measureVm', {
      id: vmId,
      from: new Date('2026-11-20T10:00:00Z'),
      to: new Date('2026-11-20T11:00:00Z'),
    });
    expect(m.samples).toBe(59);
    expect(m.avgCpuMhz).toBe(1000);
    expect(m).toMatchObject({ minMemoryMiB: 1024, maxMemoryMiB: 3072, totalDiskGiB: 40 });
    expect(m.network).toEqual([
      { remoteAddress: 'internet', inboundBytes: 59_000, outboundBytes: 118_000 },
      { remoteAddress: 'datacenter', inboundBytes: 177_000, outboundBytes: 236_000 },
    ]);

    await api.services.metering.housekeeping();
    const hourly = () =>
      withSql(api.databaseUrl, async (sql) => {
        const r = await sql.query(
          `SELECT samples, seconds, cpu_mhz_seconds::text AS cpu, net_out_internet_bytes::text AS out
           FROM vm_usage_hourly WHERE vm_id = $1 ORDER BY hour`,
          [vmId],
        );
        return r.rows;
      });
    const first = await hourly();
    expect(first).toEqual([{ samples: 59, seconds: '3540', cpu: '3540000.000', out: '118000' }]);
    // Running the rollup again changes nothing.
    await api.services.metering.housekeeping();
    expect(await hourly()).toEqual(first);

    // A late sample for that hour is rolled up into it.
    await post([sample('2026-11-20T11:00:00.000Z', { cpuAvgMhz: 3000 })]);
    await api.services.metering.housekeeping();
    expect(await hourly()).toEqual([{ samples: 60, seconds: '3600', cpu: '3720000.000', out: '120000' }]);
  });

  it('a reset starts a new window without deleting history', async () => {
    const before = await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`);
    await c.blueAdmin.mutate('metering.resetVm', { id: vmId });
    const m = await c.blueAdmin.query<{ samples: number }>('metering.measureVm', { id: vmId });
    expect(m.samples).toBe(0);
    expect(await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`)).toBe(before);
    // Tenant users may measure but not reset.
    expect(await c.blueUser.call('metering.resetVm', 'mutation', { id: vmId })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('creates daily sample partitions ahead and keeps stray rows in the default one', async () => {
    const partitions = await withSql(api.databaseUrl, async (sql) => {
      const r = await sql.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'vm_samples'`,
      );
      return Number(r.rows[0]?.n ?? 0);
    });
    expect(partitions).toBeGreaterThanOrEqual(9);
  });
});
