import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { createStoppedVm, existedSince, registerProductionHost } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Metered port ACLs end to end, through the real agent endpoint: the provider
// defines address classes, agents learn them from the heartbeat answer and
// report bytes per ACL beside the fixed internet/datacenter counters; those
// are stored once, rolled up hourly and daily exactly, and Measure-VM shows them.

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: { hostId: string; credential: string };
let vmId: string;
let seq = 1;

const sample = (at: string, networkAcls?: { acl: string; inBytes: number; outBytes: number }[]) => ({
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
  ...(networkAcls ? { networkAcls } : {}),
});

const post = (samples: unknown[]) =>
  agentPost(
    api.url,
    `/agent/v1/hosts/${host.hostId}/samples`,
    { seq: seq++, batch: seq, samples },
    { credential: host.credential },
  );

const minute = (hour: number, m: number) => new Date(Date.UTC(2026, 10, 20, hour, m)).toISOString();

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock });
  c = await seedAndSignIn(api);
  host = await registerProductionHost(api, c.admin, 'acl-01');
  vmId = await createStoppedVm(c.blueAdmin, 'acl-metered-01', { diskGiB: 40 });
  await existedSince(api, { vmIds: [vmId] });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

describe('metered address classes', () => {
  it('a provider admin defines classes; finance lists them; each change is audited', async () => {
    await c.admin.mutate('metering.defineAddressClass', { name: 'storage', remoteAddresses: ['10.0.0.0/8'] });
    await c.admin.mutate('metering.defineAddressClass', {
      name: 'backup',
      remoteAddresses: ['192.0.2.0/24', '2001:db8::/32'],
    });
    const listed = await c.finance.query<{ name: string; remoteAddresses: string[] }[]>('metering.addressClasses');
    expect(listed.map((cl) => [cl.name, cl.remoteAddresses])).toEqual([
      ['backup', ['192.0.2.0/24', '2001:db8::/32']],
      ['storage', ['10.0.0.0/8']],
    ]);
    const audited = await withSql(api.databaseUrl, (sql) =>
      sql.query(`SELECT target_label FROM audit_events WHERE action = 'metering.address-class.define' ORDER BY id`),
    );
    expect(audited.rows.map((r) => r.target_label)).toEqual(['storage', 'backup']);
  });

  it('refuses bad classes with a message naming the rule, and writes nothing', async () => {
    const before = await countRows(api.databaseUrl, 'metered_address_classes');
    const cases: [unknown, string, string][] = [
      [{ name: 'internet', remoteAddresses: ['10.0.0.0/8'] }, 'BAD_REQUEST', 'fixed classes'],
      [{ name: 'lab', remoteAddresses: ['10.1.2.3/8'] }, 'BAD_REQUEST', 'has host bits set; the block is 10.0.0.0/8'],
      [{ name: 'lab', remoteAddresses: ['10.9.0.0/16'] }, 'CONFLICT', 'overlaps 10.0.0.0/8 of class "storage"'],
      [{ name: 'storage', remoteAddresses: ['198.51.100.0/24'] }, 'CONFLICT', 'already exists'],
    ];
    for (const [input, code, message] of cases) {
      const r = await c.admin.call('metering.defineAddressClass', 'mutation', input);
      expect(r).toMatchObject({ ok: false, code });
      expect(r.ok ? '' : r.message).toContain(message);
    }
    // Finance reads but does not define; tenants see nothing of it.
    expect(
      await c.finance.call('metering.defineAddressClass', 'mutation', {
        name: 'lab',
        remoteAddresses: ['198.51.100.0/24'],
      }),
    ).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await c.blueAdmin.call('metering.addressClasses', 'query')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await countRows(api.databaseUrl, 'metered_address_classes')).toBe(before);
  });

  it('agents learn the classes from the heartbeat answer', async () => {
    const r = await agentPost(
      api.url,
      `/agent/v1/hosts/${host.hostId}/heartbeat`,
      { seq: seq++, agentVersion: '0.1.0', inventoryHash: 'x' },
      { credential: host.credential },
    );
    expect(r.status).toBe(200);
    expect(r.body.meteredAcls).toEqual([
      { name: 'backup', remoteAddresses: ['192.0.2.0/24', '2001:db8::/32'] },
      { name: 'storage', remoteAddresses: ['10.0.0.0/8'] },
    ]);
  });
});

describe('samples with metered ACLs', () => {
  it('refuses a batch naming an undefined ACL with 400, storing nothing of it', async () => {
    const before = await countRows(api.databaseUrl, 'vm_samples');
    const r = await post([
      sample(minute(10, 1), [{ acl: 'storage', inBytes: 1, outBytes: 1 }]),
      sample(minute(10, 2), [{ acl: 'nosuch', inBytes: 1, outBytes: 1 }]),
    ]);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('UNKNOWN_METERED_ACL');
    expect(r.body.error?.message).toContain('"nosuch"');
    expect(await countRows(api.databaseUrl, 'vm_samples')).toBe(before);
    expect(await countRows(api.databaseUrl, 'vm_acl_samples')).toBe(0);
    // Malformed ACL entries are refused by the schema, naming the rule.
    const dup = await post([
      sample(minute(10, 1), [
        { acl: 'storage', inBytes: 1, outBytes: 1 },
        { acl: 'storage', inBytes: 2, outBytes: 2 },
      ]),
    ]);
    expect(dup.status).toBe(400);
    expect(dup.body.error?.message).toContain('Each metered ACL at most once per sample');
  });

  it('stores per-ACL bytes exactly, once: a resent sample (even with other bytes) changes nothing', async () => {
    // 10:01–10:59 with ACLs, plus one without (it stores as it always did).
    const big = 2 ** 40 + 7; // Beyond 32 bits: stored as bigint, summed as numeric.
    const batch = Array.from({ length: 59 }, (_, i) =>
      i === 58
        ? sample(minute(10, i + 1))
        : {
            ...sample(minute(10, i + 1), [
              { acl: 'storage', inBytes: big, outBytes: 1_000 + i },
              { acl: 'backup', inBytes: 0, outBytes: 5 },
            ]),
            // An ACL's bytes are part of the sample's traffic (more would be refused as impossible).
            networkInDatacenterBytes: big,
          },
    );
    expect((await post(batch)).body).toEqual({ stored: 59, ignored: 0 });
    expect(await countRows(api.databaseUrl, 'vm_acl_samples', `vm_id = '${vmId}'`)).toBe(58 * 2);
    const resent = batch.map((s) => ({ ...s, networkAcls: [{ acl: 'storage', inBytes: 1, outBytes: 1 }] }));
    expect((await post(resent)).body).toEqual({ stored: 0, ignored: 0 });
    expect(await countRows(api.databaseUrl, 'vm_acl_samples', `vm_id = '${vmId}'`)).toBe(58 * 2);
    // Next hour, and the next day, for the rollups.
    expect((await post([sample(minute(11, 30), [{ acl: 'storage', inBytes: 10, outBytes: 20 }])])).body).toEqual({
      stored: 1,
      ignored: 0,
    });
    expect(
      (
        await post([
          sample(new Date(Date.UTC(2026, 10, 21, 0, 1)).toISOString(), [{ acl: 'storage', inBytes: 3, outBytes: 4 }]),
        ])
      ).body,
    ).toEqual({ stored: 1, ignored: 0 });
  });

  it('rolls up per ACL hourly and daily, exactly and idempotently', async () => {
    await api.services.metering.housekeeping();
    const read = () =>
      withSql(api.databaseUrl, async (sql) => ({
        hourly: (
          await sql.query(
            `SELECT hour, acl, in_bytes::text AS in, out_bytes::text AS out FROM vm_acl_usage_hourly
             WHERE vm_id = $1 ORDER BY hour, acl`,
            [vmId],
          )
        ).rows.map((r) => [r.hour.toISOString(), r.acl, r.in, r.out]),
        daily: (
          await sql.query(
            `SELECT day::text AS day, acl, in_bytes::text AS in, out_bytes::text AS out FROM vm_acl_usage_daily
             WHERE vm_id = $1 ORDER BY day, acl`,
            [vmId],
          )
        ).rows.map((r) => [r.day, r.acl, r.in, r.out]),
      }));
    const storageIn = (58n * (2n ** 40n + 7n)).toString();
    const storageOut = String(58 * 1000 + (57 * 58) / 2);
    const first = await read();
    expect(first).toEqual({
      hourly: [
        ['2026-11-20T10:00:00.000Z', 'backup', '0', String(58 * 5)],
        ['2026-11-20T10:00:00.000Z', 'storage', storageIn, storageOut],
        ['2026-11-20T11:00:00.000Z', 'storage', '10', '20'],
        ['2026-11-21T00:00:00.000Z', 'storage', '3', '4'],
      ],
      daily: [
        ['2026-11-20', 'backup', '0', String(58 * 5)],
        ['2026-11-20', 'storage', (58n * (2n ** 40n + 7n) + 10n).toString(), String(58 * 1000 + (57 * 58) / 2 + 20)],
        ['2026-11-21', 'storage', '3', '4'],
      ],
    });
    // Again: the same rows; the fixed counters still roll up as they did.
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`INSERT INTO rollup_pending (hour) VALUES ('2026-11-20T10:00:00Z'), ('2026-11-20T11:00:00Z')`),
    );
    await api.services.metering.housekeeping();
    expect(await read()).toEqual(first);
    const fixed = await withSql(api.databaseUrl, (sql) =>
      sql.query(
        `SELECT samples, net_out_internet_bytes::text AS out FROM vm_usage_hourly WHERE vm_id = $1 ORDER BY hour`,
        [vmId],
      ),
    );
    expect(fixed.rows).toEqual([
      { samples: 59, out: String(59 * 2000) },
      { samples: 1, out: '2000' },
      { samples: 1, out: '2000' },
    ]);
  });

  it('Measure-VM reports per-ACL totals beside the fixed classes', async () => {
    const m = await c.blueUser.query<{
      network: { remoteAddress: string; inboundBytes: number; outboundBytes: number }[];
      networkAcls: { acl: string; inboundBytes: number; outboundBytes: number }[];
    }>('metering.measureVm', {
      id: vmId,
      from: new Date('2026-11-20T11:00:00Z'),
      to: new Date('2026-11-21T01:00:00Z'),
    });
    expect(m.network).toEqual([
      { remoteAddress: 'internet', inboundBytes: 2_000, outboundBytes: 4_000 },
      { remoteAddress: 'datacenter', inboundBytes: 6_000, outboundBytes: 8_000 },
    ]);
    expect(m.networkAcls).toEqual([{ acl: 'storage', inboundBytes: 13, outboundBytes: 24 }]);
  });

  it('a class with usage cannot be removed (saying why); one without can', async () => {
    const refused = await c.admin.call('metering.removeAddressClass', 'mutation', { name: 'storage' });
    expect(refused).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(refused.ok ? '' : refused.message).toContain('has metered usage');
    await c.admin.mutate('metering.defineAddressClass', { name: 'lab', remoteAddresses: ['198.51.100.0/24'] });
    expect(await c.admin.mutate('metering.removeAddressClass', { name: 'lab' })).toEqual({ removed: 'lab' });
    expect(await c.admin.call('metering.removeAddressClass', 'mutation', { name: 'lab' })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
    // Usage not rolled up yet counts too.
    await c.admin.mutate('metering.defineAddressClass', { name: 'fresh', remoteAddresses: ['203.0.113.0/24'] });
    const at = new Date(Date.UTC(2026, 10, 23, 9, 1)).toISOString();
    expect((await post([sample(at, [{ acl: 'fresh', inBytes: 1, outBytes: 0 }])])).body).toEqual({
      stored: 1,
      ignored: 0,
    });
    expect(await c.admin.call('metering.removeAddressClass', 'mutation', { name: 'fresh' })).toMatchObject({
      ok: false,
      code: 'CONFLICT',
    });
    const names = (await c.admin.query<{ name: string }[]>('metering.addressClasses')).map((cl) => cl.name);
    expect(names).toEqual(['backup', 'fresh', 'storage']);
    const removals = await withSql(api.databaseUrl, (sql) =>
      sql.query(`SELECT target_label FROM audit_events WHERE action = 'metering.address-class.remove'`),
    );
    expect(removals.rows.map((r) => r.target_label)).toEqual(['lab']);
  });
});

const prices = {
  vcpuHour: '0.02',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.05',
  networkOutGiB: { internet: '0.08', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.04',
};

interface Bill {
  lines: {
    vmId: string;
    resource: string;
    quantity: string;
    unit: string;
    rate: string;
    amount: string;
    cardEffectiveFrom: string;
  }[];
  subtotal: string;
  total: string;
}

describe('bills with metered classes', () => {
  let blueId: string;

  beforeAll(async () => {
    blueId = (await c.admin.query<{ id: string; name: string }[]>('tenants.list')).find((t) => t.name === 'Blue Corp')
      ?.id as string;
    // Cards start today at the earliest: move the clock back before the metered days to add them.
    offsetMs = Date.UTC(2026, 10, 1) - Date.now();
    try {
      await c.finance.mutate('chargeback.addRateCard', { currency: 'EUR', effectiveFrom: '2026-11-01', prices });
      // A card may not price a class that is not defined (and writes nothing).
      const unknown = await c.finance.call('chargeback.addRateCard', 'mutation', {
        currency: 'EUR',
        effectiveFrom: '2026-11-20',
        prices: { ...prices, networkOutGiB: { ...prices.networkOutGiB, nosuch: '1' } },
      });
      expect(unknown).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
      expect(unknown.ok ? '' : unknown.message).toContain('not defined: nosuch');
      await c.finance.mutate('chargeback.addRateCard', {
        currency: 'EUR',
        effectiveFrom: '2026-11-20',
        prices: {
          ...prices,
          networkOutGiB: { ...prices.networkOutGiB, storage: '0.002' },
          networkInGiB: { ...prices.networkInGiB, storage: '0.001' },
        },
      });
    } finally {
      offsetMs = 0;
    }
  });

  const aclLines = (bill: Bill) =>
    bill.lines
      .filter((l) => l.vmId === vmId && l.resource.includes(':'))
      .map((l) => [l.resource, l.quantity, l.unit, l.rate, l.amount, l.cardEffectiveFrom]);

  it('bills each class under the card in effect, lists an unpriced class at 0, and totals are Σ lines', async () => {
    const period = { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' };
    const bill = await c.finance.query<Bill>('chargeback.bill', { tenantId: blueId, period });
    // Quantities are bytes / 2^30, summed before dividing (rating's exact division, to its digits).
    const gib = (bytes: bigint) => new Decimal(bytes.toString()).dividedBy(2 ** 30);
    const storageIn = 58n * (2n ** 40n + 7n) + 10n + 3n;
    const storageOut = BigInt(58 * 1000 + (57 * 58) / 2 + 20 + 4);
    const lines = aclLines(bill);
    expect(lines.map(([resource, , unit, rate, amount, card]) => [resource, unit, rate, amount, card])).toEqual([
      ['network-out:backup', 'GiB', '0', '0.00', '2026-11-20'],
      ['network-out:storage', 'GiB', '0.002', '0.00', '2026-11-20'],
      ['network-in:storage', 'GiB', '0.001', '59.39', '2026-11-20'],
    ]);
    for (const [[, quantity], bytes] of lines.map((l, i) => [l, [290n, storageOut, storageIn][i] ?? 0n] as const)) {
      expect(new Decimal(quantity ?? '').minus(gib(bytes)).abs().toNumber()).toBeLessThan(1e-15);
    }
    const sum = bill.lines.reduce((acc, l) => acc.plus(l.amount), new Decimal(0));
    expect(sum.toFixed(2)).toBe(bill.subtotal);
    // Finance's all-tenant report reads the same sums.
    const report = await c.finance.query<{ tenantId: string; total: string }[]>('chargeback.report', { period });
    expect(report.find((r) => r.tenantId === blueId)?.total).toBe(bill.total);
  });

  it('days and edge hours give the same class lines (daily and hourly per-ACL rollups agree)', async () => {
    const whole = await c.finance.query<Bill>('chargeback.bill', {
      tenantId: blueId,
      period: { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' },
    });
    const edges = await c.finance.query<Bill>('chargeback.bill', {
      tenantId: blueId,
      period: { from: '2026-11-20T10:00:00Z', to: '2026-11-21T01:00:00Z' },
    });
    expect(aclLines(edges)).toEqual(aclLines(whole));
    // The tenant sees the same lines in its own bill.
    const own = await c.blueAdmin.query<Bill>('chargeback.bill', {
      period: { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' },
    });
    expect(aclLines(own)).toEqual(aclLines(whole));
  });
});
