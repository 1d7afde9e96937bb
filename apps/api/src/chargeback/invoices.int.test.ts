import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPdf } from '../pdf/read-pdf.testing';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import {
  addCardFrom,
  createStoppedVm,
  demoTenantIds,
  hourOfSamples,
  movableClock,
  postSamples,
  registerProductionHost,
  type TestHost,
} from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Closing a month freezes every tenant's invoice. Samples that arrive after
// the close change the rollups, not the invoice: a review shows the
// difference and re-rating writes version 2 beside version 1.

const time = movableClock();
const setNow = time.set;
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let host: TestHost;

interface Summary {
  id: string;
  number: string;
  tenantId: string;
  tenantName: string;
  month: string;
  version: number;
  latestVersion: number;
  total: string;
  subtotal: string;
  adjustment: string;
  lineCount: number;
  reason: string;
}
interface Line {
  vmId: string;
  resource: string;
  quantity: string;
  amount: string;
}
interface Stored extends Summary {
  invoice: { lines: Line[]; subtotal: string; discount: string; total: string };
  changes: { vmId: string; resource: string; amountBefore: string; amountAfter: string; delta: string }[];
  versions: Summary[];
}

/** One hour of a running VM (about 1 GiB out to the internet), from `hourIso`. */
const postHour = (vmId: string, hourIso: string, cpuAvgMhz = 2000) =>
  postSamples(api, host, hourOfSamples(vmId, hourIso, { cpuAvgMhz, networkOutInternetBytes: 17_895_697 }));

let blueVm: string;
let yellowVm: string;

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock: time.clock });
  c = await seedAndSignIn(api);
  ({ blueId, yellowId } = await demoTenantIds(c));
  host = await registerProductionHost(api, c.admin, 'inv-01');
  await addCardFrom(c.finance, time, '2026-10-01');
  blueVm = await createStoppedVm(c.blueAdmin, 'inv-blue-01');
  yellowVm = await createStoppedVm(c.yellowAdmin, 'inv-yellow-01');
  await postHour(blueVm, '2026-10-03T10:00:00Z');
  await postHour(yellowVm, '2026-10-03T10:00:00Z', 1000);
});
afterAll(async () => {
  time.reset();
  await api?.close();
});

describe('closing a month', () => {
  it('refuses a month that is not over, and says from when it can be closed', async () => {
    setNow('2026-10-20T00:00:00Z');
    const periods = await c.finance.query<{ month: string; status: string; closable: boolean }[]>('chargeback.periods');
    expect(periods[0]).toMatchObject({ month: '2026-10', status: 'open', closable: false });
    const early = await c.finance.call('chargeback.closePeriod', 'mutation', { month: '2026-10' });
    expect(early).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
    if (!early.ok) expect(early.message).toContain('2026-11-01');
    const bad = await c.finance.call('chargeback.closePeriod', 'mutation', { month: '2026-13' });
    expect(bad).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    // A month before the first rate card has nothing priced: closing it would freeze empty invoices for good.
    const unpriced = await c.finance.call('chargeback.closePeriod', 'mutation', { month: '2026-09' });
    expect(unpriced).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
    if (!unpriced.ok) expect(unpriced.message).toContain('first rate card (effective 2026-10-01)');
    expect(await c.finance.query('chargeback.invoices', { month: '2026-10' })).toEqual([]);
    expect(await c.finance.query('chargeback.invoices', { month: '2026-09' })).toEqual([]);
    expect((await c.finance.query<{ total: number }>('tasks.list', { kind: 'billing.close-month' })).total).toBe(0);
  });

  it('freezes every tenant’s invoice with the bill’s exact lines and totals', async () => {
    setNow('2026-11-02T08:00:00Z');
    const period = await c.finance.mutate<{ status: string; invoiceCount: number; total: string }>(
      'chargeback.closePeriod',
      { month: '2026-10' },
    );
    const tenants = await c.finance.query<unknown[]>('tenants.list');
    expect(period).toMatchObject({ status: 'closed', invoiceCount: tenants.length });

    const invoices = await c.finance.query<Summary[]>('chargeback.invoices', { month: '2026-10' });
    expect(invoices).toHaveLength(tenants.length);
    const blue = invoices.find((i) => i.tenantId === blueId);
    expect(blue).toMatchObject({ version: 1, latestVersion: 1, adjustment: '0.00', reason: 'Month closed' });
    const live = await c.finance.query<{ lines: Line[]; total: string }>('chargeback.bill', {
      tenantId: blueId,
      period: { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' },
    });
    const stored = await c.finance.query<Stored>('chargeback.invoice', { id: blue?.id });
    expect(stored.invoice.lines).toEqual(live.lines);
    expect(stored.total).toBe(live.total);
    const cents = stored.invoice.lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0);
    expect(Math.round(Number(stored.total) * 100)).toBe(cents);
    // The period's total is the exact sum of its invoices.
    const sum = invoices.reduce((s, i) => s + Math.round(Number(i.total) * 100), 0);
    expect(Math.round(Number(period.total) * 100)).toBe(sum);

    const again = await c.finance.call('chargeback.closePeriod', 'mutation', { month: '2026-10' });
    expect(again).toMatchObject({ ok: false, code: 'CONFLICT' });
  });

  it('a tenant admin sees only its own invoices; another tenant’s is NOT_FOUND', async () => {
    const own = await c.blueAdmin.query<Summary[]>('chargeback.invoices', { tenantId: yellowId });
    expect(own.map((i) => i.tenantId)).toEqual([blueId]);
    const yellow = (await c.yellowAdmin.query<Summary[]>('chargeback.invoices', {}))[0];
    expect(await c.blueAdmin.call('chargeback.invoice', 'query', { id: yellow?.id })).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await c.blueUser.call('chargeback.invoices', 'query', {})).toMatchObject({ code: 'FORBIDDEN' });
    expect(await c.blueAdmin.call('chargeback.closePeriod', 'mutation', { month: '2026-09' })).toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('the database refuses to rewrite a frozen invoice', async () => {
    await expect(api.services.prisma.$executeRawUnsafe('UPDATE invoices SET total = 0')).rejects.toThrow(/append-only/);
    await expect(api.services.prisma.$executeRawUnsafe('DELETE FROM billing_periods')).rejects.toThrow(/append-only/);
  });
});

describe('a frozen invoice as a file', () => {
  const download = (client: ApiClient | null, path: string) =>
    fetch(`${api.url}/api/exports/${path}`, { headers: client?.cookie ? { cookie: client.cookie } : {} });

  it('CSV, JSON and PDF of one version carry its number, version and exact total', async () => {
    const [blue] = await c.finance.query<Summary[]>('chargeback.invoices', { month: '2026-10', tenantId: blueId });
    const csv = await download(c.finance, `invoice.csv?id=${blue?.id}`);
    expect(csv.status).toBe(200);
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows.slice(1).every((r) => r.startsWith('Blue Corp,'))).toBe(true);
    expect(rows.join('\n')).toContain(blue?.number ?? 'missing');
    expect(rows.some((r) => r.includes(`,total,`) && r.includes(`,${blue?.total},USD,`))).toBe(true);

    const json = (await (await download(c.finance, `invoice.json?id=${blue?.id}`)).json()) as {
      bills: { invoiceNumber: string; version: number; status: string; total: string }[];
    };
    expect(json.bills).toMatchObject([
      { invoiceNumber: blue?.number, version: 1, status: 'closed', total: blue?.total },
    ]);

    const pdf = await readPdf(
      new Uint8Array(await (await download(c.finance, `invoice.pdf?id=${blue?.id}`)).arrayBuffer()),
    );
    expect(pdf.texts.join(' ')).toContain('Blue Corp');
    expect(pdf.texts).toContain(`${blue?.total} USD`);
  });

  it('a tenant admin downloads its own invoice; another tenant’s is 404; a month for finance only', async () => {
    const [blue] = await c.blueAdmin.query<Summary[]>('chargeback.invoices', {});
    const [yellow] = await c.yellowAdmin.query<Summary[]>('chargeback.invoices', {});
    expect((await download(c.blueAdmin, `invoice.pdf?id=${blue?.id}`)).status).toBe(200);
    const foreign = await download(c.blueAdmin, `invoice.csv?id=${yellow?.id}`);
    expect(foreign.status).toBe(404);
    expect(await foreign.text()).not.toContain('Yellow');
    expect((await download(c.blueUser, `invoice.csv?id=${blue?.id}`)).status).toBe(403);
    expect((await download(null, `invoice.csv?id=${blue?.id}`)).status).toBe(401);
    expect((await download(c.finance, 'invoice.csv?id=nope')).status).toBe(400);
    expect((await download(c.blueAdmin, 'invoices.csv?month=2026-10')).status).toBe(403);
    expect((await download(c.finance, 'invoices.csv?month=2026-13')).status).toBe(400);
    expect((await download(c.finance, 'invoices.csv?month=2026-11')).status).toBe(404);

    const all = await download(c.finance, 'invoices.csv?month=2026-10');
    expect(all.status).toBe(200);
    const text = await all.text();
    expect(text).toContain('Blue Corp');
    expect(text).toContain('Yellow Corp');
  });
});

describe('late samples after the close', () => {
  it('leave version 1 as it was; the review shows the difference; re-rating writes version 2', async () => {
    const [v1] = await c.finance.query<Summary[]>('chargeback.invoices', { month: '2026-10', tenantId: blueId });
    const frozen = await c.finance.query<Stored>('chargeback.invoice', { id: v1?.id });

    // A host that was cut off reports an hour of October now.
    await postHour(blueVm, '2026-10-03T11:00:00Z');
    await api.services.metering.housekeeping();
    expect(await c.finance.query<Stored>('chargeback.invoice', { id: v1?.id })).toEqual(frozen);

    const review = await c.finance.query<{
      changed: { tenantId: string; frozenTotal: string; currentTotal: string; difference: string }[];
      unchanged: number;
    }>('chargeback.reviewPeriod', { month: '2026-10' });
    expect(review.changed).toHaveLength(1);
    const change = review.changed[0];
    expect(change).toMatchObject({ tenantId: blueId, frozenTotal: frozen.total });
    expect(Number(change?.difference)).toBeGreaterThan(0);

    const written = await c.finance.mutate<Summary[]>('chargeback.rerate', {
      month: '2026-10',
      reason: 'late samples from inv-01',
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      tenantId: blueId,
      version: 2,
      latestVersion: 2,
      number: frozen.number,
      total: change?.currentTotal,
      adjustment: change?.difference,
      reason: 'late samples from inv-01',
    });
    const v2 = await c.finance.query<Stored>('chargeback.invoice', { id: written[0]?.id });
    expect(v2.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(v2.changes.length).toBeGreaterThan(0);
    const deltaCents = v2.changes.reduce((s, ch) => s + Math.round(Number(ch.delta) * 100), 0);
    expect(deltaCents).toBe(Math.round(Number(v2.adjustment) * 100));
    expect(v2.changes.every((ch) => ch.vmId === blueVm)).toBe(true);

    // Version 1 is still there, unchanged; the list shows the latest version.
    expect(await c.finance.query<Stored>('chargeback.invoice', { id: v1?.id })).toMatchObject({
      total: frozen.total,
      version: 1,
      latestVersion: 2,
    });
    const list = await c.blueAdmin.query<Summary[]>('chargeback.invoices', { month: '2026-10' });
    expect(list).toMatchObject([{ version: 2, total: v2.total }]);

    // Nothing changed since: re-rating again writes nothing.
    expect(await c.finance.mutate('chargeback.rerate', { month: '2026-10', reason: 'again' })).toEqual([]);
  });

  it('samples sent twice change nothing: the review stays clean', async () => {
    await postHour(blueVm, '2026-10-03T11:00:00Z');
    await postHour(yellowVm, '2026-10-03T10:00:00Z', 1000);
    await api.services.metering.housekeeping();
    const review = await c.finance.query<{ changed: unknown[] }>('chargeback.reviewPeriod', { month: '2026-10' });
    expect(review.changed).toEqual([]);
  });

  it('an open month cannot be reviewed or re-rated; a reason is required', async () => {
    expect(await c.finance.call('chargeback.reviewPeriod', 'query', { month: '2026-11' })).toMatchObject({
      code: 'PRECONDITION_FAILED',
    });
    expect(await c.finance.call('chargeback.rerate', 'mutation', { month: '2026-10', reason: '' })).toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('two finance users closing the same month at once close it once', async () => {
    // Months far from the real one: the last test closes the real current month.
    setNow('2031-01-02T08:00:00Z');
    const results = await Promise.all([
      c.finance.call('chargeback.closePeriod', 'mutation', { month: '2030-12' }),
      c.admin.call('chargeback.closePeriod', 'mutation', { month: '2030-12' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ code: 'CONFLICT' });
    const invoices = await c.finance.query<Summary[]>('chargeback.invoices', { month: '2030-12' });
    const tenants = await c.finance.query<unknown[]>('tenants.list');
    expect(invoices).toHaveLength(tenants.length);
    // The refused close started no task: one close task for the month, succeeded.
    const tasks = await c.finance.query<{ rows: { kind: string; targetLabel: string; state: string }[] }>(
      'tasks.list',
      {
        kind: 'billing.close-month',
        search: '2030-12',
      },
    );
    expect(tasks.rows.map((t) => t.state)).toEqual(['succeeded']);
  });
});

describe('closing is a task', () => {
  // Killing the API mid-close and finishing it in a fresh process: close-after-crash.int.test.ts.
  it('shows its steps in the Tasks panel, and closing the month again is a conflict', async () => {
    setNow('2030-07-02T08:00:00Z');
    await postHour(blueVm, '2030-06-05T10:00:00Z');
    const period = await c.finance.mutate<{ status: string; taskId: string }>('chargeback.closePeriod', {
      month: '2030-06',
    });
    expect(period.status).toBe('closed');
    const task = await c.finance.query<{
      kind: string;
      state: string;
      progress: number;
      requestedBy: string;
      steps: { key: string; state: string; startedAt: string | null; finishedAt: string | null }[];
    }>('tasks.get', { id: period.taskId });
    expect(task).toMatchObject({ kind: 'billing.close-month', state: 'succeeded', progress: 100 });
    expect(task.requestedBy).toBe('finance@fabric.local');
    expect(task.steps.map((s) => s.key)).toEqual(['rollups', 'plan', 'invoices', 'close']);
    for (const step of task.steps) {
      expect(step.state).toBe('done');
      expect(Date.parse(step.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(step.startedAt ?? ''));
    }
    // A tenant admin never sees the provider's tasks: NOT_FOUND, like a missing one.
    expect(await c.blueAdmin.call('tasks.get', 'query', { id: period.taskId })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await c.finance.call('chargeback.closePeriod', 'mutation', { month: '2030-06' })).toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('with a real agent process', () => {
  let agent: AgentProcess | undefined;
  afterAll(async () => {
    await agent?.kill('SIGTERM');
  });

  it('a running VM metered by its host: this month closes, and the samples still coming go to version 2', async () => {
    time.reset();
    const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
      clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
    });
    // Only the agent's host may take the VM.
    await c.admin.mutate('hosts.setMaintenance', { id: host.hostId, enabled: true, reason: 'test: keep VMs off' });
    agent = spawnAgent({
      api: api.url,
      hostname: 'inv-agent-01',
      token,
      stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-invoice-agent-')),
      extraArgs: ['--sim-speed', '20', '--sample-seconds', '1'],
    });
    await eventually(
      async () => {
        const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', {
          search: 'inv-agent',
        });
        return hosts.rows.some((h) => h.state === 'connected');
      },
      30_000,
      'the host to register',
    );
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'inv-live-01',
      vcpus: 2,
      memory: { mode: 'static', sizeMiB: 2048 },
      disks: [{ sizeGiB: 20 }],
      startAfterCreate: true,
    });
    const vmId = created.vm.id;
    const month = new Date().toISOString().slice(0, 7);
    const metered = async () => {
      await api.services.metering.housekeeping();
      const m = await c.blueAdmin.query<{ samples: number }>('metering.measureVm', { id: vmId });
      return m.samples;
    };
    await eventually(async () => ((await metered()) >= 3 ? true : null), 40_000, 'samples from the host');

    // The API's clock moves past the month's end; the host's clock does not, so it keeps sending this month.
    const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1, 1));
    setNow(next.toISOString());
    await c.finance.mutate('chargeback.closePeriod', { month });
    const [v1] = await c.finance.query<Summary[]>('chargeback.invoices', { month, tenantId: blueId });
    const frozen = await c.finance.query<Stored>('chargeback.invoice', { id: v1?.id });
    expect(frozen.invoice.lines.some((l) => l.vmId === vmId && l.resource === 'vcpu')).toBe(true);

    const before = await metered();
    await eventually(async () => ((await metered()) >= before + 2 ? true : null), 30_000, 'late samples');
    expect(await c.finance.query<Stored>('chargeback.invoice', { id: v1?.id })).toEqual(frozen);
    const review = await c.finance.query<{ changed: { tenantId: string; difference: string }[] }>(
      'chargeback.reviewPeriod',
      { month },
    );
    expect(review.changed.map((ch) => ch.tenantId)).toEqual([blueId]);
    const [v2] = await c.finance.mutate<Summary[]>('chargeback.rerate', {
      month,
      reason: 'late samples',
      tenantId: blueId,
    });
    expect(v2).toMatchObject({ version: 2, adjustment: review.changed[0]?.difference });
  });
});
