import type { AuditRepository } from '../audit/audit-repository';
import { JobError } from '../jobs/job.errors';
import type { JobRepository } from '../jobs/job-repository';
import type { JobTracker } from '../jobs/job-tracker';
import type { Clock } from '../shared/clock';
import type { Actor } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { WorkflowDefinition, WorkflowEngine } from '../workflows/workflow';
import { ChargebackError } from './chargeback.errors';
import { CLOSE_MONTH_KIND, monthIsOver, monthPeriod, sumMoney } from './invoice';

import { InvoiceError } from './invoice.errors';
import type { Period } from './invoice.schema';
import type { InvoiceRepository } from './invoice-repository';
import { type BillingSource, newVersion } from './invoice-service';

/** Tenants' invoices rated and written per workflow step: short transactions, steady progress. */
export const DEFAULT_TENANTS_PER_STEP = 25;

export interface CloseMonthInput {
  jobId: string;
  month: string;
  actor: Actor;
}

export interface CloseMonthDeps {
  uow: UnitOfWork<{ invoices: InvoiceRepository; audit: AuditRepository; jobs: JobRepository }>;
  billing: BillingSource;
  /** Rolls up every pending hour, so late samples already received are counted. */
  catchUpRollups: () => Promise<unknown>;
  workflows: WorkflowEngine;
  tracker: JobTracker;
  clock: Clock;
  newId: () => string;
  /** How long `request` waits for the close to end before answering 'closing' (the task goes on). */
  waitMs: number;
  tenantsPerStep?: number;
}

/**
 * Closing a month into frozen invoices, as a durable workflow (a task in the
 * Tasks panel): catch up the rollups, then rate and write the invoices a few
 * tenants per step, then record the month closed. A process that dies midway
 * is resumed by a live one from its last finished step; each tenant's
 * version 1 is written once (unique key, duplicates skipped); the month reads
 * 'closing' while the task is queued or running, and closed only once every
 * invoice is written. Two closes of one month at once: the second is refused
 * (one active task per month).
 */
export class CloseMonth {
  readonly workflow: WorkflowDefinition<CloseMonthInput>;

  constructor(private readonly deps: CloseMonthDeps) {
    this.workflow = { name: CLOSE_MONTH_KIND, run: (ctx, input) => this.run(ctx, input) };
  }

  /**
   * Validates, records the task, starts the workflow and waits up to `waitMs`
   * for it: a month of ordinary size comes back closed, a large one comes
   * back 'closing' with its task id.
   */
  async request(actor: Actor, month: string, periods: () => Promise<Period[]>): Promise<Period> {
    const { invoices, jobs } = this.deps.uow.repos;
    const now = this.deps.clock.now();
    if (!monthIsOver(month, now)) {
      throw new InvoiceError(
        'PERIOD_NOT_OVER',
        `${month} is not over yet; it can be closed from ${monthPeriod(month).to.slice(0, 10)}`,
      );
    }
    if (await invoices.isClosed(month)) throw new InvoiceError('PERIOD_CLOSED', `${month} is already closed`);
    // Nothing to price with: refuse before a task exists.
    const cards = await this.deps.billing.rateCards();
    const first = cards.map((c) => c.effectiveFrom).sort()[0];
    if (first === undefined) {
      throw new ChargebackError(
        'NO_RATE_CARD',
        'Add a rate card before closing a month: there is nothing to price with',
      );
    }
    // A month that ends before the first card has nothing priced: closing it would freeze empty invoices for good.
    if (monthPeriod(month).to.slice(0, 10) <= first) {
      throw new InvoiceError(
        'PERIOD_NOT_PRICED',
        `${month} ends before the first rate card (effective ${first}): nothing in it is priced, so there is nothing to close`,
      );
    }
    const jobId = this.deps.newId();
    try {
      await jobs.create(
        {
          id: jobId,
          kind: CLOSE_MONTH_KIND,
          targetType: 'billing-period',
          targetId: month,
          targetLabel: month,
          tenantId: null,
          requestedBy: actor.label,
          requestedById: actor.id,
          steps: [
            { key: 'rollups', label: 'Roll up pending usage' },
            { key: 'plan', label: 'List the tenants to invoice' },
            { key: 'invoices', label: 'Rate and freeze invoices' },
            { key: 'close', label: 'Record the month closed' },
          ],
          message: `Closing ${month}`,
        },
        now,
      );
    } catch (error) {
      if (error instanceof JobError && error.code === 'TASK_ALREADY_ACTIVE') {
        throw new InvoiceError(
          'PERIOD_CLOSING',
          `${month} is being closed right now; its invoices appear when it is done`,
        );
      }
      throw error;
    }
    await this.deps.workflows.start(this.workflow, { jobId, month, actor }, { workflowId: jobId });
    await this.deps.workflows.wait(jobId, this.deps.waitMs);
    const task = await jobs.find({ kind: 'provider' }, jobId);
    if (task?.state === 'failed') {
      throw new JobError('TASK_FAILED', `Closing ${month} failed: ${task.errorMessage ?? 'unknown error'}`);
    }
    const period = (await periods()).find((p) => p.month === month);
    if (!period) throw new InvoiceError('PERIOD_CLOSED', `${month} is closed`);
    return { ...period, taskId: jobId };
  }

  private async run(ctx: Parameters<WorkflowDefinition<CloseMonthInput>['run']>[0], input: CloseMonthInput) {
    const { tracker } = this.deps;
    const { jobId, month, actor } = input;
    const perStep = this.deps.tenantsPerStep ?? DEFAULT_TENANTS_PER_STEP;
    let current: string | null = 'rollups';
    try {
      await tracker.started(ctx, jobId, `Closing ${month}`);
      await tracker.step(ctx, jobId, 'rollups', async () => {
        await this.deps.catchUpRollups();
        return { value: null, progress: 5 };
      });
      current = 'plan';
      // Tenants an earlier attempt already invoiced keep theirs (version 1 is written once).
      const plan = await tracker.step(ctx, jobId, 'plan', async () => {
        const [all, written] = await Promise.all([
          this.deps.billing.tenantIds(monthPeriod(month)),
          this.deps.uow.repos.invoices.tenantsInvoiced(month),
        ]);
        const todo = all.filter((id) => !written.has(id));
        return {
          value: { todo, total: all.length, alreadyWritten: all.length - todo.length },
          detail: `${all.length} tenants, ${todo.length} to invoice`,
          progress: 10,
        };
      });
      current = 'invoices';
      await tracker.startStep(ctx, jobId, 'invoices');
      const chunks = Math.ceil(plan.todo.length / perStep);
      for (let i = 0; i < chunks; i++) {
        const chunk = plan.todo.slice(i * perStep, (i + 1) * perStep);
        const done = plan.alreadyWritten + Math.min(plan.todo.length, (i + 1) * perStep);
        await tracker.step(
          ctx,
          jobId,
          'invoices',
          async () => {
            const bills = await this.deps.billing.billTenants(monthPeriod(month), chunk);
            const rows = bills.map((bill) =>
              newVersion(bill, month, 1, null, bill.invoice.total, 'Month closed', actor.label),
            );
            await this.deps.uow.run((repos) => repos.invoices.addMissingInvoices(rows));
            return {
              value: null,
              detail: `${done} of ${plan.total} tenants`,
              progress: 10 + Math.floor((85 * (i + 1)) / chunks),
              more: i < chunks - 1,
            };
          },
          `invoices-${i}`,
        );
      }
      if (chunks === 0) {
        await tracker.step(ctx, jobId, 'invoices', async () => ({
          value: null,
          detail: `${plan.total} of ${plan.total} tenants`,
          progress: 95,
        }));
      }
      current = 'close';
      const summary = await tracker.step(ctx, jobId, 'close', () => this.finish(jobId, month, actor, plan));
      await tracker.succeeded(ctx, jobId, `Closed ${month}: ${summary.invoices} invoices, total ${summary.total}`, {
        ...summary,
      });
    } catch (error) {
      await tracker.failed(ctx, jobId, current, error);
      throw error;
    }
  }

  /** The month closed, its audit event and the task's result, in one transaction. */
  private async finish(jobId: string, month: string, actor: Actor, plan: { total: number; alreadyWritten: number }) {
    const at = this.deps.clock.now();
    const summary = await this.deps.uow.run(async (repos) => {
      const latest = await repos.invoices.latest({ month });
      const currency = latest[0]?.currency ?? '';
      const total = latest[0]
        ? sumMoney(
            latest.map((i) => i.total),
            currency,
          )
        : '0';
      const result = { month, invoices: latest.length, total: currency ? `${total} ${currency}` : total };
      // This step runs again if the process died after its transaction committed: then it is done.
      if (await repos.invoices.isClosed(month)) return result;
      await repos.invoices.closeMonth(month, actor.label, at);
      await repos.audit.append({
        actor,
        action: 'chargeback.period.close',
        targetType: 'billing-period',
        targetLabel: month,
        result: 'success',
        details: { invoices: latest.length, resumedWith: plan.alreadyWritten, total, taskId: jobId },
      });
      return result;
    });
    return { value: summary, detail: `${summary.invoices} invoices`, progress: 99 };
  }
}
