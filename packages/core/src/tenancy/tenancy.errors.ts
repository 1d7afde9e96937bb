import { CoreError } from '../shared/errors';

export type TenancyErrorCode =
  | 'TENANT_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'DUPLICATE_TENANT_NAME'
  | 'INVALID_TENANT_NAME'
  | 'DUPLICATE_EMAIL'
  | 'ROLE_NOT_ALLOWED'
  | 'TENANT_REQUIRED'
  | 'TENANT_NOT_ALLOWED';

export class TenancyError extends CoreError<TenancyErrorCode> {
  readonly module = 'tenancy';
}
