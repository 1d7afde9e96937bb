import { CoreError } from '../shared/errors';

export type FabricErrorCode =
  | 'CLUSTER_NOT_FOUND'
  | 'HOST_NOT_FOUND'
  | 'TOKEN_NOT_FOUND'
  | 'DUPLICATE_CLUSTER_NAME'
  | 'DUPLICATE_HOST_NAME'
  | 'CLUSTER_HOST_LIMIT'
  | 'CLUSTER_NOT_EMPTY'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_USED'
  | 'TOKEN_REVOKED'
  | 'TOKEN_NOT_ACTIVE'
  | 'CREDENTIAL_INVALID'
  | 'HOST_MISMATCH'
  | 'REPLAYED'
  | 'INVALID_STATE'
  /** Host failure drills: only on simulated hosts (ha/power-drill.ts). */
  | 'SIMULATION_ONLY';

export class FabricError extends CoreError<FabricErrorCode> {
  readonly module = 'fabric';
}
