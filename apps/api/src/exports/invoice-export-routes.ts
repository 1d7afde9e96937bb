import type { IncomingMessage, ServerResponse } from 'node:http';
import { BILL_EXPORT_FORMATS } from '@fabric/core/chargeback/bill-export.schema';
import type { Caller } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import type { RouterServices } from '../trpc/context';
import { failExport } from './fail-export';
import { responseSink } from './response-sink';

export const INVOICE_PATH = /^\/api\/exports\/(invoice|invoices)\.(csv|json|pdf)$/;

const kindSchema = z.enum(['invoice', 'invoices']);
const formatSchema = z.enum(BILL_EXPORT_FORMATS);

/**
 * Frozen invoices as files: GET /api/exports/invoice.{csv,json,pdf}?id=… (one
 * version, exactly as issued) and /api/exports/invoices.{…}?month=YYYY-MM (a
 * closed month). Transport only: `InvoiceExportService` decides and audits.
 */
export async function handleInvoiceExport(
  services: RouterServices,
  caller: Caller,
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
): Promise<void> {
  const [, kind, format] = match;
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    await services.invoiceExports.exportInvoices(
      caller,
      {
        kind: kindSchema.parse(kind),
        format: formatSchema.parse(format),
        id: url.searchParams.get('id') ?? '',
        month: url.searchParams.get('month') ?? '',
      },
      responseSink(res),
    );
    res.end();
  } catch (error) {
    return failExport(res, error, 'invoice');
  }
}
