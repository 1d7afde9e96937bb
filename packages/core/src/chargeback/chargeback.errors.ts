import { CoreError } from '../shared/errors';

export type ChargebackErrorCode =
  | 'NO_RATE_CARD'
  | 'DUPLICATE_EFFECTIVE_DATE'
  | 'CURRENCY_MISMATCH'
  | 'DUPLICATE_USAGE'
  | 'INVALID_PERIOD';

export class ChargebackError extends CoreError<ChargebackErrorCode> {
  readonly module = 'chargeback';
}
