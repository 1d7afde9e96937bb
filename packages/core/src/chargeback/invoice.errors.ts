import { CoreError } from '../shared/errors';

export type InvoiceErrorCode =
  | 'PERIOD_NOT_OVER'
  | 'PERIOD_CLOSED'
  | 'PERIOD_CLOSING'
  | 'PERIOD_OPEN'
  | 'PERIOD_NOT_PRICED'
  | 'INVOICE_NOT_FOUND'
  | 'INVOICE_VERSION_CONFLICT';

export class InvoiceError extends CoreError<InvoiceErrorCode> {
  readonly module = 'invoices';
}
