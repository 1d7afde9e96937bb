import { CLOSE_MONTH_KIND, sumMoney } from '../chargeback/invoice';
import { InvoiceError } from '../chargeback/invoice.errors';
import type { InvoiceSummary } from '../chargeback/invoice.schema';
import type { ClosedMonth, InvoiceDocument, InvoiceRepository, NewInvoice } from '../chargeback/invoice-repository';
import type { Clock } from '../shared/clock';
import type { InMemoryJobRepository } from './in-memory-job-repository';
import type { Snapshottable } from './in-memory-unit-of-work';

export interface StoredInvoiceRow extends NewInvoice {
  id: string;
  createdAt: Date;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const key = (r: { tenantId: string; month: string; version: number }) => `${r.tenantId}|${r.month}|${r.version}`;

/**
 * Invoices and closed months as the Prisma repository keeps them: versions
 * unique per (tenant, month, version), a month closed once (a second close is
 * PERIOD_CLOSED), duplicates skipped by `addMissingInvoices`. Closed months
 * name the succeeded close task when given the job repository (the SQL reads
 * the jobs table).
 */
export class InMemoryInvoiceRepository implements InvoiceRepository, Snapshottable {
  rows: StoredInvoiceRow[] = [];
  closed = new Map<string, { closedAt: Date; closedBy: string }>();
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly jobs?: InMemoryJobRepository,
  ) {}

  async closedMonths(): Promise<ClosedMonth[]> {
    const latest = await this.latest({});
    return [...this.closed.entries()]
      .sort(([a], [b]) => byCodeUnits(b, a))
      .map(([month, { closedAt, closedBy }]) => {
        const invoices = latest.filter((i) => i.month === month);
        const currency = invoices[0]?.currency ?? null;
        const task = this.jobs?.jobs
          .filter((j) => j.kind === CLOSE_MONTH_KIND && j.state === 'succeeded' && j.targetId === month)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
        return {
          month,
          closedAt,
          closedBy,
          invoiceCount: invoices.length,
          total:
            currency === null
              ? null
              : sumMoney(
                  invoices.map((i) => i.total),
                  currency,
                ),
          currency,
          taskId: task?.id ?? null,
        };
      });
  }

  async isClosed(month: string) {
    return this.closed.has(month);
  }

  async closeMonth(month: string, closedBy: string, closedAt: Date) {
    if (this.closed.has(month)) throw new InvoiceError('PERIOD_CLOSED', `${month} is already closed`);
    this.closed.set(month, { closedAt, closedBy });
  }

  /** All or nothing, like one INSERT of many rows. */
  async addInvoices(rows: readonly NewInvoice[]) {
    const taken = new Set(this.rows.map(key));
    for (const row of rows) {
      if (taken.has(key(row))) {
        throw new InvoiceError(
          'INVOICE_VERSION_CONFLICT',
          'Someone else wrote a version of this invoice at the same time; review the month again',
        );
      }
      taken.add(key(row));
    }
    for (const row of rows) this.insert(row);
  }

  async addMissingInvoices(rows: readonly NewInvoice[]) {
    const taken = new Set(this.rows.map(key));
    let written = 0;
    for (const row of rows) {
      if (taken.has(key(row))) continue;
      taken.add(key(row));
      this.insert(row);
      written++;
    }
    return written;
  }

  async tenantsInvoiced(month: string) {
    return new Set(this.rows.filter((r) => r.month === month).map((r) => r.tenantId));
  }

  async latest(filter: { month?: string; tenantId?: string }) {
    const newest = new Map<string, StoredInvoiceRow>();
    for (const row of this.rows) {
      if (filter.month !== undefined && row.month !== filter.month) continue;
      if (filter.tenantId !== undefined && row.tenantId !== filter.tenantId) continue;
      const at = `${row.tenantId}|${row.month}`;
      const seen = newest.get(at);
      if (!seen || seen.version < row.version) newest.set(at, row);
    }
    return [...newest.values()]
      .sort((a, b) => byCodeUnits(b.month, a.month) || byCodeUnits(a.tenantName, b.tenantName))
      .map((r) => this.summary(r));
  }

  async latestDocuments(month: string) {
    const result = new Map<string, { summary: InvoiceSummary; document: InvoiceDocument }>();
    for (const summary of await this.latest({ month })) {
      const row = this.rows.find((r) => r.id === summary.id);
      if (row) result.set(row.tenantId, { summary, document: structuredClone(row.document) });
    }
    return result;
  }

  async find(id: string) {
    const row = this.rows.find((r) => r.id === id);
    return row ? { summary: this.summary(row), document: structuredClone(row.document) } : null;
  }

  async versions(tenantId: string, month: string) {
    return this.rows
      .filter((r) => r.tenantId === tenantId && r.month === month)
      .sort((a, b) => a.version - b.version)
      .map((r) => this.summary(r));
  }

  snapshot() {
    const rows = [...this.rows];
    const closed = new Map(this.closed);
    const nextId = this.nextId;
    return () => {
      this.rows = rows;
      this.closed = closed;
      this.nextId = nextId;
    };
  }

  private insert(row: NewInvoice) {
    const id = `00000000-0000-4000-a000-${String(this.nextId++).padStart(12, '0')}`;
    // Stored as JSON, like the document column: later changes to the caller's object do not leak in.
    this.rows.push({ ...structuredClone(row), id, createdAt: this.clock.now() });
  }

  private summary(row: StoredInvoiceRow): InvoiceSummary {
    const latestVersion = Math.max(
      ...this.rows.filter((r) => r.tenantId === row.tenantId && r.month === row.month).map((r) => r.version),
    );
    return {
      id: row.id,
      number: row.number,
      tenantId: row.tenantId,
      tenantName: row.tenantName,
      month: row.month,
      version: row.version,
      latestVersion,
      currency: row.currency,
      subtotal: row.subtotal,
      discount: row.discount,
      total: row.total,
      adjustment: row.adjustment,
      lineCount: row.lineCount,
      reason: row.reason,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
    };
  }
}
