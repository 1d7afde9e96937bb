import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BillDocument, billTitle } from '@fabric/core/chargeback/bill-document';
import { BILL_CONTENT_TYPES, type BillWriter, createBillWriter } from '@fabric/core/chargeback/bill-export';
import { billExportInput } from '@fabric/core/chargeback/bill-export.schema';
import type { Invoice } from '@fabric/core/chargeback/rate';
import type { Role } from '@fabric/core/shared/roles';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import type { Services } from '../composition';
import { sendJson } from '../http/request';
import { createContext } from '../trpc/context';
import { failExport } from './fail-export';
import { handleInvoiceExport, INVOICE_PATH } from './invoice-export-routes';

/** Who may download a bill: the same roles as `chargeback.bill`. */
const BILL_EXPORT_ROLES: readonly Role[] = ['provider-admin', 'finance', 'tenant-admin'];
/** Who may download every tenant's bills in one file. */
const ALL_TENANTS_ROLES: readonly Role[] = ['provider-admin', 'finance'];

/** Bills computed ahead of the one being written (an all-tenant file holds at most this many). */
const BILLS_AHEAD = 4;

const BILL_PATH = /^\/api\/exports\/bill\.(csv|json|pdf)$/;

const day = (iso: string) => iso.slice(0, 10);

/**
 * File downloads that do not fit tRPC, with the session cookie:
 * GET /api/exports/bill.{csv,json,pdf}?tenantId=…&from&to (one tenant; a
 * tenant admin always gets its own) and ?all=1&from&to (every tenant; finance
 * and provider admins). The amounts are the bill's, unchanged, in every
 * format. An all-tenant file streams: each tenant's part is written as soon as
 * its bill is computed, so memory holds one tenant's bill at a time.
 */
export function createExportRoutes(services: Services) {
  const audit = services.uow.repos.audit;

  return async function handleExport(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const format = BILL_PATH.exec(url.pathname)?.[1];
    const invoice = INVOICE_PATH.exec(url.pathname);
    if ((!format && !invoice) || req.method !== 'GET') {
      return sendJson(res, 404, { message: `No export ${url.pathname}` });
    }
    const { caller } = await createContext(services, req);
    if (!caller) return sendJson(res, 401, { message: 'Sign in to continue' });
    if (invoice) return handleInvoiceExport(services, caller, req, res, invoice);
    const deny = async (message: string) => {
      await audit.append({
        actor: actorOf(caller),
        action: 'chargeback.export',
        targetType: 'export',
        targetLabel: `bill.${format}`,
        tenantId: caller.tenantId,
        result: 'denied',
        message,
      });
      return sendJson(res, 403, { message: 'You do not have permission to do this' });
    };
    if (!BILL_EXPORT_ROLES.includes(caller.role)) return deny(`Role ${caller.role} may not export bills`);

    const parsed = billExportInput.safeParse({
      format,
      tenantId: url.searchParams.get('tenantId') || undefined,
      all: url.searchParams.get('all') || undefined,
      period: { from: url.searchParams.get('from') ?? '', to: url.searchParams.get('to') ?? '' },
    });
    if (!parsed.success) {
      return sendJson(res, 400, {
        message: parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      });
    }
    const input = parsed.data;
    if (input.all && !ALL_TENANTS_ROLES.includes(caller.role)) {
      return deny(`Role ${caller.role} may not export every tenant's bill`);
    }
    const scope = scopeOf(caller);
    if (scope.kind === 'provider' && !input.all && !input.tenantId) {
      return sendJson(res, 400, { message: 'tenantId: name a tenant, or all=1 for every tenant' });
    }

    // Which tenants, in name order. A tenant admin's own tenant, whatever it named.
    const tenants =
      scope.kind === 'tenant'
        ? await services.uow.repos.tenancy.listTenants(scope)
        : input.all
          ? await services.uow.repos.tenancy.listTenants(scope)
          : [await services.uow.repos.tenancy.findTenant(scope, input.tenantId ?? '')].flatMap((t) => (t ? [t] : []));
    if (!input.all && tenants.length === 0) return sendJson(res, 404, { message: 'Tenant not found' });

    const { from, to } = input.period;
    const single = input.all ? null : (tenants[0] ?? null);
    const name = single ? `bill-${single.slug}-${day(from)}-${day(to)}` : `bills-all-tenants-${day(from)}-${day(to)}`;
    let writer: BillWriter | null = null;
    // Headers go out with the first bill, so an error before it (tenant gone,
    // no rate card) is still a status code and a message.
    const start = (first?: BillDocument): BillWriter => {
      if (writer) return writer;
      res.writeHead(200, {
        'content-type': BILL_CONTENT_TYPES[input.format],
        'content-disposition': `attachment; filename="${name}.${input.format}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      const title =
        first && single
          ? `${billTitle(first)} ${single.name} ${day(from)} to ${day(to)}`
          : `Bills, all tenants, ${day(from)} to ${day(to)}`;
      writer = createBillWriter(input.format, (chunk) => res.write(chunk), { period: input.period, title });
      return writer;
    };

    // Bills are computed a few tenants ahead and written in order: the
    // database works on the next ones while this one is rendered and sent.
    const ahead: Promise<Invoice>[] = [];
    let next = 0;
    const prefetch = () => {
      while (ahead.length < BILLS_AHEAD && next < tenants.length) {
        const bill = services.chargeback.bill(scope, tenants[next++]?.id, input.period);
        // Awaited in order below; this only keeps an abandoned one from being an unhandled rejection.
        bill.catch(() => undefined);
        ahead.push(bill);
      }
    };

    try {
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
        if (res.writableNeedDrain) await once(res, 'drain');
      }
      const done = start();
      const summary = done.totals.summary();
      // Audited before the last bytes: a complete file is always an audited one.
      await audit.append({
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
      res.end();
    } catch (error) {
      return failExport(res, error, 'bill');
    }
  };
}
