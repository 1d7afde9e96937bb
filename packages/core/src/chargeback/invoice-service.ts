import type { AuditRepository } from '../audit/audit-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import {
  addMonths,
  CLOSE_MONTH_KIND,
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
  /** The bills of these tenants only (a month close rates a few at a time). */
  billTenants(period: RatingPeriod, tenantIds: readonly string[]): Promise<TenantBill[]>;
  /** The id of every tenant that existed during the period (none is invoiced for a month before it was created). */
  tenantIds(period: RatingPeriod): Promise<string[]>;
}

export interface InvoiceServiceDeps {
  uow: UnitOfWork<{ invoices: InvoiceRepository; audit: AuditRepository; jobs: JobRepository }>;
  billing: BillingSource;
  /** Rolls up every pending hour, so late samples already received are counted. */
  catchUpRollups: () => Promise<unknown>;
  clock: Clock;
}

/**
 * Closing months into frozen invoices. A closed month's invoices never
 * change (the database refuses updates); samples that arrive late change
 * the rollups, a review shows whose bill would differ, and re-rating writes
 * version n+1 with the difference, line by line. Closing itself is a durable
 * workflow: close-month.ts.
 */
export class InvoiceService {
  constructor(private readonly deps: InvoiceServiceDeps) {}

  /** Months from the first rate card (or the first closed month) to this one, newest first. */
  async periods(): Promise<Period[]> {
    const now = this.deps.clock.now();
    const [closed, cards, closing] = await Promise.all([
      this.deps.uow.repos.invoices.closedMonths(),
      this.deps.billing.rateCards(),
      this.deps.uow.repos.jobs.activeTasks(CLOSE_MONTH_KIND),
    ]);
    const closingMonths = new Map(closing.map((task) => [task.targetId, task.id]));
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
        taskId: done?.taskId ?? closingMonths.get(month) ?? null,
      });
      if (periods.length >= 120) break;
    }
    return periods;
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

export function newVersion(
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
