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
  | 'HOST_NOT_FOUND'
  /** An HA failure event id that does not exist (ha/ha-service.ts). */
  | 'HA_EVENT_NOT_FOUND'
  /** The VM's ownership epoch moved (ownership.ts): the task, report or move is for an older owner. */
  | 'STALE_EPOCH'
  /** HA settings that break a rule between them (ha/ha-settings.ts); the message names each rule. */
  | 'INVALID_HA_SETTINGS'
  /** The cluster's HA admission control refuses a create or start (ha/admission.ts); the message names the limit. */
  | 'HA_ADMISSION_REFUSED';

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
