import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/request';
import { runForCaller } from '../tenancy/db-scope';
import { createContext, type RouterServices } from '../trpc/context';
import { failExport } from './fail-export';
import { handleInvoiceExport, INVOICE_PATH } from './invoice-export-routes';
import { responseSink } from './response-sink';

const BILL_PATH = /^\/api\/exports\/bill\.(csv|json|pdf)$/;

/**
 * File downloads that do not fit tRPC, with the session cookie:
 * GET /api/exports/bill.{csv,json,pdf}?tenantId=…&from&to (one tenant) and
 * ?all=1&from&to (every tenant), and the frozen invoices (see
 * invoice-export-routes.ts). Transport only: who may export what, which
 * tenants a file covers and its audit are `BillExportService`'s.
 */
export function createExportRoutes(services: RouterServices) {
  return async function handleExport(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const format = BILL_PATH.exec(url.pathname)?.[1];
    const invoice = INVOICE_PATH.exec(url.pathname);
    if ((!format && !invoice) || req.method !== 'GET') {
      return sendJson(res, 404, { message: `No export ${url.pathname}` });
    }
    const { caller } = await createContext(services, req);
    if (!caller) return sendJson(res, 401, { message: 'Sign in to continue' });
    // A tenant's export reads with its tenant only (row-level security), as its tRPC calls do.
    return runForCaller(caller, async () => {
      if (invoice) return handleInvoiceExport(services, caller, req, res, invoice);
      try {
        await services.billExports.exportBills(
          caller,
          {
            format: format ?? '',
            tenantId: url.searchParams.get('tenantId') || undefined,
            all: url.searchParams.get('all') || undefined,
            period: { from: url.searchParams.get('from') ?? '', to: url.searchParams.get('to') ?? '' },
          },
          responseSink(res),
        );
        res.end();
      } catch (error) {
        return failExport(res, error, 'bill');
      }
    });
  };
}
