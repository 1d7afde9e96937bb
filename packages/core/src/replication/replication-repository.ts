import type { TenantScope } from '../shared/tenant-scope';
import type { PointQuiesce } from './replica-agent-port';
import type { Health, InitialMode, ReplicationState } from './replication.schema';

export interface DiskChecksum {
  readonly name: string;
  readonly sha256: string;
}

export interface Relationship {
  readonly id: string;
  readonly tenantId: string;
  readonly vmId: string;
  readonly vmName: string;
  readonly primaryClusterId: string;
  readonly primaryHostId: string;
  readonly targetKind: 'host' | 'cluster';
  readonly replicaClusterId: string;
  readonly replicaHostId: string;
  readonly storagePool: string;
  readonly frequencySeconds: number;
  readonly additionalPoints: number;
  readonly appConsistentHours: number | null;
  readonly initialMode: InitialMode;
  readonly initialAt: Date | null;
  readonly compression: boolean;
  readonly state: ReplicationState;
  readonly stateReason: string;
  readonly health: Health;
  readonly healthDueAt: Date | null;
  readonly generation: number;
  readonly failoverPointId: string | null;
  readonly testVmId: string | null;
  readonly nextCycleSeq: number;
  readonly nextDueAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastPointAt: Date | null;
  readonly lastAppConsistentAt: Date | null;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export type NewRelationship = Omit<
  Relationship,
  | 'health'
  | 'healthDueAt'
  | 'generation'
  | 'failoverPointId'
  | 'testVmId'
  | 'nextCycleSeq'
  | 'lastSuccessAt'
  | 'lastPointAt'
  | 'lastAppConsistentAt'
>;

export type RelationshipPatch = Partial<
  Pick<
    Relationship,
    | 'state'
    | 'stateReason'
    | 'health'
    | 'healthDueAt'
    | 'generation'
    | 'failoverPointId'
    | 'testVmId'
    | 'nextCycleSeq'
    | 'nextDueAt'
    | 'lastSuccessAt'
    | 'lastPointAt'
    | 'lastAppConsistentAt'
    | 'primaryClusterId'
    | 'primaryHostId'
    | 'replicaClusterId'
    | 'replicaHostId'
  >
>;

export interface RecoveryPoint {
  readonly id: string;
  readonly relationshipId: string;
  readonly tenantId: string;
  readonly generation: number;
  readonly takenAt: Date;
  readonly kind: 'standard' | 'app-consistent';
  readonly checksums: readonly DiskChecksum[];
  readonly sizeBytes: number;
  readonly guestWriteSeq: number | null;
  /** The guest's quiesce for an application-consistent point (a failed one leaves a standard point); null: none asked. */
  readonly quiesce: PointQuiesce | null;
  readonly removedAt: Date | null;
}

export type CycleMode = 'initial' | 'delta' | 'resync' | 'final';
export type CycleState = 'running' | 'succeeded' | 'failed' | 'missed';

export interface Cycle {
  readonly id: string;
  readonly relationshipId: string;
  readonly tenantId: string;
  readonly generation: number;
  readonly seq: number;
  readonly mode: CycleMode;
  readonly state: CycleState;
  readonly dueAt: Date;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly latenessMs: number;
  readonly durationMs: number | null;
  readonly bytesSent: number;
  readonly bytesLogical: number;
  readonly pointId: string | null;
  readonly checksums: readonly DiskChecksum[];
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export type CyclePatch = Partial<
  Pick<
    Cycle,
    | 'state'
    | 'finishedAt'
    | 'durationMs'
    | 'bytesSent'
    | 'bytesLogical'
    | 'pointId'
    | 'checksums'
    | 'errorCode'
    | 'errorMessage'
  >
>;

export interface Authorization {
  readonly id: string;
  readonly replicaClusterId: string;
  readonly replicaHostId: string | null;
  readonly tenantId: string | null;
  readonly primaryClusterId: string | null;
  readonly storagePool: string;
  readonly createdBy: string;
  readonly createdAt: Date;
}

/** What replication reads about a VM. */
export interface ReplicatedVm {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly state: string;
  readonly hostId: string | null;
  readonly clusterId: string | null;
  readonly ownerEpoch: number;
  readonly disks: readonly { readonly name: string; readonly sizeBytes: number }[];
}

export interface HostInfo {
  readonly id: string;
  readonly name: string;
  readonly clusterId: string;
  readonly state: string;
  /** The agent's peer listener (agent-to-agent block transfer), when it reported one. */
  readonly peerUrl: string | null;
}

/**
 * Replication's storage. Reads take the caller's scope (another tenant's
 * relationship is not found); writes are by id, after a scoped read.
 */
export interface ReplicationRepository {
  findVm(scope: TenantScope, vmId: string): Promise<ReplicatedVm | null>;
  findHost(hostId: string): Promise<HostInfo | null>;
  clusterExists(clusterId: string): Promise<boolean>;

  createRelationship(row: NewRelationship): Promise<Relationship>;
  findRelationship(scope: TenantScope, id: string): Promise<Relationship | null>;
  findRelationshipByVm(scope: TenantScope, vmId: string): Promise<Relationship | null>;
  listRelationships(scope: TenantScope, limit: number): Promise<Relationship[]>;
  /** Compare-and-set on `state` (when given): false when the state moved. */
  updateRelationship(id: string, patch: RelationshipPatch, expectState?: ReplicationState): Promise<boolean>;
  deleteRelationship(id: string): Promise<void>;
  /** Relationships whose next cycle is due at `now` (index on next_due_at), oldest first. */
  dueForCycle(now: Date, limit: number): Promise<Relationship[]>;
  /**
   * Relationships whose VM is gone (deleted) and that are not being removed: a delete whose replica cleanup
   * never started (the API died in between). At most `limit`.
   */
  withoutVm(limit: number): Promise<Relationship[]>;
  /** Relationships in state `removing`, at most `limit`. */
  removing(limit: number): Promise<Relationship[]>;
  /** Relationships whose health must be evaluated again at `now` (index on health_due_at). */
  dueForHealth(now: Date, limit: number): Promise<Relationship[]>;

  /** Inserts the cycle unless (relationship, generation, seq) exists; returns the stored one. */
  createCycle(
    cycle: Omit<
      Cycle,
      | 'finishedAt'
      | 'durationMs'
      | 'bytesSent'
      | 'bytesLogical'
      | 'pointId'
      | 'checksums'
      | 'errorCode'
      | 'errorMessage'
    >,
  ): Promise<Cycle>;
  updateCycle(id: string, patch: CyclePatch): Promise<void>;
  runningCycle(relationshipId: string): Promise<Cycle | null>;
  listCycles(scope: TenantScope, relationshipId: string, since: Date, limit: number): Promise<Cycle[]>;
  /** Times of cycles missed or failed since `since`, per relationship. */
  missesSince(relationshipIds: readonly string[], since: Date): Promise<Map<string, number[]>>;

  /** Idempotent on id. */
  createPoint(point: Omit<RecoveryPoint, 'removedAt'>): Promise<void>;
  listPoints(scope: TenantScope, relationshipId: string, includeRemoved?: boolean): Promise<RecoveryPoint[]>;
  findPoint(scope: TenantScope, relationshipId: string, pointId: string): Promise<RecoveryPoint | null>;
  removePoints(ids: readonly string[], at: Date): Promise<void>;
  /** Points of relationships in scope taken in [from, to) (and the one before `from`), for RPO compliance. */
  pointTimes(scope: TenantScope, from: Date, to: Date): Promise<Map<string, number[]>>;

  /** Bytes sent by cycles per UTC hour since `since` (bandwidth use). */
  bytesPerHour(since: Date): Promise<{ hour: string; bytesSent: number; bytesLogical: number; cycles: number }[]>;

  listAuthorizations(filter?: { replicaClusterId?: string }): Promise<Authorization[]>;
  createAuthorization(row: Omit<Authorization, 'createdAt'>): Promise<Authorization>;
  deleteAuthorization(id: string): Promise<boolean>;
}
