import type { MeasuredLoad, RebalanceMove, RebalancePlan } from '../placement/rebalance';

export type RecommendationState = 'pending' | 'applied' | 'failed' | 'superseded';
export type RoundSource = 'schedule' | 'manual';

export interface RebalanceRoundRow {
  readonly id: string;
  readonly clusterId: string;
  readonly slot: Date;
  readonly at: Date;
  readonly source: RoundSource;
  readonly mode: string;
  readonly goal: string;
  readonly triggered: boolean;
  readonly roundsTriggered: number;
  readonly acting: boolean;
  readonly imbalanceBefore: number;
  readonly imbalanceAfter: number;
  readonly summary: string;
  /** The plan without its moves (those are the recommendations). */
  readonly plan: Omit<RebalancePlan, 'moves'>;
}

export interface RecommendationRow {
  readonly id: string;
  readonly roundId: string;
  readonly clusterId: string;
  readonly position: number;
  readonly vmId: string;
  readonly vmName: string;
  readonly fromHostId: string;
  readonly toHostId: string;
  readonly state: RecommendationState;
  readonly whatIf: RebalanceMove;
  readonly taskId: string | null;
  readonly detail: string;
  readonly createdAt: Date;
}

/** What the rebalancer reads and writes besides placement's snapshot. */
export interface RebalanceRepository {
  /** Every cluster with its stored settings JSON (unparsed). */
  clusters(): Promise<{ id: string; name: string; settings: unknown }[]>;
  /** The cluster's stored settings JSON; null when there is no such cluster. */
  settings(clusterId: string): Promise<{ name: string; settings: unknown } | null>;
  saveSettings(clusterId: string, settings: unknown): Promise<void>;
  /** Power state of the cluster's placed VMs, and the clock of each host's logical processors (MHz). */
  vmStates(clusterId: string): Promise<Map<string, string>>;
  hostCpuMhz(clusterId: string): Promise<Record<string, number>>;
  /** Each VM's measured average CPU (MHz) and memory (MiB) over samples taken at or after `since`. */
  measuredLoad(clusterId: string, since: Date): Promise<Map<string, MeasuredLoad>>;
  /** The newest round of the cluster (of any source), or of one source. */
  lastRound(clusterId: string, source?: RoundSource): Promise<RebalanceRoundRow | null>;
  /**
   * Writes the round and its recommendations in one transaction and supersedes
   * the cluster's earlier pending ones. False (nothing written) when the
   * cluster already has a round in that slot: another process ran it.
   */
  saveRound(round: RebalanceRoundRow, recommendations: readonly RecommendationRow[]): Promise<boolean>;
  rounds(clusterId: string, limit: number): Promise<RebalanceRoundRow[]>;
  /** The cluster's recommendations of its latest rounds, newest round first, in plan order. */
  recommendations(clusterId: string, limit: number): Promise<RecommendationRow[]>;
  /** One round's recommendations in plan order. */
  roundRecommendations(roundId: string): Promise<RecommendationRow[]>;
  findRecommendation(id: string): Promise<RecommendationRow | null>;
  /** Compare-and-set from pending: false when it was no longer pending (applied twice at once). */
  claimRecommendation(id: string): Promise<boolean>;
  finishRecommendation(
    id: string,
    outcome: { state: RecommendationState; taskId?: string; detail?: string },
  ): Promise<void>;
}
