import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BillDocument } from '@fabric/core/chargeback/bill-document';
import { BILL_CONTENT_TYPES, createBillWriter } from '@fabric/core/chargeback/bill-export';
import { BILL_EXPORT_FORMATS } from '@fabric/core/chargeback/bill-export.schema';
import { monthPeriod } from '@fabric/core/chargeback/invoice';
import { invoiceByIdInput, monthSchema } from '@fabric/core/chargeback/invoice.schema';
import type { FrozenInvoice } from '@fabric/core/chargeback/invoice-service';
import type { Role } from '@fabric/core/shared/roles';
import { actorOf, type Caller, scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import type { Services } from '../composition';
import { sendJson } from '../http/request';
import { failExport } from './fail-export';

/** Same roles as `chargeback.invoice` (one) and `chargeback.periods` (a whole month). */
const INVOICE_ROLES: readonly Role[] = ['provider-admin', 'finance', 'tenant-admin'];
const MONTH_ROLES: readonly Role[] = ['provider-admin', 'finance'];

export const INVOICE_PATH = /^\/api\/exports\/(invoice|invoices)\.(csv|json|pdf)$/;

const formatSchema = z.enum(BILL_EXPORT_FORMATS);

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
 * Frozen invoices as files: GET /api/exports/invoice.{csv,json,pdf}?id=… (one
 * version, exactly as issued; a tenant admin only its own, another tenant's is
 * 404) and /api/exports/invoices.{…}?month=YYYY-MM (the latest version of
 * every tenant's invoice for a closed month, streamed a tenant at a time).
 * The same renderers as live bills, fed the stored document: a file never
 * differs from the invoice it names.
 */
export async function handleInvoiceExport(
  services: Services,
  caller: Caller,
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
): Promise<void> {
  const [, kind, rawFormat] = match;
  const format = formatSchema.parse(rawFormat);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const audit = services.uow.repos.audit;
  const scope = scopeOf(caller);
  const roles = kind === 'invoice' ? INVOICE_ROLES : MONTH_ROLES;
  if (!roles.includes(caller.role)) {
    await audit.append({
      actor: actorOf(caller),
      action: 'chargeback.export',
      targetType: 'export',
      targetLabel: `${kind}.${format}`,
      tenantId: caller.tenantId,
      result: 'denied',
      message: `Role ${caller.role} may not export ${kind === 'invoice' ? 'invoices' : "a month's invoices"}`,
    });
    return sendJson(res, 403, { message: 'You do not have permission to do this' });
  }

  try {
    let ids: string[];
    let month: string;
    let name: string;
    if (kind === 'invoice') {
      const parsed = invoiceByIdInput.safeParse({ id: url.searchParams.get('id') ?? '' });
      if (!parsed.success) return sendJson(res, 400, { message: 'id: name an invoice (UUID)' });
      const first = await services.invoices.get(scope, parsed.data.id);
      ids = [first.id];
      month = first.month;
      name = `${first.number}-v${first.version}`;
    } else {
      const parsed = monthSchema.safeParse(url.searchParams.get('month') ?? '');
      if (!parsed.success) return sendJson(res, 400, { message: `month: ${parsed.error.issues[0]?.message}` });
      month = parsed.data;
      const list = await services.invoices.list(scope, { month });
      if (list.length === 0) return sendJson(res, 404, { message: `No invoices for ${month}: is the month closed?` });
      ids = list.map((i) => i.id);
      name = `invoices-${month}`;
    }

    const slugs = new Map(
      (await services.uow.repos.tenancy.listTenants(scope)).map((tenant) => [tenant.id, tenant.slug]),
    );
    res.writeHead(200, {
      'content-type': BILL_CONTENT_TYPES[format],
      'content-disposition': `attachment; filename="${name}.${format}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const writer = createBillWriter(format, (chunk) => res.write(chunk), {
      period: monthPeriod(month),
      title: kind === 'invoice' ? `Invoice ${name}` : `Invoices, all tenants, ${month}`,
    });
    let single: FrozenInvoice | null = null;
    for (const id of ids) {
      const stored = await services.invoices.get(scope, id);
      if (ids.length === 1) single = stored;
      writer.add(documentOf(stored, slugs.get(stored.tenantId) ?? 'tenant'));
      if (res.writableNeedDrain) await once(res, 'drain');
    }
    const summary = writer.totals.summary();
    await audit.append({
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
    res.end();
  } catch (error) {
    return failExport(res, error, 'invoice');
  }
}
