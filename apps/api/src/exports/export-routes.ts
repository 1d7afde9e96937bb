import type { IncomingMessage, ServerResponse } from 'node:http';
import { billInput } from '@fabric/core/chargeback/chargeback.schema';
import { invoiceCsv } from '@fabric/core/chargeback/invoice-csv';
import { CoreError } from '@fabric/core/shared/errors';
import type { Role } from '@fabric/core/shared/roles';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import type { Services } from '../composition';
import { sendJson } from '../http/request';
import { createContext } from '../trpc/context';
import { CORE_ERROR_CODES, HTTP_STATUS, isCoreErrorCode } from '../trpc/error-map';

/** Who may download a bill: the same roles as `chargeback.bill`. */
const BILL_EXPORT_ROLES: readonly Role[] = ['provider-admin', 'finance', 'tenant-admin'];

/**
 * File downloads that do not fit tRPC: GET /api/exports/bill.csv?tenantId&from&to,
 * with the session cookie. The CSV's amounts are the bill's, unchanged.
 */
export function createExportRoutes(services: Services) {
  return async function handleExport(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/exports/bill.csv' || req.method !== 'GET') {
      return sendJson(res, 404, { message: `No export ${url.pathname}` });
    }
    const { caller } = await createContext(services, req);
    if (!caller) return sendJson(res, 401, { message: 'Sign in to continue' });
    if (!BILL_EXPORT_ROLES.includes(caller.role)) {
      await services.uow.repos.audit.append({
        actor: actorOf(caller),
        action: 'chargeback.export',
        targetType: 'export',
        targetLabel: 'bill.csv',
        tenantId: caller.tenantId,
        result: 'denied',
        message: `Role ${caller.role} may not export bills`,
      });
      return sendJson(res, 403, { message: 'You do not have permission to do this' });
    }
    const parsed = billInput.safeParse({
      tenantId: url.searchParams.get('tenantId') || undefined,
      period: { from: url.searchParams.get('from') ?? '', to: url.searchParams.get('to') ?? '' },
    });
    if (!parsed.success) {
      return sendJson(res, 400, {
        message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    }
    const scope = scopeOf(caller);
    try {
      const invoice = await services.chargeback.bill(scope, parsed.data.tenantId, parsed.data.period);
      const tenantId = scope.kind === 'tenant' ? scope.tenantId : (parsed.data.tenantId ?? '');
      const tenant = await services.uow.repos.tenancy.findTenant({ kind: 'provider' }, tenantId);
      const name = tenant?.slug ?? 'tenant';
      const day = (iso: string) => iso.slice(0, 10);
      const csv = invoiceCsv(invoice, tenant?.name ?? '');
      await services.uow.repos.audit.append({
        actor: actorOf(caller),
        action: 'chargeback.export',
        targetType: 'tenant',
        targetId: tenantId,
        targetLabel: tenant?.name ?? null,
        tenantId,
        result: 'success',
        details: { format: 'csv', from: invoice.period.from, to: invoice.period.to, total: invoice.total },
      });
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="bill-${name}-${day(invoice.period.from)}-${day(invoice.period.to)}.csv"`,
        'cache-control': 'no-store',
      });
      res.end(csv);
    } catch (error) {
      if (error instanceof CoreError && isCoreErrorCode(error.code)) {
        return sendJson(res, HTTP_STATUS[CORE_ERROR_CODES[error.code]] ?? 400, { message: error.message });
      }
      throw error;
    }
  };
}
