import { CoreError } from '../shared/errors';

export type ReplicationErrorCode =
  | 'REPLICATION_NOT_FOUND'
  | 'REPLICATION_EXISTS'
  | 'REPLICA_TARGET_IS_PRIMARY'
  | 'REPLICA_TARGET_NOT_AUTHORIZED'
  | 'REPLICA_TARGET_NOT_FOUND'
  | 'REPLICA_NO_HOST_FITS'
  | 'VM_NOT_REPLICATED'
  | 'VM_NOT_PLACED'
  | 'REPLICATION_BUSY'
  | 'REPLICATION_INVALID_STATE'
  | 'RECOVERY_POINT_NOT_FOUND'
  | 'REPLICA_AUTHORIZATION_NOT_FOUND'
  | 'REPLICA_AGENT_FAILED'
  | 'REPLICA_CHECKSUM_MISMATCH'
  | 'REPLICA_PRIMARY_RUNNING';

export class ReplicationError extends CoreError<ReplicationErrorCode> {
  readonly module = 'replication';
}
