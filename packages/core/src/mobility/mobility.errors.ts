import { CoreError } from '../shared/errors';

export type MobilityErrorCode =
  | 'MIGRATION_VM_NOT_FOUND'
  | 'MIGRATION_TARGET_NOT_FOUND'
  /** The target cannot take the VM (maintenance, too small, another tenant's dedicated host…): the engine's reason. */
  | 'MIGRATION_TARGET_REFUSED'
  | 'MIGRATION_SAME_HOST'
  | 'MIGRATION_NO_TARGET'
  | 'MIGRATION_ALREADY_ACTIVE'
  | 'MIGRATION_VM_STATE'
  | 'MIGRATION_WOULD_NOT_CONVERGE'
  | 'MIGRATION_NOT_CANCELLABLE'
  | 'MIGRATION_NOT_FOUND'
  | 'MIGRATION_CANCELLED'
  /** An agent task of the migration failed or timed out: the VM stays on the source. */
  | 'MIGRATION_HOST_FAILED'
  /** Bring-back is offered when a host leaves maintenance: this one is not in maintenance. */
  | 'HOST_NOT_IN_MAINTENANCE'
  /** Live storage migration (move-vm-storage.ts): the destination pool is not one of the VM's host's. */
  | 'STORAGE_POOL_NOT_FOUND'
  | 'STORAGE_DISK_NOT_FOUND'
  /** The disks are in that pool already. */
  | 'STORAGE_SAME_POOL'
  /** Not enough free space in the destination pool (the figures in the message). */
  | 'STORAGE_NO_SPACE'
  /** The host's agent failed a step before the switch: the VM stays on its source disks. */
  | 'STORAGE_HOST_FAILED';

export class MobilityError extends CoreError<MobilityErrorCode> {
  readonly module = 'mobility';
}
