import { CoreError } from '../shared/errors';

export type ChargebackErrorCode =
  | 'NO_RATE_CARD'
  | 'DUPLICATE_EFFECTIVE_DATE'
  | 'CURRENCY_MISMATCH'
  | 'DUPLICATE_USAGE'
  | 'USAGE_SPAN'
  | 'INVALID_PERIOD'
  | 'RATE_CARD_IN_PAST'
  | 'BILL_TENANT_NOT_FOUND'
  | 'PERIOD_BEFORE_TENANT'
  | 'PERIOD_NOT_STARTED'
  | 'UNKNOWN_ADDRESS_CLASS';

export class ChargebackError extends CoreError<ChargebackErrorCode> {
  readonly module = 'chargeback';
}
