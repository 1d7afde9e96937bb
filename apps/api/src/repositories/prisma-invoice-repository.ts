import { CLOSE_MONTH_KIND } from '@fabric/core/chargeback/invoice';
import { InvoiceError } from '@fabric/core/chargeback/invoice.errors';
import { type InvoiceSummary, storedInvoiceSchema } from '@fabric/core/chargeback/invoice.schema';
import type {
  ClosedMonth,
  InvoiceDocument,
  InvoiceRepository,
  NewInvoice,
} from '@fabric/core/chargeback/invoice-repository';
import { Dec, formatMoney } from '@fabric/core/chargeback/money';
import { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';
import { isUniqueViolation } from './prisma-errors';

const monthDate = (month: string) => new Date(`${month}-01T00:00:00Z`);
const monthText = (date: Date) => date.toISOString().slice(0, 7);

interface SummaryRow {
  id: string;
  number: string;
  tenant_id: string;
  tenant_name: string;
  month: Date;
  version: number;
  latest_version: number;
  currency: string;
  subtotal: string;
  discount: string;
  total: string;
  adjustment: string;
  line_count: number;
  reason: string;
  created_by: string;
  created_at: Date;
  document?: unknown;
}

const SUMMARY_COLUMNS = Prisma.sql`i.id, i.number, i.tenant_id, i.tenant_name, i.month, i.version,
  (SELECT max(v.version) FROM invoices v WHERE v.tenant_id = i.tenant_id AND v.month = i.month)::int AS latest_version,
  i.currency, i.subtotal::text, i.discount::text, i.total::text, i.adjustment::text, i.line_count, i.reason,
  i.created_by, i.created_at`;

function toSummary(row: SummaryRow): InvoiceSummary {
  const currency = row.currency.trim();
  const money = (value: string) => formatMoney(new Dec(value), currency);
  return {
    id: row.id,
    number: row.number,
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    month: monthText(row.month),
    version: row.version,
    latestVersion: row.latest_version,
    currency,
    subtotal: money(row.subtotal),
    discount: money(row.discount),
    total: money(row.total),
    adjustment: money(row.adjustment),
    lineCount: row.line_count,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

function toRow(r: NewInvoice) {
  return {
    number: r.number,
    tenantId: r.tenantId,
    tenantName: r.tenantName,
    month: monthDate(r.month),
    version: r.version,
    currency: r.currency,
    subtotal: r.subtotal,
    discount: r.discount,
    total: r.total,
    adjustment: r.adjustment,
    lineCount: r.lineCount,
    document: r.document as unknown as Prisma.InputJsonValue,
    reason: r.reason,
    createdBy: r.createdBy,
  };
}

/** Stored as written by addInvoices; parsed again so a bad row fails loudly here. */
function toDocument(value: unknown): InvoiceDocument {
  const { invoice, changes } = storedInvoiceSchema.pick({ invoice: true, changes: true }).parse(value);
  return { invoice, changes } as InvoiceDocument;
}

export class PrismaInvoiceRepository implements InvoiceRepository {
  constructor(private readonly db: Db) {}

  async closedMonths(): Promise<ClosedMonth[]> {
    const rows = await this.db.$queryRaw<
      {
        month: Date;
        closed_at: Date;
        closed_by: string;
        invoices: number;
        total: string | null;
        currency: string | null;
        task_id: string | null;
      }[]
    >`SELECT p.month, p.closed_at, p.closed_by, count(l.id)::int AS invoices, sum(l.total)::text AS total,
             min(l.currency) AS currency,
             (SELECT j.id::text FROM jobs j WHERE j.kind = ${CLOSE_MONTH_KIND} AND j.state = 'succeeded'
                AND j.target_id = to_char(p.month, 'YYYY-MM') ORDER BY j.created_at DESC LIMIT 1) AS task_id
      FROM billing_periods p
      LEFT JOIN (SELECT DISTINCT ON (tenant_id, month) id, month, total, currency FROM invoices
                 ORDER BY tenant_id, month, version DESC) l ON l.month = p.month
      GROUP BY p.month, p.closed_at, p.closed_by ORDER BY p.month DESC`;
    return rows.map((r) => {
      const currency = r.currency?.trim() ?? null;
      return {
        month: monthText(r.month),
        closedAt: r.closed_at,
        closedBy: r.closed_by,
        invoiceCount: r.invoices,
        total: r.total !== null && currency !== null ? formatMoney(new Dec(r.total), currency) : null,
        currency,
        taskId: r.task_id,
      };
    });
  }

  async isClosed(month: string) {
    return (await this.db.billingPeriod.count({ where: { month: monthDate(month) } })) === 1;
  }

  async closeMonth(month: string, closedBy: string, closedAt: Date) {
    try {
      await this.db.billingPeriod.create({ data: { month: monthDate(month), closedBy, closedAt } });
    } catch (error) {
      if (isUniqueViolation(error)) throw new InvoiceError('PERIOD_CLOSED', `${month} is already closed`);
      throw error;
    }
  }

  async addInvoices(rows: readonly NewInvoice[]) {
    if (rows.length === 0) return;
    try {
      await this.db.invoice.createMany({ data: rows.map(toRow) });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new InvoiceError(
          'INVOICE_VERSION_CONFLICT',
          'Someone else wrote a version of this invoice at the same time; review the month again',
        );
      }
      throw error;
    }
  }

  async addMissingInvoices(rows: readonly NewInvoice[]) {
    if (rows.length === 0) return 0;
    return (await this.db.invoice.createMany({ data: rows.map(toRow), skipDuplicates: true })).count;
  }

  async tenantsInvoiced(month: string) {
    const rows = await this.db.invoice.findMany({
      where: { month: monthDate(month) },
      select: { tenantId: true },
      distinct: ['tenantId'],
    });
    return new Set(rows.map((r) => r.tenantId));
  }

  async latest(filter: { month?: string; tenantId?: string }) {
    const where = [Prisma.sql`TRUE`];
    if (filter.month) where.push(Prisma.sql`i.month = ${monthDate(filter.month)}::date`);
    if (filter.tenantId) where.push(Prisma.sql`i.tenant_id = ${filter.tenantId}::uuid`);
    const rows = await this.db.$queryRaw<SummaryRow[]>`
      SELECT * FROM (
        SELECT DISTINCT ON (i.tenant_id, i.month) ${SUMMARY_COLUMNS}
        FROM invoices i WHERE ${Prisma.join(where, ' AND ')}
        ORDER BY i.tenant_id, i.month, i.version DESC
      ) l ORDER BY l.month DESC, l.tenant_name`;
    return rows.map(toSummary);
  }

  async latestDocuments(month: string) {
    const rows = await this.db.$queryRaw<SummaryRow[]>`
      SELECT DISTINCT ON (i.tenant_id) ${SUMMARY_COLUMNS}, i.document
      FROM invoices i WHERE i.month = ${monthDate(month)}::date
      ORDER BY i.tenant_id, i.version DESC`;
    return new Map(rows.map((r) => [r.tenant_id, { summary: toSummary(r), document: toDocument(r.document) }]));
  }

  async find(id: string) {
    const rows = await this.db.$queryRaw<SummaryRow[]>`
      SELECT ${SUMMARY_COLUMNS}, i.document FROM invoices i WHERE i.id = ${id}::uuid`;
    const row = rows[0];
    return row ? { summary: toSummary(row), document: toDocument(row.document) } : null;
  }

  async versions(tenantId: string, month: string) {
    const rows = await this.db.$queryRaw<SummaryRow[]>`
      SELECT ${SUMMARY_COLUMNS} FROM invoices i
      WHERE i.tenant_id = ${tenantId}::uuid AND i.month = ${monthDate(month)}::date ORDER BY i.version`;
    return rows.map(toSummary);
  }
}
