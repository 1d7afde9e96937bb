import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/agent-process';
import { ApiClient } from '../testing/api-client';
import { type ApiProcess, spawnApi, testAuthSecret } from '../testing/api-process';
import { createTestDatabase, startTestApi, withSql } from '../testing/harness';
import {
  addCardFrom,
  createStoppedVm,
  demoTenantIds,
  hourOfSamples,
  movableClock,
  postSamples,
  registerProductionHost,
} from '../testing/metering-fixtures';
import { demoUser, seedAndSignIn } from '../testing/seed';

// Closing a month is a durable workflow. Here the API process that runs it is
// killed (SIGKILL) in the middle, with some invoices written; a fresh API
// process (another executor) takes the workflow over once the dead one's
// lease lapses and finishes it: every tenant's version 1 written exactly once,
// the ones written before the crash untouched, the month closed once, the
// task succeeded with its steps.

const MONTH = '2026-11';
const authSecret = testAuthSecret();
const processes: ApiProcess[] = [];
let databaseUrl: string;
let tenantIds: string[];
let blueId: string;

interface Task {
  id: string;
  kind: string;
  state: string;
  progress: number;
  targetLabel: string;
  requestedBy: string;
  steps: { key: string; state: string; detail: string; startedAt: string | null; finishedAt: string | null }[];
  errorCode: string | null;
}

beforeAll(async () => {
  // Set up in-process (its clock moved to November for the card and the usage), then stop it.
  databaseUrl = await createTestDatabase();
  const time = movableClock();
  const api = await startTestApi({
    databaseUrl,
    monitor: false,
    clock: time.clock,
    env: { BETTER_AUTH_SECRET: authSecret },
  });
  try {
    const c = await seedAndSignIn(api);
    ({ blueId } = await demoTenantIds(c));
    await addCardFrom(c.finance, time, `${MONTH}-01`);
    time.set(`${MONTH}-10T12:00:00Z`);
    // Created during the month closed (a tenant gets no invoice for a month that ended before it existed).
    for (const name of ['Crash Alpha', 'Crash Bravo', 'Crash Charlie', 'Crash Delta']) {
      await c.admin.mutate('tenants.create', { name });
    }
    const host = await registerProductionHost(api, c.admin, 'crash-01');
    const vm = await createStoppedVm(c.blueAdmin, 'crash-blue-01');
    await postSamples(api, host, hourOfSamples(vm, `${MONTH}-10T10:00:00Z`, { cpuAvgMhz: 2000 }));
    await api.services.metering.housekeeping();
    time.reset();
    tenantIds = (await c.admin.query<{ id: string; name: string }[]>('tenants.list')).map((t) => t.id);
  } finally {
    await api.close();
  }
});

afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
});

async function api(executorId: string, env: Record<string, string> = {}) {
  const started = await spawnApi({
    databaseUrl,
    authSecret,
    executorId,
    env: { FABRIC_EXECUTOR_LEASE_MS: '1500', FABRIC_CLOSE_TENANTS_PER_STEP: '1', ...env },
  });
  processes.push(started);
  return started;
}

const invoicesOf = (month: string) =>
  withSql(
    databaseUrl,
    async (sql) =>
      (
        await sql.query<{ id: string; tenant_id: string; version: number }>(
          `SELECT id, tenant_id, version FROM invoices WHERE month = $1::date ORDER BY tenant_id`,
          [`${month}-01`],
        )
      ).rows,
  );

describe('a month close survives the death of the API process running it', () => {
  it('is finished by a fresh process, each invoice written once, the ones before the crash kept', async () => {
    expect(tenantIds.length).toBe(6);
    const first = await api('close-crash-a', { FABRIC_CLOSE_WAIT_MS: '0' });
    const finance = await ApiClient.signIn(first.url, demoUser('finance').email, demoUser('finance').password);

    // Hold one tenant's invoice in an open transaction: the close's step for that tenant waits
    // on its unique key, with the tenants before it written. (Tenants are invoiced by name;
    // the fourth one's step blocks, so three are written when the process dies.)
    const order = await withSql(databaseUrl, async (sql) =>
      (await sql.query<{ id: string }>('SELECT id::text FROM tenants ORDER BY name')).rows.map((r) => r.id),
    );
    const held = order[3];
    if (!held) throw new Error('expected six tenants');
    const blocker = await withSqlOpen(databaseUrl);
    await blocker.query('BEGIN');
    await blocker.query(
      `INSERT INTO invoices (id, number, tenant_id, tenant_name, month, version, currency, subtotal, discount, total,
         adjustment, line_count, document, reason, created_by)
       VALUES (gen_random_uuid(), 'HELD', $1, 'held', $2::date, 1, 'USD', 0, 0, 0, 0, 0, '{}', 'held', 'test')`,
      [held, `${MONTH}-01`],
    );

    const started = await finance.mutate<{ status: string; taskId: string | null }>('chargeback.closePeriod', {
      month: MONTH,
    });
    expect(started.status).toBe('closing');
    const taskId = started.taskId;
    if (!taskId) throw new Error('closing answers its task id');
    await eventually(async () => ((await invoicesOf(MONTH)).length === 3 ? true : null), 30_000, 'three invoices');
    const before = await invoicesOf(MONTH);
    const running = await finance.query<Task>('tasks.get', { id: taskId });
    expect(running).toMatchObject({ kind: 'billing.close-month', state: 'running', targetLabel: MONTH });
    expect(running.steps.find((s) => s.key === 'invoices')).toMatchObject({
      state: 'running',
      detail: '3 of 6 tenants',
    });
    const periods =
      await finance.query<{ month: string; status: string; taskId: string | null }[]>('chargeback.periods');
    expect(periods.find((p) => p.month === MONTH)).toMatchObject({ status: 'closing', taskId });

    await first.kill('SIGKILL');
    await blocker.query('ROLLBACK');
    await blocker.end();

    // Another process, another executor id: it finds the dead one's lease lapsed and resumes the close.
    const second = await api('close-crash-b');
    const finance2 = await ApiClient.signIn(second.url, demoUser('finance').email, demoUser('finance').password);
    const done = await eventually(
      async () => {
        const task = await finance2.query<Task>('tasks.get', { id: taskId });
        return task.state === 'succeeded' || task.state === 'failed' ? task : null;
      },
      60_000,
      'the close to be finished by the second process',
    );
    expect(done.state).toBe('succeeded');
    expect(done.progress).toBe(100);
    expect(done.steps.map((s) => [s.key, s.state])).toEqual([
      ['rollups', 'done'],
      ['plan', 'done'],
      ['invoices', 'done'],
      ['close', 'done'],
    ]);
    expect(done.steps.find((s) => s.key === 'invoices')?.detail).toBe('6 of 6 tenants');

    const after = await invoicesOf(MONTH);
    expect(after).toHaveLength(6);
    expect(new Set(after.map((i) => i.tenant_id))).toEqual(new Set(tenantIds));
    expect(after.every((i) => i.version === 1)).toBe(true);
    // The three written before the crash are the same rows.
    for (const invoice of before) expect(after.find((i) => i.id === invoice.id)).toBeDefined();

    const periods2 =
      await finance2.query<{ month: string; status: string; invoiceCount: number; taskId: string }[]>(
        'chargeback.periods',
      );
    expect(periods2.find((p) => p.month === MONTH)).toMatchObject({ status: 'closed', invoiceCount: 6, taskId });
    const blue = await finance2.query<{ tenantId: string; total: string }[]>('chargeback.invoices', {
      month: MONTH,
      tenantId: blueId,
    });
    expect(Number(blue[0]?.total)).toBeGreaterThan(0);
    const audits = await withSql(databaseUrl, async (sql) =>
      Number(
        (
          await sql.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM audit_events WHERE action = 'chargeback.period.close' AND target_label = $1`,
            [MONTH],
          )
        ).rows[0]?.n,
      ),
    );
    expect(audits).toBe(1);
    // The engine's record agrees: the workflow ran to the end once, under the second executor.
    const workflow = await withSql(
      databaseUrl,
      async (sql) =>
        (
          await sql.query<{ status: string; executor_id: string }>(
            'SELECT status, executor_id FROM dbos.workflow_status WHERE workflow_uuid = $1',
            [taskId],
          )
        ).rows,
    );
    expect(workflow).toEqual([{ status: 'SUCCESS', executor_id: 'close-crash-b' }]);
  });
});

async function withSqlOpen(url: string) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
