import type { VmMeasurement } from '@fabric/core/metering/metering.schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { createStoppedVm, minuteSample, registerProductionHost, type TestHost } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Issue 9, class 5: samples that cannot be true were stored (2027, 9999, 1970,
// before the VM existed, off the interval, more memory than the VM has, three
// one-hour samples a minute apart) and Measure-VM and bills believed them. Each
// is refused here over real HTTP with the host's own credential: 422
// IMPLAUSIBLE_SAMPLES with a verdict per sample, nothing of the batch stored
// (nor its seq), Measure-VM unchanged; and the true samples beside them pass.

const MIN = 60_000;
const HOUR = 3_600_000;

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: TestHost;
/** 2 vCPUs, 4 GiB static, on `host` (2,900 MHz): created four hours ago, the host five. */
let vmId: string;
let createdAtMs: number;
let registeredAtMs: number;
/** The start of the current minute when the test began: samples end on whole minutes before it. */
let minuteMs: number;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  host = await registerProductionHost(api, c.admin, 'plausible-01');
  vmId = await createStoppedVm(c.blueAdmin, 'plausible-vm');
  minuteMs = Math.floor(Date.now() / MIN) * MIN;
  createdAtMs = minuteMs - 4 * HOUR;
  registeredAtMs = minuteMs - 5 * HOUR;
  // A history to sample: the VM on this host since four hours ago, the host registered an hour before.
  await withSql(api.databaseUrl, async (sql) => {
    await sql.query('UPDATE vms SET host_id = $2, created_at = $3 WHERE id = $1', [
      vmId,
      host.hostId,
      new Date(createdAtMs),
    ]);
    await sql.query('UPDATE hosts SET registered_at = $2 WHERE id = $1', [host.hostId, new Date(registeredAtMs)]);
  });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

const post = (samples: object[], h: TestHost = host) =>
  agentPost(
    api.url,
    `/agent/v1/hosts/${h.hostId}/samples`,
    { seq: ++h.seq, batch: h.seq, samples },
    { credential: h.credential },
  );

const lastSeq = async () =>
  withSql(api.databaseUrl, async (sql) => {
    const r = await sql.query<{ s: string }>('SELECT last_seq::text AS s FROM hosts WHERE id = $1', [host.hostId]);
    return Number(r.rows[0]?.s);
  });

const measureAll = () =>
  c.blueAdmin.query<VmMeasurement>('metering.measureVm', {
    id: vmId,
    from: new Date('2000-01-01T00:00:00Z'),
    to: new Date('2200-01-01T00:00:00Z'),
  });

const iso = (ms: number) => new Date(ms).toISOString();
/** The per-sample verdicts of a refusal's body. */
const verdictsOf = (body: unknown) =>
  (body as { error?: { samples?: { index: number; vmId: string; code: string }[] } }).error?.samples ?? [];
/** A one-minute sample of the VM ending `minutesAgo` minutes before the test's minute. */
const ago = (minutesAgo: number, over: object = {}) => ({
  ...minuteSample(vmId, minuteMs - minutesAgo * MIN),
  ...over,
});

/** Sends `bad` beside a good sample; expects the batch refused whole, with `code` for `bad`, and nothing stored. */
async function expectRefused(bad: object, code: string, good: object = ago(100)) {
  const samplesBefore = await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`);
  const measuredBefore = await measureAll();
  const seqBefore = await lastSeq();
  const r = await post([good, bad]);
  expect(r.status).toBe(422);
  expect(r.body).toMatchObject({
    error: { code: 'IMPLAUSIBLE_SAMPLES', samples: [{ index: 1, vmId, code }] },
  });
  expect(verdictsOf(r.body)).toHaveLength(1);
  expect(await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`)).toBe(samplesBefore);
  expect(await lastSeq()).toBe(seqBefore);
  expect(await measureAll()).toEqual(measuredBefore);
}

describe('samples that cannot be true', () => {
  it.each([
    ['in 2027', { at: '2027-01-15T10:00:00.000Z' }, 'SAMPLE_IN_FUTURE'],
    ['in 2200', { at: '2200-12-31T00:00:00.000Z' }, 'SAMPLE_IN_FUTURE'],
    ['an hour ahead of the clock', { at: iso(Math.floor(Date.now() / MIN) * MIN + HOUR) }, 'SAMPLE_IN_FUTURE'],
    ['off the interval', { at: iso(Math.floor(Date.now() / MIN) * MIN - 30 * MIN + 30_000) }, 'SAMPLE_NOT_ALIGNED'],
    [
      'before the VM existed',
      { at: iso(Math.floor(Date.now() / MIN) * MIN - 4 * HOUR - 30 * MIN) },
      'SAMPLE_BEFORE_VM',
    ],
    ['before the host registered', { at: iso(Math.floor(Date.now() / MIN) * MIN - 6 * HOUR) }, 'SAMPLE_BEFORE_HOST'],
    ['in 2001', { at: '2001-01-01T00:00:00.000Z' }, 'SAMPLE_BEFORE_HOST'],
    [
      'with more memory than the VM has',
      { memoryAvgMiB: 8192, memoryMinMiB: 8192, memoryMaxMiB: 8192 },
      'SAMPLE_MEMORY_ABOVE_VM',
    ],
    ['with more CPU than 2 vCPUs at 2,900 MHz', { cpuAvgMhz: 5801 }, 'SAMPLE_CPU_ABOVE_VM'],
    ['with 2^53 disk bytes in a minute', { diskWriteBytes: 2 ** 53 - 1 }, 'SAMPLE_DISK_IMPLAUSIBLE'],
    ['with 2^53 network bytes in a minute', { networkInInternetBytes: 2 ** 53 - 1 }, 'SAMPLE_NETWORK_IMPLAUSIBLE'],
  ])('refuses a sample %s, and the batch with it', async (_what, over, code) => {
    await expectRefused(ago(50, over), code);
  });

  it.each([
    ['in 9999', '9999-01-01T00:00:00.000Z'],
    ['in 1970', '1970-01-01T00:01:00.000Z'],
    ['in year 0', '0000-01-01T00:00:00.000Z'],
    ['in year +100000', '+100000-01-01T00:00:00.000Z'],
  ])('refuses a date %s as a malformed batch (400), storing nothing', async (_what, at) => {
    const before = await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`);
    const r = await post([ago(100), ago(50, { at })]);
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY' } } });
    expect(String((r.body as { error: { message: string } }).error.message)).toContain('samples.1.at');
    expect(await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`)).toBe(before);
  });

  it('refuses three one-hour samples a minute apart (no 11,100 metered seconds in an hour)', async () => {
    const hourEnd = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const hours = [0, 1, 2].map((m) => ({ ...minuteSample(vmId, hourEnd + m * MIN), intervalSeconds: 3600 }));
    const before = await measureAll();
    const r = await post(hours);
    expect(r.status).toBe(422);
    expect(verdictsOf(r.body)).toEqual([
      expect.objectContaining({ index: 1, code: 'SAMPLE_NOT_ALIGNED' }),
      expect.objectContaining({ index: 2, code: 'SAMPLE_NOT_ALIGNED' }),
    ]);
    expect(await measureAll()).toEqual(before);
  });

  it('refuses an hour that overlaps stored minutes, and minutes inside a stored hour', async () => {
    const hourEnd = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    // Two true minutes inside the hour before `hourEnd`, stored.
    expect(await post([minuteSample(vmId, hourEnd - 20 * MIN), minuteSample(vmId, hourEnd - 19 * MIN)])).toMatchObject({
      status: 200,
      body: { stored: 2 },
    });
    await expectRefused({ ...minuteSample(vmId, hourEnd), intervalSeconds: 3600 }, 'SAMPLE_OVERLAPS', ago(95));
    // And within one batch: an hour and a minute inside it.
    const r = await post([
      { ...minuteSample(vmId, hourEnd - HOUR), intervalSeconds: 3600 },
      minuteSample(vmId, hourEnd - HOUR - 5 * MIN),
    ]);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: { samples: [{ code: 'SAMPLE_OVERLAPS' }] } });
  });

  it('takes true samples in the same conditions: the VM at its limits, back to back, resent', async () => {
    const samples = [
      ago(10, { cpuAvgMhz: 5800 }),
      ago(9),
      // The first minute after the VM's creation, and a sample a host clock a minute ahead would send.
      { ...minuteSample(vmId, createdAtMs + MIN) },
      { ...minuteSample(vmId, Math.floor(Date.now() / MIN) * MIN + MIN) },
    ];
    const before = await measureAll();
    expect(await post(samples)).toMatchObject({ status: 200, body: { stored: 4, ignored: 0 } });
    // Sent again (an answer lost): nothing new, not an overlap.
    expect(await post(samples)).toMatchObject({ status: 200, body: { stored: 0 } });
    const after = await measureAll();
    expect(after.meteredSeconds - before.meteredSeconds).toBe(4 * 60);
  });

  it('still ignores (does not refuse) samples of a VM that is not on this host', async () => {
    const other = await registerProductionHost(api, c.admin, 'plausible-02');
    await withSql(api.databaseUrl, (sql) =>
      sql.query('UPDATE hosts SET registered_at = $2 WHERE id = $1', [other.hostId, new Date(registeredAtMs)]),
    );
    expect(await post([ago(30)], other)).toMatchObject({ status: 200, body: { stored: 0, ignored: 1 } });
  });
});

describe('bills for time that has not come', () => {
  const monthStart = (offset: number) => {
    const now = new Date();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString();
  };

  it('refuses a bill or report for next month (PERIOD_NOT_STARTED), and still shows this month so far', async () => {
    const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
    const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id;
    const nextMonth = { from: monthStart(1), to: monthStart(2) };
    const bill = await c.finance.call('chargeback.bill', 'query', { tenantId: blueId, period: nextMonth });
    expect(bill).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    if (!bill.ok) expect(bill.message).toContain('there is no usage to bill yet');
    const own = await c.blueAdmin.call('chargeback.bill', 'query', {
      period: { from: '2027-01-01T00:00:00Z', to: '2027-02-01T00:00:00Z' },
    });
    expect(own).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await c.finance.call('chargeback.report', 'query', { period: nextMonth })).toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
    });
    // This month so far (to the end of the current hour, as the console asks) is showback, not refused as
    // not started (here it has no price list yet: that is what it is told).
    const soFar = { from: monthStart(0), to: new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR).toISOString() };
    const current = await c.finance.call('chargeback.bill', 'query', { tenantId: blueId, period: soFar });
    if (!current.ok) expect(current.message).not.toContain('there is no usage to bill yet');
  });
});
