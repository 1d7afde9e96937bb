import { CoreError } from '../shared/errors';

export type ComputeErrorCode =
  | 'VM_NOT_FOUND'
  | 'DUPLICATE_VM_NAME'
  | 'QUOTA_EXCEEDED'
  | 'INVALID_VM_STATE'
  | 'NO_HOST_FITS'
  | 'NO_CLUSTER'
  | 'TASK_NOT_FOUND'
  | 'TENANT_NOT_FOUND'
  | 'CLUSTER_NOT_FOUND'
  | 'HOST_NOT_FOUND';

export class ComputeError extends CoreError<ComputeErrorCode> {
  readonly module = 'compute';
  constructor(
    code: ComputeErrorCode,
    message: string,
    /** For NO_HOST_FITS: the stored decision that explains it. */
    readonly decisionId?: string,
  ) {
    super(code, message);
  }
}
