import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPdf } from '../pdf/read-pdf.testing';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { existedSince, TEST_PRICES as prices } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Bill exports over HTTP: each format carries exactly the asked tenant's
// lines, the all-tenant file carries every tenant with the bill's totals, and
// the roles and tenant rule are those of `chargeback.bill`.

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
const vms: Record<'blue' | 'yellow', { id: string; name: string }> = {
  blue: { id: '', name: 'blue-export-01' },
  yellow: { id: '', name: 'yellow-export-01' },
};

const period = { from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' };

function sample(vmId: string, minute: number, vcpuMhz: number) {
  return {
    vmId,
    at: new Date(Date.UTC(2026, 10, 2, 10, minute + 1)).toISOString(),
    intervalSeconds: 60,
    cpuAvgMhz: vcpuMhz,
    memoryAvgMiB: 4096,
    memoryMinMiB: 4096,
    memoryMaxMiB: 4096,
    diskAllocatedGiB: 50,
    diskReadBytes: 0,
    diskWriteBytes: 0,
    networkInInternetBytes: 0,
    networkOutInternetBytes: 0,
    networkInDatacenterBytes: 0,
    networkOutDatacenterBytes: 0,
  };
}

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
  const host = (await register(api.url, token, 'export-01')).body as { hostId: string; credential: string };
  for (const [tenant, client] of [
    ['blue', c.blueAdmin],
    ['yellow', c.yellowAdmin],
  ] as const) {
    const created = await client.mutate<{ vm: { id: string } }>('vms.create', {
      name: vms[tenant].name,
      vcpus: 2,
      memory: { mode: 'static', sizeMiB: 4096 },
      disks: [{ sizeGiB: 50 }],
      startAfterCreate: false,
    });
    vms[tenant].id = created.vm.id;
  }
  await existedSince(api, { hostIds: [host.hostId], vmIds: [vms.blue.id, vms.yellow.id] });
  const samples = Array.from({ length: 60 }, (_, i) => [
    sample(vms.blue.id, i, 2000),
    sample(vms.yellow.id, i, 1000),
  ]).flat();
  const r = await agentPost(
    api.url,
    `/agent/v1/hosts/${host.hostId}/samples`,
    { seq: 1, batch: 1, samples },
    { credential: host.credential },
  );
  expect(r.body).toMatchObject({ stored: 120 });
  await api.services.metering.housekeeping();
  // Cards start today at the earliest: move the clock back to add one for the metered day.
  offsetMs = Date.UTC(2026, 10, 1) - Date.now();
  await c.finance.mutate('chargeback.addRateCard', { currency: 'USD', effectiveFrom: '2026-11-01', prices });
  offsetMs = 0;
  await c.finance.mutate('chargeback.setPlan', { tenantId: yellowId, plan: { kind: 'discount', percent: '50' } });
});
afterAll(() => api?.close());

type Format = 'csv' | 'json' | 'pdf';
const FORMATS: Format[] = ['csv', 'json', 'pdf'];

function download(client: ApiClient | null, format: Format, params: Record<string, string>) {
  const query = new URLSearchParams({ from: period.from, to: period.to, ...params });
  return fetch(`${api.url}/api/exports/bill.${format}?${query}`, {
    headers: client?.cookie ? { cookie: client.cookie } : {},
  });
}

function bill(tenantId: string) {
  return c.finance.query<{ lines: { vmId: string }[]; subtotal: string; discount: string; total: string }>(
    'chargeback.bill',
    { tenantId, period },
  );
}

async function exportSuccesses(): Promise<{ targetLabel: string | null }[]> {
  const page = await c.admin.query<{ rows: { targetLabel: string | null }[] }>('audit.list', {
    action: 'chargeback.export',
    result: 'success',
    pageSize: 200,
  });
  return page.rows;
}

/** What a file says, per format: tenant names, VM ids and names, and each tenant's total. */
async function contents(format: Format, response: Response) {
  if (format === 'pdf') {
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pdf = await readPdf(bytes);
    return { text: pdf.texts.join('\n'), pdf };
  }
  return { text: await response.text(), pdf: null };
}

describe('one tenant', () => {
  it.each(FORMATS)('%s: exactly the asked tenant’s VMs, totals equal to the bill', async (format) => {
    const blue = await bill(blueId);
    expect(blue.lines.length).toBeGreaterThan(0);
    const response = await download(c.finance, format, { tenantId: blueId });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(
      new RegExp(`attachment; filename="bill-blue[^"]*-2026-11-02-2026-11-03\\.${format}"`),
    );
    const { text, pdf } = await contents(format, response);
    expect(text).toContain('Blue Corp');
    expect(text).toContain(vms.blue.name);
    expect(text).not.toContain('Yellow');
    expect(text).not.toContain(vms.yellow.name);
    expect(text).not.toContain(vms.yellow.id);
    if (format === 'csv') {
      const rows = text.trim().split('\r\n');
      expect(rows).toHaveLength(1 + blue.lines.length + 3);
      expect(rows.at(-1)).toContain(`,total,,,,${blue.total},USD,`);
      expect(rows.slice(1).every((r) => r.startsWith('Blue Corp,') && r.includes(blueId))).toBe(true);
    } else if (format === 'json') {
      const parsed = JSON.parse(text);
      expect(parsed.bills).toHaveLength(1);
      expect(parsed.bills[0]).toMatchObject({ tenant: { id: blueId }, total: blue.total, status: 'estimate' });
      expect(parsed.bills[0].lines).toHaveLength(blue.lines.length);
      expect(parsed.bills[0].lines.every((l: { vmId: string }) => l.vmId === vms.blue.id)).toBe(true);
    } else {
      expect(pdf?.pageCount).toBe(1);
      expect(pdf?.texts).toContain(`${blue.total} USD`);
      expect(text).toContain('2026-11-02 00:00');
    }
  });

  it('a tenant admin gets its own bill whatever tenant it names', async () => {
    for (const format of FORMATS) {
      const response = await download(c.blueAdmin, format, { tenantId: yellowId });
      expect(response.status).toBe(200);
      const { text } = await contents(format, response);
      expect(text).toContain(vms.blue.name);
      expect(text).not.toContain(vms.yellow.name);
      expect(text).not.toContain('Yellow');
    }
  });
});

describe('all tenants', () => {
  it.each(FORMATS)('%s: both tenants, each with its bill’s total', async (format) => {
    const [blue, yellow] = await Promise.all([bill(blueId), bill(yellowId)]);
    expect(yellow.discount).not.toBe('0.00');
    const response = await download(c.finance, format, { all: '1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain(`bills-all-tenants-2026-11-02-2026-11-03.${format}`);
    // Streamed a tenant at a time: no length known up front.
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const { text, pdf } = await contents(format, response);
    for (const name of ['Blue Corp', 'Yellow Corp', vms.blue.name, vms.yellow.name]) expect(text).toContain(name);
    if (format === 'csv') {
      const totals = text
        .trim()
        .split('\r\n')
        .filter((r) => r.includes(',total,'))
        .map((r) => r.split(','));
      expect(Object.fromEntries(totals.map((r) => [r[12], r[9]]))).toMatchObject({
        [blueId]: blue.total,
        [yellowId]: yellow.total,
      });
    } else if (format === 'json') {
      const parsed = JSON.parse(text);
      const byTenant = Object.fromEntries(
        parsed.bills.map((b: { tenant: { id: string }; total: string }) => [b.tenant.id, b.total]),
      );
      expect(byTenant).toMatchObject({ [blueId]: blue.total, [yellowId]: yellow.total });
      expect(parsed.summary.tenants).toBe(parsed.bills.length);
    } else {
      expect(pdf?.pageCount).toBeGreaterThanOrEqual(2);
      expect(pdf?.texts).toContain(`${blue.total} USD`);
      expect(pdf?.texts).toContain(`${yellow.total} USD`);
    }
  });

  it('is refused to a tenant admin (403) and audited once per export with its scope', async () => {
    const before = (await exportSuccesses()).length;
    expect((await download(c.blueAdmin, 'csv', { all: '1' })).status).toBe(403);
    expect((await download(c.finance, 'json', { all: '1' })).status).toBe(200);
    const after = await exportSuccesses();
    expect(after.length).toBe(before + 1);
    expect(after[0]?.targetLabel).toBe('all tenants');
  });
});

describe('roles and bad input', () => {
  it('refuses a tenant user (403) and no session (401)', async () => {
    for (const format of FORMATS) {
      expect((await download(c.blueUser, format, {})).status).toBe(403);
      expect((await download(null, format, {})).status).toBe(401);
    }
  });

  it.each([
    ['a period that is not an instant', { tenantId: '', from: 'x', to: 'y' }, /period/],
    ['a period that ends before it starts', { to: '2026-11-01T00:00:00Z' }, /end after it starts/],
    ['a tenant id that is not a UUID', { tenantId: 'blue' }, /tenantId must be a tenant id/],
    ['both a tenant and all', { tenantId: '00000000-0000-4000-8000-000000000000', all: '1' }, /not both/],
    ['an unknown all value', { all: 'yes' }, /all must be 1 or 0/],
    ['neither a tenant nor all', {}, /name a tenant, or all=1/],
  ])('%s → 400 with a message, nothing exported', async (_, params, message) => {
    const before = (await exportSuccesses()).length;
    const response = await download(c.finance, 'csv', params as Record<string, string>);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
    expect((await exportSuccesses()).length).toBe(before);
  });

  it('an unknown tenant is 404 and an unknown format has no route', async () => {
    expect((await download(c.finance, 'pdf', { tenantId: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    const xls = await fetch(`${api.url}/api/exports/bill.xls?all=1`, { headers: { cookie: c.finance.cookie ?? '' } });
    expect(xls.status).toBe(404);
  });
});
