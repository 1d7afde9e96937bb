import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
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

const prices = {
  vcpuHour: '0.0125',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.10',
  networkOutGiB: { internet: '0.09', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.05',
};

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
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name: 'billed-01',
    vcpus: 4,
    memory: { mode: 'static', sizeMiB: 8192 },
    disks: [{ sizeGiB: 100 }],
    startAfterCreate: false,
  });
  vmId = created.vm.id;
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
