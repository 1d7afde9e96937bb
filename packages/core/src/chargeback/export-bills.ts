import type { AuditRepository } from '../audit/audit-repository';
import type { Role } from '../shared/roles';
import { actorOf, type Caller, scopeOf } from '../shared/tenant-scope';
import type { TenantView } from '../tenancy/tenancy.schema';
import type { TenancyRepository } from '../tenancy/tenancy-repository';
import { type BillDocument, billTitle } from './bill-document';
import { type BillWriter, createBillWriter } from './bill-export';
import { billExportInput } from './bill-export.schema';
import type { ChargebackService } from './chargeback-service';
import { ExportError } from './export.errors';
import type { ExportSink } from './export-sink';
import type { PdfRenderer } from './pdf-document';
import type { Invoice } from './rate';

/** Who may download a bill: the same roles as `chargeback.bill`. */
const BILL_EXPORT_ROLES: readonly Role[] = ['provider-admin', 'finance', 'tenant-admin'];
/** Who may download every tenant's bills in one file. */
const ALL_TENANTS_ROLES: readonly Role[] = ['provider-admin', 'finance'];

/** Bills computed ahead of the one being written (an all-tenant file holds at most this many). */
const BILLS_AHEAD = 4;

/** The query of GET /api/exports/bill.{format}, as the strings it came with (validated here, after the role check). */
export interface BillExportQuery {
  format: string;
  tenantId?: string;
  all?: string;
  period: { from: string; to: string };
}

const day = (iso: string) => iso.slice(0, 10);

/**
 * Today's bills as a file: one tenant (a tenant admin always gets its own) or
 * every tenant (finance and provider admins). The amounts are the bill's,
 * unchanged, in every format. An all-tenant file streams: each tenant's part
 * is written as soon as its bill is computed, so memory holds a few bills at a
 * time. Refusals and complete exports are audited.
 */
export class BillExportService {
  constructor(
    private readonly deps: {
      tenancy: Pick<TenancyRepository, 'listTenants' | 'findTenant'>;
      audit: AuditRepository;
      bills: Pick<ChargebackService, 'bill' | 'tenantIds'>;
      /** Renders the PDF format (fonts and file format are the adapter's). */
      pdf: PdfRenderer;
    },
  ) {}

  async exportBills(caller: Caller, query: BillExportQuery, sink: ExportSink): Promise<void> {
    const label = `bill.${query.format}`;
    if (!BILL_EXPORT_ROLES.includes(caller.role)) {
      return this.deny(caller, label, `Role ${caller.role} may not export bills`);
    }
    const parsed = billExportInput.safeParse(query);
    if (!parsed.success) {
      throw new ExportError(
        'EXPORT_INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      );
    }
    const input = parsed.data;
    if (input.all && !ALL_TENANTS_ROLES.includes(caller.role)) {
      return this.deny(caller, label, `Role ${caller.role} may not export every tenant's bill`);
    }
    const scope = scopeOf(caller);
    if (scope.kind === 'provider' && !input.all && !input.tenantId) {
      throw new ExportError('EXPORT_INVALID_INPUT', 'tenantId: name a tenant, or all=1 for every tenant');
    }

    // Which tenants, in name order. A tenant admin's own tenant, whatever it named.
    const named: TenantView[] =
      scope.kind === 'tenant' || input.all
        ? await this.deps.tenancy.listTenants(scope)
        : [await this.deps.tenancy.findTenant(scope, input.tenantId ?? '')].flatMap((t) => (t ? [t] : []));
    if (!input.all && named.length === 0) throw new ExportError('EXPORT_NOT_FOUND', 'Tenant not found');
    // Every tenant's file leaves out those created after the period (no bill of theirs exists);
    // one named tenant's is refused by its bill (PERIOD_BEFORE_TENANT), before the file opens.
    // An invoice that exists is followed, whatever the creation date says (ChargebackService.tenantIds).
    const billable = input.all ? new Set(await this.deps.bills.tenantIds(input.period)) : null;
    const tenants = billable ? named.filter((t) => billable.has(t.id)) : named;

    const { from, to } = input.period;
    const single = input.all ? null : (tenants[0] ?? null);
    const name = single ? `bill-${single.slug}-${day(from)}-${day(to)}` : `bills-all-tenants-${day(from)}-${day(to)}`;
    let writer: BillWriter | null = null;
    // The file opens with the first bill, so an error before it (tenant gone,
    // no rate card) is still a status code and a message.
    const start = (first?: BillDocument): BillWriter => {
      if (writer) return writer;
      sink.open({ name, format: input.format });
      const title =
        first && single
          ? `${billTitle(first)} ${single.name} ${day(from)} to ${day(to)}`
          : `Bills, all tenants, ${day(from)} to ${day(to)}`;
      writer = createBillWriter(
        input.format,
        (chunk) => sink.write(chunk),
        { period: input.period, title },
        this.deps.pdf,
      );
      return writer;
    };

    // Bills are computed a few tenants ahead and written in order: the
    // database works on the next ones while this one is rendered and sent.
    const ahead: Promise<Invoice>[] = [];
    let next = 0;
    const prefetch = () => {
      while (ahead.length < BILLS_AHEAD && next < tenants.length) {
        const bill = this.deps.bills.bill(scope, tenants[next++]?.id, input.period);
        // Awaited in order below; this only keeps an abandoned one from being an unhandled rejection.
        bill.catch(() => undefined);
        ahead.push(bill);
      }
    };

    for (const tenant of tenants) {
      prefetch();
      const invoice = await (ahead.shift() ?? Promise.reject(new Error('prefetch out of step')));
      const doc: BillDocument = {
        tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug },
        invoice,
        status: 'estimate',
      };
      start(doc).add(doc);
      // Let a slow client drain what is written before computing the next tenant.
      await sink.drained();
    }
    const done = start();
    const summary = done.totals.summary();
    // Audited before the last bytes: a complete file is always an audited one.
    await this.deps.audit.append({
      actor: actorOf(caller),
      action: 'chargeback.export',
      targetType: single ? 'tenant' : 'export',
      targetId: single?.id ?? null,
      targetLabel: single?.name ?? 'all tenants',
      tenantId: single?.id ?? null,
      result: 'success',
      details: {
        format: input.format,
        scope: single ? 'tenant' : 'all',
        from,
        to,
        tenants: summary.tenants,
        total: summary.total,
        currency: summary.currency,
      },
    });
    done.end();
  }

  /** Audits the refusal (with the role, for the audit log) and refuses without saying more. */
  private async deny(caller: Caller, label: string, message: string): Promise<never> {
    await this.deps.audit.append({
      actor: actorOf(caller),
      action: 'chargeback.export',
      targetType: 'export',
      targetLabel: label,
      tenantId: caller.tenantId,
      result: 'denied',
      message,
    });
    throw new ExportError('EXPORT_FORBIDDEN', 'You do not have permission to do this');
  }
}
