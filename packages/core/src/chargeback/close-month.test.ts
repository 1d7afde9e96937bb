import { describe, expect, it } from 'vitest';
import { JobError } from '../jobs/job.errors';
import { JobTracker } from '../jobs/job-tracker';
import type { Actor } from '../shared/tenant-scope';
import { FakeBillingSource } from '../testing/fake-billing-source';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryAuditRepository } from '../testing/in-memory-audit-repository';
import { InMemoryInvoiceRepository } from '../testing/in-memory-invoice-repository';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import { ChargebackError } from './chargeback.errors';
import { CloseMonth } from './close-month';
import { CLOSE_MONTH_KIND, sumMoney } from './invoice';
import { InvoiceService } from './invoice-service';

const MONTH = '2026-11';
const finance: Actor = { type: 'user', id: 'u-fin', label: 'fin@provider.test' };
const tenantId = (i: number) => `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
/** Enough for the workflow to end in memory; a test that wants 'closing' passes a short wait. */
const WAIT_MS = 2_000;

/** Each reading moves a second on: step times differ, so their order can be checked. */
class SteppingClock extends FakeClock {
  override now(): Date {
    const at = super.now();
    this.advance(1_000);
    return at;
  }
}

/**
 * CloseMonth wired as composition.ts wires it, in memory: the tenants bill
 * i + 1 vCPU-hours at 0.01 EUR each (tenant i's total is known), the clock
 * stands in December so November is over.
 */
function world({ tenants = 4, tenantsPerStep = 2, waitMs = WAIT_MS } = {}) {
  const clock = new SteppingClock('2026-12-02T09:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const invoices = new InMemoryInvoiceRepository(clock, jobs);
  const audit = new InMemoryAuditRepository();
  const uow = inMemoryUnitOfWork({ invoices, audit, jobs });
  const billing = new FakeBillingSource();
  billing.tenants = Array.from({ length: tenants }, (_, i) => ({
    id: tenantId(i),
    name: `Tenant ${String(i).padStart(3, '0')}`,
    vcpus: i + 1,
  }));
  const engine = new InMemoryWorkflowEngine();
  const rollups = { calls: 0, failWith: null as Error | null };
  const catchUpRollups = async () => {
    rollups.calls++;
    if (rollups.failWith) throw rollups.failWith;
  };
  let ids = 0;
  const close = new CloseMonth({
    uow,
    billing,
    catchUpRollups,
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId: () => `20000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    waitMs,
    tenantsPerStep,
  });
  engine.register(close.workflow);
  const service = new InvoiceService({ uow, billing, catchUpRollups, clock });
  const request = (month = MONTH) => close.request(finance, month, () => service.periods());
  const job = () => {
    const [only, ...more] = jobs.jobs;
    if (!only || more.length > 0) throw new Error(`expected one job, found ${jobs.jobs.length}`);
    return only;
  };
  const periodOf = async (month = MONTH) => (await service.periods()).find((p) => p.month === month);
  /** Σ of the tenants' totals: tenant i pays (i + 1) × 0.01 EUR. */
  const expectedTotal = sumMoney(
    billing.tenants.map((t) => (t.vcpus * 0.01).toFixed(2)),
    'EUR',
  );
  return { clock, jobs, invoices, audit, billing, engine, rollups, request, job, periodOf, expectedTotal };
}

type World = ReturnType<typeof world>;

/** Each tenant's invoice versions for the month: exactly [1] per tenant when written once. */
function versionsPerTenant(w: World) {
  const versions = new Map<string, number[]>();
  for (const row of w.invoices.rows.filter((r) => r.month === MONTH)) {
    versions.set(row.tenantId, [...(versions.get(row.tenantId) ?? []), row.version]);
  }
  return versions;
}

function expectEveryTenantInvoicedOnce(w: World) {
  const versions = versionsPerTenant(w);
  expect([...versions.keys()].sort()).toEqual(w.billing.tenants.map((t) => t.id).sort());
  for (const v of versions.values()) expect(v).toEqual([1]);
}

function expectNothingWritten(w: World) {
  expect(w.jobs.jobs).toEqual([]);
  expect(w.invoices.rows).toEqual([]);
  expect(w.audit.events).toEqual([]);
  expect(w.engine.workflowIds()).toEqual([]);
  expect(w.billing.billed.size).toBe(0);
}

describe('requesting a month close', () => {
  const refusals: { name: string; month?: string; arrange?: (w: World) => void; code: string; message: string }[] = [
    {
      name: 'a month not over yet',
      month: '2026-12',
      code: 'PERIOD_NOT_OVER',
      message: '2026-12 is not over yet; it can be closed from 2027-01-01',
    },
    {
      name: 'a month already closed',
      arrange: (w) => w.invoices.closed.set(MONTH, { closedAt: new Date('2026-12-01T08:00:00Z'), closedBy: 'x' }),
      code: 'PERIOD_CLOSED',
      message: '2026-11 is already closed',
    },
    {
      name: 'no rate card to price with',
      arrange: (w) => {
        w.billing.cards = [];
      },
      code: 'NO_RATE_CARD',
      message: 'Add a rate card before closing a month: there is nothing to price with',
    },
  ];

  it.each(refusals)(
    'refuses $name ($code) and writes nothing, not even a task',
    async ({ month, arrange, code, message }) => {
      const w = world();
      arrange?.(w);
      const closedBefore = [...w.invoices.closed.keys()];

      await expect(w.request(month)).rejects.toMatchObject({ code, message });

      expectNothingWritten(w);
      expect([...w.invoices.closed.keys()]).toEqual(closedBefore);
    },
  );
});

describe('closing a month', () => {
  const sizes = [
    { name: '4 tenants, 1 per step', tenants: 4, tenantsPerStep: 1, chunks: 4 },
    { name: '5 tenants, 2 per step (a short last chunk)', tenants: 5, tenantsPerStep: 2, chunks: 3 },
    { name: '3 tenants, 25 per step', tenants: 3, tenantsPerStep: 25, chunks: 1 },
    { name: 'no tenants', tenants: 0, tenantsPerStep: 25, chunks: 0 },
  ];

  it.each(sizes)('of $name, writes each version 1 once and succeeds', async ({ tenants, tenantsPerStep, chunks }) => {
    const w = world({ tenants, tenantsPerStep });

    const period = await w.request();

    const job = w.job();
    expect(period).toMatchObject({
      month: MONTH,
      status: 'closed',
      invoiceCount: tenants,
      taskId: job.id,
      closedBy: finance.label,
    });
    expectEveryTenantInvoicedOnce(w);
    expect(w.invoices.rows.every((r) => r.reason === 'Month closed' && r.createdBy === finance.label)).toBe(true);
    expect([...w.billing.billed.values()].every((n) => n === 1)).toBe(true);
    expect(w.rollups.calls).toBe(1);

    expect(job).toMatchObject({
      kind: CLOSE_MONTH_KIND,
      targetId: MONTH,
      requestedBy: finance.label,
      state: 'succeeded',
      progress: 100,
      errorCode: null,
      errorMessage: null,
      message: `Closed ${MONTH}: ${tenants} invoices, total ${tenants ? `${w.expectedTotal} EUR` : '0'}`,
    });
    expect(job.steps.map((s) => [s.key, s.state])).toEqual([
      ['rollups', 'done'],
      ['plan', 'done'],
      ['invoices', 'done'],
      ['close', 'done'],
    ]);
    // Each step started after the one before it finished.
    const times = job.steps.flatMap((s) => [s.startedAt, s.finishedAt]);
    expect(times.every((t) => t !== null)).toBe(true);
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort()).toEqual(times);
    expect(job.steps.find((s) => s.key === 'invoices')?.detail).toBe(`${tenants} of ${tenants} tenants`);
    expect(job.steps.find((s) => s.key === 'plan')?.detail).toBe(`${tenants} tenants, ${tenants} to invoice`);

    const chunkSteps = chunks === 0 ? ['invoices'] : Array.from({ length: chunks }, (_, i) => `invoices-${i}`);
    expect(w.engine.recordedSteps(job.id)).toEqual([
      'job-started',
      'rollups',
      'plan',
      'invoices-started',
      ...chunkSteps,
      'close',
      'job-succeeded',
    ]);

    expect(w.audit.events).toHaveLength(1);
    expect(w.audit.events[0]).toMatchObject({
      actor: finance,
      action: 'chargeback.period.close',
      targetLabel: MONTH,
      result: 'success',
      details: { invoices: tenants, resumedWith: 0, taskId: job.id },
    });
  });

  it('reports progress that only grows, the invoices step counting tenants as chunks finish', async () => {
    const w = world({ tenants: 4, tenantsPerStep: 1 });
    const seen: { progress: number; detail: string | undefined }[] = [];
    const update = w.jobs.update.bind(w.jobs);
    w.jobs.update = async (id, patch, at) => {
      await update(id, patch, at);
      const job = w.jobs.jobs.find((j) => j.id === id);
      if (job && patch.progress !== undefined) {
        seen.push({ progress: job.progress, detail: job.steps.find((s) => s.key === 'invoices')?.detail });
      }
    };

    await w.request();

    expect(seen).toEqual([
      { progress: 5, detail: '' },
      { progress: 10, detail: '' },
      { progress: 31, detail: '1 of 4 tenants' },
      { progress: 52, detail: '2 of 4 tenants' },
      { progress: 73, detail: '3 of 4 tenants' },
      { progress: 95, detail: '4 of 4 tenants' },
      { progress: 99, detail: '4 of 4 tenants' },
      { progress: 100, detail: '4 of 4 tenants' },
    ]);
  });

  it('refuses a second close of the month while the first is running (PERIOD_CLOSING), then finishes the first', async () => {
    const w = world({ tenants: 3, waitMs: 20 });
    const gate = w.engine.holdBefore('rollups');

    const first = await w.request();

    // The first request answered before the close ended: the month reads closing, with its task.
    const job = w.job();
    expect(first).toMatchObject({ month: MONTH, status: 'closing', taskId: job.id });
    expect(job.state).toBe('running');
    await expect(w.request()).rejects.toMatchObject({
      code: 'PERIOD_CLOSING',
      message: '2026-11 is being closed right now; its invoices appear when it is done',
    });
    expect(w.jobs.jobs).toHaveLength(1);
    expect(w.engine.workflowIds()).toEqual([job.id]);

    gate.release();

    expect(await w.engine.wait(job.id, WAIT_MS)).toBe('succeeded');
    expect(await w.periodOf()).toMatchObject({ status: 'closed', invoiceCount: 3, taskId: job.id });
    expectEveryTenantInvoicedOnce(w);
    expect(w.audit.events).toHaveLength(1);
    await expect(w.request()).rejects.toMatchObject({ code: 'PERIOD_CLOSED' });
  });
});

describe('a close interrupted by a crash', () => {
  // 8 tenants, 2 per step: chunks invoices-0 … invoices-3.
  const crashes = [
    {
      name: 'before chunk 3 (chunks 1–2 recorded)',
      crash: (e: InMemoryWorkflowEngine) => e.crashBefore('invoices-2'),
      writtenAtCrash: 4,
      billedTwice: [] as number[],
    },
    {
      name: 'inside chunk 2, after its invoices committed but before the step was recorded',
      crash: (e: InMemoryWorkflowEngine) => e.crashAfter('invoices-1'),
      writtenAtCrash: 4,
      // The unrecorded chunk runs again; its tenants keep the invoices written the first time.
      billedTwice: [2, 3],
    },
  ];

  it.each(crashes)(
    '$name: recovery writes each invoice once and succeeds',
    async ({ crash, writtenAtCrash, billedTwice }) => {
      const w = world({ tenants: 8, tenantsPerStep: 2, waitMs: 20 });
      crash(w.engine);

      const answer = await w.request();

      const job = w.job();
      expect(answer).toMatchObject({ status: 'closing', taskId: job.id });
      expect(w.engine.status(job.id)).toBe('pending');
      expect(job.state).toBe('running');
      expect(w.invoices.rows).toHaveLength(writtenAtCrash);
      expect(w.invoices.closed.size).toBe(0);
      // While it waits for recovery the month is still closing: no second close.
      await expect(w.request()).rejects.toMatchObject({ code: 'PERIOD_CLOSING' });
      const writtenBefore = w.invoices.rows.map((r) => ({ ...r }));

      expect(await w.engine.recoverPending()).toEqual([job.id]);

      expect(w.engine.status(job.id)).toBe('succeeded');
      expect(w.engine.attempts(job.id)).toBe(2);
      expectEveryTenantInvoicedOnce(w);
      // The invoices written before the crash are the ones kept.
      expect(w.invoices.rows.slice(0, writtenAtCrash)).toEqual(writtenBefore);
      expect(Object.fromEntries(w.billing.tenants.map((t, i) => [i, w.billing.billed.get(t.id)]))).toEqual(
        Object.fromEntries(w.billing.tenants.map((_, i) => [i, billedTwice.includes(i) ? 2 : 1])),
      );
      expect(w.rollups.calls).toBe(1);
      expect(w.job()).toMatchObject({ state: 'succeeded', progress: 100 });
      expect(w.job().steps.every((s) => s.state === 'done')).toBe(true);
      expect(w.job().steps.find((s) => s.key === 'invoices')?.detail).toBe('8 of 8 tenants');
      expect(w.audit.events.map((e) => e.action)).toEqual(['chargeback.period.close']);
      expect(await w.periodOf()).toMatchObject({ status: 'closed', invoiceCount: 8, total: w.expectedTotal });
    },
  );

  const afterClose = [
    {
      name: "after the close step was recorded, before 'job-succeeded'",
      crash: 'before' as const,
      step: 'job-succeeded',
    },
    { name: 'after the close committed, before the step was recorded', crash: 'after' as const, step: 'close' },
  ];

  it.each(afterClose)('$name: recovery does not fail with PERIOD_CLOSED and audits once', async ({ crash, step }) => {
    const w = world({ tenants: 3, waitMs: 20 });
    if (crash === 'before') w.engine.crashBefore(step);
    else w.engine.crashAfter(step);

    await w.request();

    const job = w.job();
    expect(w.engine.status(job.id)).toBe('pending');
    // The month is closed already (its transaction committed); the task has not caught up yet.
    expect(w.invoices.closed.has(MONTH)).toBe(true);
    expect(job.state).toBe('running');

    await w.engine.resume(job.id);

    expect(w.engine.status(job.id)).toBe('succeeded');
    expect(w.job()).toMatchObject({
      state: 'succeeded',
      progress: 100,
      errorCode: null,
      message: `Closed ${MONTH}: 3 invoices, total ${w.expectedTotal} EUR`,
    });
    expect(w.audit.events.map((e) => e.action)).toEqual(['chargeback.period.close']);
    expectEveryTenantInvoicedOnce(w);
    expect(await w.periodOf()).toMatchObject({ status: 'closed', invoiceCount: 3, taskId: job.id });
  });
});

describe('a close that fails', () => {
  const failures = [
    {
      name: 'a domain error while rating the second chunk',
      arrange: (w: World) => {
        w.billing.failWith = (id) =>
          id === tenantId(2)
            ? new ChargebackError('USAGE_SPAN', 'Usage for VM vm-2 is not inside one priced part')
            : null;
      },
      failedStep: 'invoices',
      code: 'USAGE_SPAN',
      message: 'Usage for VM vm-2 is not inside one priced part',
      writtenBeforeFailure: 2,
    },
    {
      name: 'an internal error while rating the second chunk',
      arrange: (w: World) => {
        w.billing.failWith = (id) =>
          id === tenantId(2) ? new Error('connect ECONNREFUSED 10.0.0.5:5432 (user fabric, password hunter2)') : null;
      },
      failedStep: 'invoices',
      code: 'INTERNAL',
      message: 'an internal error (the API log has the details)',
      writtenBeforeFailure: 2,
    },
    {
      name: 'an internal error while catching up the rollups',
      arrange: (w: World) => {
        w.rollups.failWith = new Error('relation "usage_hourly_2026_11" does not exist');
      },
      failedStep: 'rollups',
      code: 'INTERNAL',
      message: 'an internal error (the API log has the details)',
      writtenBeforeFailure: 0,
    },
  ];

  it.each(failures)(
    'on $name, ends the task failed with the code and message, and request throws TASK_FAILED',
    async ({ arrange, failedStep, code, message, writtenBeforeFailure }) => {
      const w = world({ tenants: 4, tenantsPerStep: 2 });
      arrange(w);

      const refusal = w.request();

      await expect(refusal).rejects.toBeInstanceOf(JobError);
      await expect(refusal).rejects.toMatchObject({
        code: 'TASK_FAILED',
        message: `Closing ${MONTH} failed: ${message}`,
      });
      const job = w.job();
      expect(job).toMatchObject({
        state: 'failed',
        errorCode: code,
        errorMessage: message,
        message: `Failed: ${message}`,
      });
      expect(job.finishedAt).not.toBeNull();
      const step = job.steps.find((s) => s.key === failedStep);
      expect(step).toMatchObject({ state: 'failed', detail: message });
      expect(step?.finishedAt).not.toBeNull();
      expect(job.steps.find((s) => s.key === 'close')?.state).toBe('pending');
      // Nothing of the internals reaches the task users read.
      expect(JSON.stringify(job)).not.toMatch(/ECONNREFUSED|hunter2|usage_hourly/);
      expect(w.engine.status(job.id)).toBe('failed');
      expect(w.invoices.rows).toHaveLength(writtenBeforeFailure);
      expect(w.invoices.closed.size).toBe(0);
      expect(w.audit.events).toEqual([]);
      expect(await w.periodOf()).toMatchObject({ status: 'open', closable: true });
    },
  );

  it('can be requested again once failed: the retry writes the tenants still missing, each once', async () => {
    const w = world({ tenants: 4, tenantsPerStep: 2 });
    w.billing.failWith = (id) => (id === tenantId(2) ? new ChargebackError('USAGE_SPAN', 'not priced') : null);
    await expect(w.request()).rejects.toMatchObject({ code: 'TASK_FAILED' });
    w.billing.failWith = null;

    const period = await w.request();

    const [failed, retried] = w.jobs.jobs;
    expect(failed?.state).toBe('failed');
    expect(retried).toMatchObject({ state: 'succeeded', progress: 100 });
    expect(period).toMatchObject({ status: 'closed', invoiceCount: 4, taskId: retried?.id });
    expect(retried?.steps.find((s) => s.key === 'plan')?.detail).toBe('4 tenants, 2 to invoice');
    expect(retried?.steps.find((s) => s.key === 'invoices')?.detail).toBe('4 of 4 tenants');
    expectEveryTenantInvoicedOnce(w);
    expect(w.audit.events).toMatchObject([{ action: 'chargeback.period.close', details: { resumedWith: 2 } }]);
  });
});
