import { randomUUID } from 'node:crypto';
import type { ReportRow } from '@fabric/core/chargeback/chargeback.schema';
import { type Invoice, rateUsage } from '@fabric/core/chargeback/rate';
import type { RateCard } from '@fabric/core/chargeback/rate-card';
import type { UsageRow } from '@fabric/core/chargeback/usage.schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { existedSince, TEST_PRICES as prices } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// From agent samples to a bill: rollups feed the rating core; every line is
// rounded once and the total is the exact sum of the lines.

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let vmId: string;
let seq = 1;
let billHost: { hostId: string; credential: string };

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock });
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  yellowId = tenants.find((t) => t.name === 'Yellow Corp')?.id ?? '';
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  const host = (await register(api.url, token, 'bill-01')).body as { hostId: string; credential: string };
  billHost = host;
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name: 'billed-01',
    vcpus: 4,
    memory: { mode: 'static', sizeMiB: 8192 },
    disks: [{ sizeGiB: 100 }],
    startAfterCreate: false,
  });
  vmId = created.vm.id;
  await existedSince(api, { hostIds: [host.hostId], vmIds: [vmId] });
  // One hour, 2026-11-02 10:00–11:00 UTC, of a running VM: 60 one-minute samples.
  const samples = Array.from({ length: 60 }, (_, i) => ({
    vmId,
    at: new Date(Date.UTC(2026, 10, 2, 10, i + 1)).toISOString(),
    intervalSeconds: 60,
    cpuAvgMhz: 2000,
    memoryAvgMiB: 8192,
    memoryMinMiB: 8192,
    memoryMaxMiB: 8192,
    diskAllocatedGiB: 100,
    diskReadBytes: 0,
    diskWriteBytes: 0,
    networkInInternetBytes: 0,
    networkOutInternetBytes: 1024 ** 3 / 60,
    networkInDatacenterBytes: 0,
    networkOutDatacenterBytes: 0,
  }));
  const r = await agentPost(
    api.url,
    `/agent/v1/hosts/${host.hostId}/samples`,
    {
      seq: seq++,
      batch: 1,
      samples: samples.map((s) => ({ ...s, networkOutInternetBytes: Math.floor(s.networkOutInternetBytes) })),
    },
    { credential: host.credential },
  );
  expect(r.body).toMatchObject({ stored: 60 });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

describe('rate cards', () => {
  it('refuses a card starting in the past (past bills never change) and duplicates', async () => {
    const past = await c.finance.call('chargeback.addRateCard', 'mutation', {
      currency: 'USD',
      effectiveFrom: '2000-01-01',
      prices,
    });
    expect(past).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    if (!past.ok) expect(past.message).toMatch(/starts today .* or later/);
  });
});

describe('a bill from metered usage', () => {
  it('prices each resource once per line and totals exactly; a discount is rounded once', async () => {
    // Cards start today at the earliest; move the clock back to before the metered hour to add one.
    offsetMs = Date.UTC(2026, 10, 1) - Date.now();
    await c.finance.mutate('chargeback.addRateCard', { currency: 'USD', effectiveFrom: '2026-11-01', prices });
    offsetMs = 0;
    const period = { from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' };
    const bill = await c.finance.query<{
      lines: { resource: string; quantity: string; amount: string }[];
      subtotal: string;
      total: string;
    }>('chargeback.bill', { tenantId: blueId, period });
    const byResource = Object.fromEntries(bill.lines.map((l) => [l.resource, l]));
    // 4 vCPUs × 1 h × 0.0125 = 0.05; 8 GiB × 1 h × 0.005 = 0.04;
    // 100 GiB × 1/730 month × 0.10 = 0.0137 → 0.01; ~1 GiB out to the internet × 0.09 = 0.09.
    expect(byResource.vcpu).toMatchObject({ quantity: '4', amount: '0.05' });
    expect(byResource.memory).toMatchObject({ quantity: '8', amount: '0.04' });
    expect(byResource.disk?.amount).toBe('0.01');
    expect(byResource['network-out-internet']?.amount).toBe('0.09');
    const sum = bill.lines.reduce((cents, l) => cents + Math.round(Number(l.amount) * 100), 0);
    expect(Math.round(Number(bill.subtotal) * 100)).toBe(sum);
    expect(bill.total).toBe(bill.subtotal);

    await c.finance.mutate('chargeback.setPlan', { tenantId: blueId, plan: { kind: 'discount', percent: '10' } });
    const discounted = await c.finance.query<{ subtotal: string; discount: string; total: string }>('chargeback.bill', {
      tenantId: blueId,
      period,
    });
    expect(discounted).toMatchObject({ subtotal: bill.subtotal, discount: '0.02', total: '0.17' });
  });

  it('a tenant admin gets its own bill only, whatever tenant it names', async () => {
    const period = { from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' };
    const own = await c.blueAdmin.query<{ lines: { vmId: string }[] }>('chargeback.bill', {
      tenantId: yellowId,
      period,
    });
    expect(own.lines.every((l) => l.vmId === vmId)).toBe(true);
    const yellow = await c.yellowAdmin.query<{ lines: unknown[]; total: string }>('chargeback.bill', { period });
    expect(yellow).toMatchObject({ lines: [], total: '0.00' });
    expect(await c.blueUser.call('chargeback.bill', 'query', { period })).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('the bill as CSV', () => {
  const query = `from=${encodeURIComponent('2026-11-02T00:00:00Z')}&to=${encodeURIComponent('2026-11-03T00:00:00Z')}`;
  const download = (client: ApiClient | null, extra = '') =>
    fetch(`${api.url}/api/exports/bill.csv?${query}${extra}`, {
      headers: client?.cookie ? { cookie: client.cookie } : {},
    });

  it('downloads the same lines and totals as the bill, for the asked tenant only', async () => {
    const bill = await c.finance.query<{ lines: unknown[]; total: string }>('chargeback.bill', {
      tenantId: blueId,
      period: { from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' },
    });
    const response = await download(c.finance, `&tenantId=${blueId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/csv/);
    const rows = (await response.text()).trim().split('\r\n');
    expect(rows).toHaveLength(1 + bill.lines.length + 3);
    expect(rows.at(-1)).toContain(`,total,,,,${bill.total},USD,`);
    expect(rows.slice(1).every((r) => r.startsWith('Blue Corp,'))).toBe(true);
  });

  it('a tenant admin downloads its own bill; others are refused', async () => {
    const own = await download(c.yellowAdmin, `&tenantId=${blueId}`);
    expect(own.status).toBe(200);
    expect(await own.text()).not.toContain('Blue Corp');
    expect((await download(c.blueUser)).status).toBe(403);
    expect((await download(null)).status).toBe(401);
    expect(
      (await fetch(`${api.url}/api/exports/bill.csv?from=x&to=y`, { headers: { cookie: c.finance.cookie ?? '' } }))
        .status,
    ).toBe(400);
  });
});

describe('bills from daily rollups, and the all-tenant report', () => {
  // Yellow's VM runs 2026-11-02 22:00 → 2026-11-04 03:00 (29 hours, 5-minute samples), renamed on the way;
  // periods below cut days at both ends, so bills read whole days from the daily rollups and edge hours from the hourly.
  const period = { from: '2026-11-02T05:00:00Z', to: '2026-11-04T02:00:00Z' };
  let yellowVmId: string;

  beforeAll(async () => {
    const created = await c.yellowAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'yellow-billed',
      vcpus: 3,
      memory: { mode: 'static', sizeMiB: 6144 },
      disks: [{ sizeGiB: 250 }],
      startAfterCreate: false,
    });
    yellowVmId = created.vm.id;
    await existedSince(api, { vmIds: [yellowVmId] });
    // The only host is bill-01, so the VM is placed there and its samples are that host's to send.
    const start = Date.UTC(2026, 10, 2, 22);
    const samples = Array.from({ length: 29 * 12 }, (_, i) => ({
      vmId: yellowVmId,
      at: new Date(start + (i + 1) * 300_000).toISOString(),
      intervalSeconds: 300,
      cpuAvgMhz: 1500 + (i % 7) * 0.125,
      memoryAvgMiB: 6144 - (i % 5) * 0.5,
      memoryMinMiB: 4096,
      memoryMaxMiB: 6144,
      diskAllocatedGiB: 250.0625,
      diskReadBytes: 0,
      diskWriteBytes: 0,
      networkInInternetBytes: 1_000 * i,
      networkOutInternetBytes: 7_777_777 * (i % 13),
      networkInDatacenterBytes: 0,
      networkOutDatacenterBytes: 123_456 * i,
    }));
    const r = await agentPost(
      api.url,
      `/agent/v1/hosts/${billHost.hostId}/samples`,
      { seq: seq++, batch: 2, samples },
      { credential: billHost.credential },
    );
    expect(r.body).toMatchObject({ stored: samples.length });
    await api.services.metering.housekeeping();
    // Renamed mid-way: the bill shows the latest name.
    await withSql(api.databaseUrl, (sql) =>
      sql.query(
        `UPDATE vm_usage_hourly SET vm_name = 'renamed-yellow' WHERE vm_id = $1 AND hour >= '2026-11-03T12:00:00Z'`,
        [yellowVmId],
      ),
    );
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`SELECT rollup_vm_usage_days(ARRAY['2026-11-03'::date, '2026-11-04'::date])`),
    );
  });

  it('a bill over whole days and partial edges equals rating the hourly rollups, to the digit', async () => {
    const bill = await c.finance.query<Invoice>('chargeback.bill', { tenantId: yellowId, period });
    const hourly = await withSql(api.databaseUrl, async (sql) => {
      const r = await sql.query<Record<string, string>>(
        `SELECT vm_id, vm_name, hour, vcpus::text, running_seconds::text, mem_mib_seconds::text AS mem,
           disk_gib_seconds::text AS disk, net_in_internet_bytes::text AS in_i, net_out_internet_bytes::text AS out_i,
           net_in_datacenter_bytes::text AS in_d, net_out_datacenter_bytes::text AS out_d
         FROM vm_usage_hourly WHERE tenant_id = $1`,
        [yellowId],
      );
      return r.rows;
    });
    const rows: UsageRow[] = hourly.map((h) => {
      const from = new Date(h.hour ?? '').getTime();
      return {
        vmId: h.vm_id ?? '',
        vmName: h.vm_name ?? '',
        from: new Date(from).toISOString(),
        to: new Date(from + 3_600_000).toISOString(),
        vcpuSeconds: String(Number(h.vcpus) * Math.min(3600, Number(h.running_seconds))),
        memMibSeconds: h.mem ?? '0',
        diskGibSeconds: h.disk ?? '0',
        replicaGibSeconds: 0,
        networkInBytes: { internet: h.in_i ?? '0', datacenter: h.in_d ?? '0' },
        networkOutBytes: { internet: h.out_i ?? '0', datacenter: h.out_d ?? '0' },
      };
    });
    const cards = await c.finance.query<RateCard[]>('chargeback.rateCards');
    const expected = rateUsage(rows, cards, { kind: 'list' }, period);
    expect(bill.lines.length).toBeGreaterThan(3);
    expect(bill).toEqual({ ...expected, unpricedBefore: undefined });
    expect(new Set(bill.lines.map((l) => l.vmName))).toEqual(new Set(['renamed-yellow']));
    // Renamed inside the whole days of a month too (the latest name wins, not the greatest).
    const month = await c.finance.query<Invoice>('chargeback.bill', {
      tenantId: yellowId,
      period: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
    });
    expect(new Set(month.lines.map((l) => l.vmName))).toEqual(new Set(['renamed-yellow']));
    // 3 vCPUs × 28 running hours inside the period (22:00 on the 2nd to 02:00 on the 4th).
    expect(bill.lines.find((l) => l.resource === 'vcpu')?.quantity).toBe('84');
  });

  it('the report has every tenant, each total equal to its own bill to the cent', async () => {
    for (const p of [period, { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }]) {
      const report = await c.finance.query<ReportRow[]>('chargeback.report', { period: p });
      const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
      expect(report.map((r) => r.tenantName).sort()).toEqual(tenants.map((t) => t.name).sort());
      for (const row of report) {
        const bill = await c.finance.query<Invoice>('chargeback.bill', { tenantId: row.tenantId, period: p });
        expect(row).toMatchObject({
          currency: bill.currency,
          subtotal: bill.subtotal,
          discount: bill.discount,
          total: bill.total,
          lineCount: bill.lines.length,
          vmCount: new Set(bill.lines.map((l) => l.vmId)).size,
        });
      }
      expect(report.find((r) => r.tenantId === yellowId)?.vmCount).toBe(1);
      expect(report.find((r) => r.tenantId === blueId)?.discount).not.toBe('0.00');
    }
    // A tenant without usage in the period gets a zero row.
    const quiet = await c.finance.query<ReportRow[]>('chargeback.report', {
      period: { from: '2026-11-02T00:00:00Z', to: '2026-11-02T12:00:00Z' },
    });
    expect(quiet.find((r) => r.tenantId === yellowId)).toMatchObject({ total: '0.00', vmCount: 0, lineCount: 0 });
    expect(await c.blueAdmin.call('chargeback.report', 'query', { period })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it("a one-tenant report is that tenant's row of the all-tenant report and its bill's totals, to the cent", async () => {
    const month = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
    const early = { from: '2026-10-20T00:00:00Z', to: '2026-11-05T00:00:00Z' };
    const quiet = { from: '2026-11-02T00:00:00Z', to: '2026-11-02T12:00:00Z' };
    for (const p of [period, month, early, quiet]) {
      const all = await c.finance.query<ReportRow[]>('chargeback.report', { period: p });
      // Blue is on a discount plan, Yellow on list prices.
      for (const tenantId of [blueId, yellowId]) {
        const one = await c.finance.query<ReportRow[]>('chargeback.report', { period: p, tenantId });
        expect(one).toEqual(all.filter((r) => r.tenantId === tenantId));
        const bill = await c.finance.query<Invoice>('chargeback.bill', { tenantId, period: p });
        expect(one[0]).toMatchObject({
          currency: bill.currency,
          subtotal: bill.subtotal,
          discount: bill.discount,
          total: bill.total,
          lineCount: bill.lines.length,
          vmCount: new Set(bill.lines.map((l) => l.vmId)).size,
          unpricedBefore: bill.unpricedBefore ?? null,
        });
        expect(await c.admin.query<ReportRow[]>('chargeback.report', { period: p, tenantId })).toEqual(one);
      }
    }
    const [month1] = await c.finance.query<ReportRow[]>('chargeback.report', { period: month, tenantId: yellowId });
    expect(month1).toMatchObject({ tenantName: 'Yellow Corp', vmCount: 1 });
    expect(month1?.total).not.toBe('0.00');
    expect(await c.finance.call('chargeback.report', 'query', { period: month, tenantId: randomUUID() })).toMatchObject(
      { code: 'NOT_FOUND' },
    );
    expect(await c.finance.call('chargeback.report', 'query', { period: month, tenantId: 'blue' })).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await c.yellowAdmin.call('chargeback.report', 'query', { period: month, tenantId: yellowId })).toMatchObject(
      { code: 'FORBIDDEN' },
    );
  });

  it('a period starting before the first rate card bills from the card on and says so', async () => {
    const early = { from: '2026-10-20T00:00:00Z', to: '2026-11-05T00:00:00Z' };
    const fromCard = { from: '2026-11-01T00:00:00Z', to: '2026-11-05T00:00:00Z' };
    const bill = await c.finance.query<Invoice>('chargeback.bill', { tenantId: yellowId, period: early });
    const priced = await c.finance.query<Invoice>('chargeback.bill', { tenantId: yellowId, period: fromCard });
    expect(bill.unpricedBefore).toBe('2026-11-01T00:00:00Z');
    expect(priced.unpricedBefore ?? null).toBeNull();
    expect(bill.total).toBe(priced.total);
    expect(bill.lines).toEqual(priced.lines);
    const report = await c.finance.query<ReportRow[]>('chargeback.report', { period: early });
    expect(report.find((r) => r.tenantId === yellowId)).toMatchObject({
      total: priced.total,
      unpricedBefore: '2026-11-01T00:00:00Z',
    });
  });
});
