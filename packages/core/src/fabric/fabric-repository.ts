import type { HostChangeEvent, HostDetail, HostRow, ListHostsInput, Overview, TokenView } from './fabric.schema';
import type { HostState } from './host-state';
import type { HostInventory } from './inventory.schema';

export interface ClusterRecord {
  id: string;
  name: string;
  description: string;
  maxHosts: number;
  maxVms: number;
  placementPolicy: 'balance' | 'pack';
  cpuOvercommitRatio: number;
  createdAt: Date;
}

export interface TokenRecord {
  id: string;
  clusterId: string;
  expiresAt: Date;
  usedAt: Date | null;
  usedByHostId: string | null;
  revokedAt: Date | null;
}

export interface HostRecord {
  id: string;
  name: string;
  clusterId: string;
  state: HostState;
  lastHeartbeatAt: Date | null;
  registeredAt: Date;
  inventoryHash: string;
}

export interface NewHost {
  clusterId: string;
  agentVersion: string;
  driver: string;
  inventory: HostInventory;
  inventoryHash: string;
  credentialSecretHash: string;
  registrationRequestId: string | null;
  at: Date;
}

/**
 * Fabric inventory storage. Methods that must see a consistent picture inside
 * a transaction say so (`…ForUpdate` locks the row until commit).
 */
export interface FabricRepository {
  findClusterById(id: string): Promise<ClusterRecord | null>;
  findClusterByName(name: string): Promise<ClusterRecord | null>;
  /** Locks the cluster row so concurrent registrations count its hosts one at a time. */
  findClusterByIdForUpdate(id: string): Promise<ClusterRecord | null>;
  createCluster(
    data: Omit<ClusterRecord, 'id' | 'createdAt' | 'placementPolicy' | 'cpuOvercommitRatio'>,
  ): Promise<ClusterRecord>;
  listClusters(): Promise<(ClusterRecord & { hostCount: number })[]>;
  countHosts(clusterId: string): Promise<number>;

  createToken(data: {
    clusterId: string;
    tokenHash: string;
    prefix: string;
    label: string;
    expiresAt: Date;
    createdById: string;
  }): Promise<{ id: string }>;
  findTokenByHashForUpdate(tokenHash: string): Promise<TokenRecord | null>;
  findTokenById(id: string): Promise<TokenRecord | null>;
  markTokenUsed(id: string, hostId: string, at: Date): Promise<void>;
  revokeToken(id: string, at: Date): Promise<void>;
  listTokens(clusterId: string): Promise<Omit<TokenView, 'status'>[]>;

  findHostByName(name: string): Promise<HostRecord | null>;
  findHostById(id: string): Promise<HostRecord | null>;
  createHost(host: NewHost): Promise<HostRecord>;
  /** The registration attempt id the host was created with (see RegisterRequest.requestId). */
  findRegistrationRequestId(hostId: string): Promise<string | null>;
  /** Replaces the host's credential secret: the previous credential stops working. */
  rotateCredential(hostId: string, secretHash: string, at: Date): Promise<void>;
  /** The host and the hash of its credential's secret, in one read (the agent hot path). */
  findHostCredential(hostId: string): Promise<{ secretHash: string; host: HostRecord } | null>;
  /**
   * Records `seq` as the host's latest message when it is above the last one
   * and returns the host, or returns null for a replay. Atomic.
   */
  acceptSeq(hostId: string, seq: number): Promise<HostRecord | null>;
  /** Records a sign of life that came with another message (already sequence-checked). */
  markSeen(hostId: string, at: Date, agentVersion: string): Promise<void>;
  replaceInventory(
    hostId: string,
    agentVersion: string,
    inventory: HostInventory,
    inventoryHash: string,
    at: Date,
  ): Promise<void>;
  /**
   * Compare-and-set: moves the host from `from` to `to` only if it is still in
   * `from` (and, with `silentBefore`, still silent since before that time).
   * False when a concurrent change (a heartbeat, an admin) got there first.
   */
  setState(change: {
    hostId: string;
    from: HostState;
    to: HostState;
    at: Date;
    maintenanceReason: string | null;
    silentBefore?: Date;
  }): Promise<boolean>;
  deleteHost(hostId: string): Promise<void>;
  countVmsOnHost(hostId: string): Promise<number>;
  /** Hosts in `states` whose last sign of life (heartbeat, else registration) is before `cutoff`. */
  findSilentHosts(states: HostState[], cutoff: Date): Promise<HostRecord[]>;
  listHosts(query: ListHostsInput): Promise<{ rows: HostRow[]; total: number }>;
  getHostDetail(id: string): Promise<Omit<HostDetail, 'events'> | null>;
  overview(): Promise<Overview>;

  setPlacementPolicy(clusterId: string, policy: 'balance' | 'pack', cpuOvercommitRatio: number): Promise<void>;
  setDedication(hostId: string, tenantId: string | null): Promise<void>;
  tenantExists(tenantId: string): Promise<boolean>;
  /** Tells every API process about a host change, on commit (Postgres NOTIFY). */
  notifyHostChange(event: HostChangeEvent): Promise<void>;
  /** Takes a transaction-scoped lock; false when another transaction holds it. */
  tryLock(name: string): Promise<boolean>;
}
