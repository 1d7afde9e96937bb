import { CoreError } from '../shared/errors';

export type RebalanceErrorCode =
  | 'REBALANCE_CLUSTER_NOT_FOUND'
  | 'REBALANCE_RECOMMENDATION_NOT_FOUND'
  /** Applying a recommendation was refused: stale, already applied, or the migration's own refusal (in the message). */
  | 'REBALANCE_RECOMMENDATION_REFUSED'
  /** Two rounds of one cluster written in the same millisecond. */
  | 'REBALANCE_ROUND_BUSY';

export class RebalanceError extends CoreError<RebalanceErrorCode> {
  readonly module = 'rebalance';
}
