import type { AuditRepository } from '../audit/audit-repository';
import type { Clock } from '../shared/clock';
import { type Actor, SYSTEM_ACTOR, type TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import { ChargebackError } from './chargeback.errors';
import {
  addMonths,
  diffInvoices,
  invoiceNumber,
  monthIsOver,
  monthOf,
  monthPeriod,
  sameInvoice,
  subtractMoney,
  sumMoney,
} from './invoice';
import { InvoiceError } from './invoice.errors';
import type { InvoiceSummary, Period, PeriodReview, StoredInvoice } from './invoice.schema';
import type { InvoiceRepository, NewInvoice } from './invoice-repository';
import type { Invoice } from './rate';
import type { RateCard } from './rate-card';
import type { RatingPeriod } from './usage.schema';

/** A stored version as the service hands it out: the rated invoice with its exact types. */
export type FrozenInvoice = Omit<StoredInvoice, 'invoice'> & { invoice: Invoice };

export interface TenantBill {
  tenantId: string;
  tenantName: string;
  invoice: Invoice;
}

/** Where current ratings come from (the chargeback service over the rollups). */
export interface BillingSource {
  rateCards(): Promise<RateCard[]>;
  /** Every tenant's bill for the period, tenants without usage included. */
  billAll(period: RatingPeriod): Promise<TenantBill[]>;
}

/** How long a closing process holds its month before another may take over (extended as it goes). */
const CLOSE_LEASE_MS = 5 * 60_000;
/** Tenants' invoices written per transaction while closing: short transactions, steady progress. */
const TENANTS_PER_TRANSACTION = 25;

export interface InvoiceServiceDeps {
  uow: UnitOfWork<{ invoices: InvoiceRepository; audit: AuditRepository }>;
  billing: BillingSource;
  /** Rolls up every pending hour, so late samples already received are counted. */
  catchUpRollups: () => Promise<unknown>;
  clock: Clock;
}

/**
 * Closing months into frozen invoices. A closed month's invoices never
 * change (the database refuses updates); samples that arrive late change
 * the rollups, a review shows whose bill would differ, and re-rating writes
 * version n+1 with the difference, line by line.
 */
export class InvoiceService {
  constructor(private readonly deps: InvoiceServiceDeps) {}

  /** Months from the first rate card (or the first closed month) to this one, newest first. */
  async periods(): Promise<Period[]> {
    const now = this.deps.clock.now();
    const [closed, cards, closing] = await Promise.all([
      this.deps.uow.repos.invoices.closedMonths(),
      this.deps.billing.rateCards(),
      this.deps.uow.repos.invoices.unfinishedCloseJobs(),
    ]);
    const closingMonths = new Set(closing.map((job) => job.month));
    const current = monthOf(now);
    const starts = [...closed.map((c) => c.month), ...cards.map((c) => c.effectiveFrom.slice(0, 7)), current].sort();
    const first = starts[0] ?? current;
    const byMonth = new Map(closed.map((c) => [c.month, c]));
    const periods: Period[] = [];
    for (let month = current; month >= first; month = addMonths(month, -1)) {
      const done = byMonth.get(month);
      const status = done ? 'closed' : closingMonths.has(month) ? 'closing' : 'open';
      periods.push({
        month,
        status,
        closable: status === 'open' && monthIsOver(month, now),
        closedAt: done?.closedAt.toISOString() ?? null,
        closedBy: done?.closedBy ?? null,
        invoiceCount: done?.invoiceCount ?? 0,
        total: done?.total ?? null,
        currency: done?.currency ?? null,
      });
      if (periods.length >= 120) break;
    }
    return periods;
  }

  /**
   * Freezes version 1 of every tenant's invoice for a month that is over. A
   * durable job: invoices are written a few tenants per transaction, and if
   * this process dies midway another one (or this one restarted) finishes it
   * (`resumeAbandonedCloses`). No tenant's version 1 is written twice, and
   * the month reads as closed only once every invoice is written.
   */
  async close(actor: Actor, month: string): Promise<Period> {
    const { invoices } = this.deps.uow.repos;
    const now = this.deps.clock.now();
    if (!monthIsOver(month, now)) {
      throw new InvoiceError(
        'PERIOD_NOT_OVER',
        `${month} is not over yet; it can be closed from ${monthPeriod(month).to.slice(0, 10)}`,
      );
    }
    if (await invoices.isClosed(month)) throw new InvoiceError('PERIOD_CLOSED', `${month} is already closed`);
    // Nothing to price with: refuse before a job exists.
    if ((await this.deps.billing.rateCards()).length === 0) {
      throw new ChargebackError(
        'NO_RATE_CARD',
        'Add a rate card before closing a month: there is nothing to price with',
      );
    }
    const lease = new Date(now.getTime() + CLOSE_LEASE_MS);
    if (!(await invoices.startCloseJob(month, actor.label, now, lease))) {
      const job = await invoices.findCloseJob(month);
      if (job?.finishedAt) throw new InvoiceError('PERIOD_CLOSED', `${month} is already closed`);
      // A close that failed or whose process died: take it over once its lease has lapsed.
      if (!(await invoices.claimCloseJob(month, now, lease))) {
        throw new InvoiceError(
          'PERIOD_CLOSING',
          `${month} is being closed by ${job?.requestedBy ?? 'someone'} right now; its invoices appear when it is done`,
        );
      }
    }
    await this.runClose(month, actor);
    const period = (await this.periods()).find((p) => p.month === month);
    if (!period) throw new InvoiceError('PERIOD_CLOSED', `${month} is closed`);
    return period;
  }

  /**
   * Finishes closes that an API process started and did not finish (its
   * lease lapsed): called by the metering housekeeping in every process;
   * the lease's compare-and-set lets one of them take each month.
   */
  async resumeAbandonedCloses(): Promise<string[]> {
    const { invoices } = this.deps.uow.repos;
    const now = this.deps.clock.now();
    const resumed: string[] = [];
    for (const month of await invoices.abandonedCloseJobs(now)) {
      if (!(await invoices.claimCloseJob(month, now, new Date(now.getTime() + CLOSE_LEASE_MS)))) continue;
      const job = await invoices.findCloseJob(month);
      await this.runClose(month, { ...SYSTEM_ACTOR, label: job?.requestedBy ?? SYSTEM_ACTOR.label });
      resumed.push(month);
    }
    return resumed;
  }

  private async runClose(month: string, actor: Actor): Promise<void> {
    const { invoices } = this.deps.uow.repos;
    try {
      await this.deps.catchUpRollups();
      const bills = await this.deps.billing.billAll(monthPeriod(month));
      // Version 1 is the bill as closed: no adjustment. Tenants written by an earlier attempt keep theirs.
      const written = await invoices.tenantsInvoiced(month);
      const rows = bills
        .filter((bill) => !written.has(bill.tenantId))
        .map((bill) => newVersion(bill, month, 1, null, bill.invoice.total, 'Month closed', actor.label));
      for (let i = 0; i < rows.length; i += TENANTS_PER_TRANSACTION) {
        const chunk = rows.slice(i, i + TENANTS_PER_TRANSACTION);
        await this.deps.uow.run((repos) => repos.invoices.addMissingInvoices(chunk));
        await invoices.extendCloseJob(month, new Date(this.deps.clock.now().getTime() + CLOSE_LEASE_MS));
      }
      const at = this.deps.clock.now();
      await this.deps.uow.run(async (repos) => {
        await repos.invoices.closeMonth(month, actor.label, at);
        await repos.invoices.finishCloseJob(month, at);
        await repos.audit.append({
          actor,
          action: 'chargeback.period.close',
          targetType: 'billing-period',
          targetLabel: month,
          result: 'success',
          details: {
            invoices: bills.length,
            resumedWith: written.size,
            total: bills[0]
              ? sumMoney(
                  bills.map((b) => b.invoice.total),
                  bills[0].invoice.currency,
                )
              : '0',
          },
        });
      });
    } catch (error) {
      // Let a retry (the user's, or the next housekeeping pass) take the job at once.
      await invoices.extendCloseJob(month, this.deps.clock.now()).catch(() => undefined);
      throw error;
    }
  }

  /** Latest versions; a tenant sees only its own, whatever it names. */
  list(scope: TenantScope, filter: { month?: string; tenantId?: string }): Promise<InvoiceSummary[]> {
    const tenantId = scope.kind === 'tenant' ? scope.tenantId : filter.tenantId;
    return this.deps.uow.repos.invoices.latest({ month: filter.month, tenantId });
  }

  /** One version with its lines, its changes and the list of versions. Another tenant's is NOT_FOUND. */
  async get(scope: TenantScope, id: string): Promise<FrozenInvoice> {
    const found = await this.deps.uow.repos.invoices.find(id);
    if (!found || (scope.kind === 'tenant' && found.summary.tenantId !== scope.tenantId)) {
      throw new InvoiceError('INVOICE_NOT_FOUND', 'Invoice not found');
    }
    const versions = await this.deps.uow.repos.invoices.versions(found.summary.tenantId, found.summary.month);
    return { ...found.summary, invoice: found.document.invoice, changes: found.document.changes, versions };
  }

  /** Whose bill for a closed month differs today from its latest frozen version (late samples, plan changes). */
  async review(month: string): Promise<PeriodReview> {
    const { changed, bills } = await this.compare(month);
    const currency = bills[0]?.invoice.currency ?? changed[0]?.current.currency ?? '';
    return {
      month,
      currency,
      changed: changed.map(({ bill, latest, current }) => ({
        tenantId: bill.tenantId,
        tenantName: bill.tenantName,
        invoiceId: latest?.summary.id ?? null,
        version: latest?.summary.version ?? null,
        frozenTotal: latest?.summary.total ?? sumMoney([], current.currency),
        currentTotal: current.total,
        difference: subtractMoney(current.total, latest?.summary.total ?? '0', current.currency),
      })),
      unchanged: bills.length - changed.length,
    };
  }

  /**
   * Writes version n+1 for each tenant (or the one named) whose bill
   * changed; the versions before stay as they were. Nothing changed → nothing written.
   */
  async rerate(actor: Actor, month: string, reason: string, tenantId?: string): Promise<InvoiceSummary[]> {
    const { changed } = await this.compare(month, tenantId);
    const rows = changed.map(({ bill, latest }) =>
      // A first invoice written after the close (a tenant with only late usage) adjusts by its whole total.
      newVersion(
        bill,
        month,
        (latest?.summary.version ?? 0) + 1,
        latest ?? null,
        latest?.summary.total ?? '0',
        reason,
        actor.label,
      ),
    );
    if (rows.length === 0) return [];
    await this.deps.uow.run(async ({ invoices, audit }) => {
      await invoices.addInvoices(rows);
      for (const row of rows) {
        await audit.append({
          actor,
          action: 'chargeback.invoice.rerate',
          targetType: 'tenant',
          targetId: row.tenantId,
          targetLabel: `${row.number} v${row.version}`,
          tenantId: row.tenantId,
          result: 'success',
          details: { month, version: row.version, total: row.total, adjustment: row.adjustment, reason },
        });
      }
    });
    const latest = await this.deps.uow.repos.invoices.latest({ month, tenantId });
    const written = new Set(rows.map((r) => r.tenantId));
    return latest.filter((s) => written.has(s.tenantId));
  }

  private async compare(month: string, tenantId?: string) {
    if (!(await this.deps.uow.repos.invoices.isClosed(month))) {
      throw new InvoiceError('PERIOD_OPEN', `${month} is open: its bill is live until the month is closed`);
    }
    await this.deps.catchUpRollups();
    const [all, frozen] = await Promise.all([
      this.deps.billing.billAll(monthPeriod(month)),
      this.deps.uow.repos.invoices.latestDocuments(month),
    ]);
    const bills = tenantId === undefined ? all : all.filter((b) => b.tenantId === tenantId);
    if (tenantId !== undefined && bills.length === 0) throw new InvoiceError('INVOICE_NOT_FOUND', 'Invoice not found');
    const changed = [];
    for (const bill of bills) {
      const latest = frozen.get(bill.tenantId);
      const current = bill.invoice;
      // A tenant that had no invoice and still has nothing to pay gets none.
      if (latest === undefined ? current.lines.length === 0 : sameInvoice(latest.document.invoice, current)) continue;
      changed.push({ bill, latest, current });
    }
    return { changed, bills };
  }
}

function newVersion(
  bill: TenantBill,
  month: string,
  version: number,
  previous: { summary: InvoiceSummary; document: { invoice: Invoice } } | null,
  /** The total this version adjusts: the previous version's, or its own for a first close. */
  adjustsTotal: string,
  reason: string,
  createdBy: string,
): NewInvoice {
  const { invoice } = bill;
  const changes = previous ? diffInvoices(previous.document.invoice, invoice) : [];
  return {
    number: invoiceNumber(month, bill.tenantId),
    tenantId: bill.tenantId,
    tenantName: bill.tenantName,
    month,
    version,
    currency: invoice.currency,
    subtotal: invoice.subtotal,
    discount: invoice.discount,
    total: invoice.total,
    adjustment: subtractMoney(invoice.total, adjustsTotal, invoice.currency),
    lineCount: invoice.lines.length,
    document: { invoice, changes },
    reason,
    createdBy,
  };
}
