import type { AuditRepository } from '../audit/audit-repository';
import type { Role } from '../shared/roles';
import { actorOf, type Caller, scopeOf } from '../shared/tenant-scope';
import type { TenancyRepository } from '../tenancy/tenancy-repository';
import type { BillDocument } from './bill-document';
import { createBillWriter } from './bill-export';
import type { BillExportFormat } from './bill-export.schema';
import { ExportError } from './export.errors';
import type { ExportSink } from './export-sink';
import { monthPeriod } from './invoice';
import { invoiceByIdInput, monthSchema } from './invoice.schema';
import type { FrozenInvoice, InvoiceService } from './invoice-service';
import type { PdfRenderer } from './pdf-document';

/** Same roles as `chargeback.invoice` (one) and `chargeback.periods` (a whole month). */
const INVOICE_ROLES: readonly Role[] = ['provider-admin', 'finance', 'tenant-admin'];
const MONTH_ROLES: readonly Role[] = ['provider-admin', 'finance'];

/**
 * GET /api/exports/invoice.{format}?id=… (one version) or
 * /api/exports/invoices.{format}?month=YYYY-MM (a closed month), as the
 * strings it came with.
 */
export interface InvoiceExportQuery {
  kind: 'invoice' | 'invoices';
  format: BillExportFormat;
  id: string;
  month: string;
}

function documentOf(stored: FrozenInvoice, slug: string): BillDocument {
  return {
    tenant: { id: stored.tenantId, name: stored.tenantName, slug },
    invoice: stored.invoice,
    status: 'closed',
    version: stored.version,
    invoiceNumber: stored.number,
    issuedAt: stored.createdAt,
  };
}

/**
 * Frozen invoices as files: one version, exactly as issued (a tenant admin
 * only its own; another tenant's is not found), or the latest version of every
 * tenant's invoice for a closed month, written a tenant at a time. The same
 * renderers as live bills, fed the stored document: a file never differs from
 * the invoice it names. Refusals and complete exports are audited.
 */
export class InvoiceExportService {
  constructor(
    private readonly deps: {
      tenancy: Pick<TenancyRepository, 'listTenants'>;
      audit: AuditRepository;
      invoices: Pick<InvoiceService, 'get' | 'list'>;
      /** Renders the PDF format (fonts and file format are the adapter's). */
      pdf: PdfRenderer;
    },
  ) {}

  async exportInvoices(caller: Caller, query: InvoiceExportQuery, sink: ExportSink): Promise<void> {
    const { kind, format } = query;
    const scope = scopeOf(caller);
    const roles = kind === 'invoice' ? INVOICE_ROLES : MONTH_ROLES;
    if (!roles.includes(caller.role)) {
      await this.deps.audit.append({
        actor: actorOf(caller),
        action: 'chargeback.export',
        targetType: 'export',
        targetLabel: `${kind}.${format}`,
        tenantId: caller.tenantId,
        result: 'denied',
        message: `Role ${caller.role} may not export ${kind === 'invoice' ? 'invoices' : "a month's invoices"}`,
      });
      throw new ExportError('EXPORT_FORBIDDEN', 'You do not have permission to do this');
    }

    let ids: string[];
    let month: string;
    let name: string;
    if (kind === 'invoice') {
      const parsed = invoiceByIdInput.safeParse({ id: query.id });
      if (!parsed.success) throw new ExportError('EXPORT_INVALID_INPUT', 'id: name an invoice (UUID)');
      const first = await this.deps.invoices.get(scope, parsed.data.id);
      ids = [first.id];
      month = first.month;
      name = `${first.number}-v${first.version}`;
    } else {
      const parsed = monthSchema.safeParse(query.month);
      if (!parsed.success) throw new ExportError('EXPORT_INVALID_INPUT', `month: ${parsed.error.issues[0]?.message}`);
      month = parsed.data;
      const list = await this.deps.invoices.list(scope, { month });
      if (list.length === 0)
        throw new ExportError('EXPORT_NOT_FOUND', `No invoices for ${month}: is the month closed?`);
      ids = list.map((i) => i.id);
      name = `invoices-${month}`;
    }

    const slugs = new Map((await this.deps.tenancy.listTenants(scope)).map((tenant) => [tenant.id, tenant.slug]));
    sink.open({ name, format });
    const writer = createBillWriter(
      format,
      (chunk) => sink.write(chunk),
      {
        period: monthPeriod(month),
        title: kind === 'invoice' ? `Invoice ${name}` : `Invoices, all tenants, ${month}`,
      },
      this.deps.pdf,
    );
    let single: FrozenInvoice | null = null;
    for (const id of ids) {
      const stored = await this.deps.invoices.get(scope, id);
      if (ids.length === 1) single = stored;
      writer.add(documentOf(stored, slugs.get(stored.tenantId) ?? 'tenant'));
      await sink.drained();
    }
    const summary = writer.totals.summary();
    await this.deps.audit.append({
      actor: actorOf(caller),
      action: 'chargeback.export',
      targetType: single ? 'invoice' : 'billing-period',
      targetId: single?.id ?? null,
      targetLabel: single ? `${single.number} v${single.version}` : month,
      tenantId: single?.tenantId ?? null,
      result: 'success',
      details: { format, month, invoices: summary.tenants, total: summary.total, currency: summary.currency },
    });
    writer.end();
  }
}
