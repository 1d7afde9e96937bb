import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { existedSince } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Daily rollups: one row per VM per UTC day, recomputed whole from the hourly
// rows whenever one of the day's hours is rolled up, so they are exact sums,
// idempotent, and late samples flow through.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: { hostId: string; credential: string };
let vmId: string;
let seq = 1;

const sample = (at: Date, over: Record<string, number> = {}) => ({
  vmId,
  at: at.toISOString(),
  intervalSeconds: 60,
  cpuAvgMhz: 1000.5,
  memoryAvgMiB: 2048.25,
  memoryMinMiB: 1024,
  memoryMaxMiB: 3072,
  diskAllocatedGiB: 40.125,
  diskReadBytes: 100,
  diskWriteBytes: 200,
  networkInInternetBytes: 1_000,
  networkOutInternetBytes: 2_000,
  networkInDatacenterBytes: 3_000,
  networkOutDatacenterBytes: 4_000,
  ...over,
});
/** The `count` one-minute samples ending in hour `hour` of 2026-11-10 (UTC). */
const hourOfSamples = (hour: number, count = 60, over: Record<string, number> = {}) =>
  Array.from({ length: count }, (_, i) => sample(new Date(Date.UTC(2026, 10, 10, hour, i + 1)), over));

const post = async (samples: unknown[]) => {
  const r = await agentPost(
    api.url,
    `/agent/v1/hosts/${host.hostId}/samples`,
    { seq: seq++, batch: seq, samples },
    { credential: host.credential },
  );
  expect(r.status).toBe(200);
};

const COUNTERS = [
  'samples',
  'seconds',
  'cpu_mhz_seconds',
  'mem_mib_seconds',
  'disk_gib_seconds',
  'disk_read_bytes',
  'disk_write_bytes',
  'net_in_internet_bytes',
  'net_out_internet_bytes',
  'net_in_datacenter_bytes',
  'net_out_datacenter_bytes',
];

/** The daily rows, and the same sums computed here from the hourly rows: exact text, no float. */
const daily = () =>
  withSql(api.databaseUrl, async (sql) => {
    const stored = await sql.query(
      `SELECT day::text, hours, ${COUNTERS.map((k) => `${k}::text`).join(', ')}, mem_min_mib::text,
         mem_max_mib::text, running_seconds::text, vcpu_seconds::text, vm_name, tenant_id::text
       FROM vm_usage_daily WHERE vm_id = $1 ORDER BY day`,
      [vmId],
    );
    const expected = await sql.query(
      `SELECT (hour AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS hours,
         ${COUNTERS.map((k) => `sum(${k})::text AS ${k}`).join(', ')}, min(mem_min_mib)::text AS mem_min_mib,
         max(mem_max_mib)::text AS mem_max_mib, sum(running_seconds)::text AS running_seconds,
         sum(vcpus * running_seconds)::text AS vcpu_seconds, (array_agg(vm_name ORDER BY hour DESC))[1] AS vm_name,
         min(tenant_id::text) AS tenant_id
       FROM vm_usage_hourly WHERE vm_id = $1 GROUP BY 1 ORDER BY 1`,
      [vmId],
    );
    return { stored: stored.rows, expected: expected.rows };
  });

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  host = (await register(api.url, token, 'daily-01')).body as { hostId: string; credential: string };
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name: 'daily-01',
    vcpus: 3,
    memory: { mode: 'static', sizeMiB: 4096 },
    disks: [{ sizeGiB: 40 }],
    startAfterCreate: false,
  });
  vmId = created.vm.id;
  await existedSince(api, { hostIds: [host.hostId], vmIds: [vmId] });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

describe('daily rollups', () => {
  it('are the exact sums of the day’s hourly rollups, with vCPU-seconds and the latest name', async () => {
    await post([...hourOfSamples(3), ...hourOfSamples(4, 30), ...hourOfSamples(23, 60, { cpuAvgMhz: 0.001 })]);
    await api.services.metering.housekeeping();
    const { stored, expected } = await daily();
    expect(stored).toHaveLength(1);
    expect(stored).toEqual(expected);
    // 3 vCPUs × (3600 + 1800 + 3600) running seconds.
    expect(stored[0]).toMatchObject({ day: '2026-11-10', hours: 3, running_seconds: '9000', vcpu_seconds: '27000' });
    expect(stored[0]?.vm_name).toBe('daily-01');
    // The first minute of the next day is the next day's row (a sample at 24:00 belongs to 23:00–24:00).
    await post([sample(new Date(Date.UTC(2026, 10, 11, 0, 1)))]);
    await api.services.metering.housekeeping();
    const after = await daily();
    expect(after.stored.map((r) => r.day)).toEqual(['2026-11-10', '2026-11-11']);
    expect(after.stored).toEqual(after.expected);
  });

  it('take late samples in: the whole day is recomputed, and running it again changes nothing', async () => {
    const before = (await daily()).stored;
    // A late hour of the same day, and a sample resent (stored once, changes nothing).
    await post([...hourOfSamples(12, 10, { networkOutInternetBytes: 7 }), ...hourOfSamples(3, 1)]);
    await api.services.metering.housekeeping();
    const late = await daily();
    expect(late.stored).toEqual(late.expected);
    expect(late.stored[0]?.hours).toBe(4);
    expect(late.stored[0]?.net_out_internet_bytes).not.toBe(before[0]?.net_out_internet_bytes);
    expect(late.stored[1]).toEqual(before[1]);

    // A rollup run again over the same hours (as after a crash before the pending rows were cleared).
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`INSERT INTO rollup_pending (hour) VALUES ('2026-11-10T03:00:00Z'), ('2026-11-11T00:00:00Z')`),
    );
    await api.services.metering.housekeeping();
    expect((await daily()).stored).toEqual(late.stored);
  });
});
