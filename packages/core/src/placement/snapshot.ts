/**
 * The immutable picture of one cluster that placement decides over. The API
 * builds it from Postgres; the engine never reads anything else (no clock, no
 * I/O), so a decision can be replayed from the snapshot, the request and the
 * seed kept with it.
 */
import { HYPERV_LIMITS } from '../shared/limits';

export type HostState = 'connected' | 'suspect' | 'failed' | 'maintenance';
export type PlacementPolicy = 'balance' | 'pack';
export type HaPriority = 'high' | 'medium' | 'low' | 'off';

export interface StoragePoolSnapshot {
  readonly name: string;
  readonly capacityBytes: number;
  readonly allocatedBytes: number;
  /** 'csv' (a Cluster Shared Volume), 'smb' (a file share), 'local', …; absent when unknown. */
  readonly kind?: string;
}

export interface HostNicSnapshot {
  readonly name: string;
  readonly linkSpeedMbps: number;
  /** Sum of the absolute minimum-bandwidth reservations already admitted on this NIC. */
  readonly reservedMinMbps: number;
}

export interface HostSnapshot {
  readonly id: string;
  readonly name: string;
  readonly clusterId: string;
  readonly state: HostState;
  readonly logicalProcessors: number;
  readonly memoryMiB: number;
  /** Memory is split evenly across NUMA nodes. */
  readonly numaNodes: number;
  /** The parent partition's reserve: never usable by VMs. */
  readonly reservedMemoryMiB: number;
  /** What placed VMs reserve; a Dynamic Memory VM reserves its startup memory. */
  readonly allocated: { readonly vcpus: number; readonly memoryMiB: number; readonly vmCount: number };
  readonly storagePools: readonly StoragePoolSnapshot[];
  readonly nics: readonly HostNicSnapshot[];
  /** A host dedicated to one tenant takes only that tenant's VMs. */
  readonly dedicatedTenantId: string | null;
  /** Affinity group name → number of VMs of that group on this host. */
  readonly groups: Readonly<Record<string, number>>;
}

export interface ClusterSnapshot {
  readonly id: string;
  readonly name: string;
  readonly maxVms: number;
  readonly vmCount: number;
  /** vCPU : logical processor. */
  readonly cpuOvercommitRatio: number;
  readonly policy: PlacementPolicy;
  readonly hosts: readonly HostSnapshot[];
}

export interface GroupMembership {
  readonly name: string;
  readonly kind: 'affinity' | 'anti-affinity';
  /** Hard groups filter hosts out; soft groups only score. */
  readonly hard: boolean;
}

export interface PlacementRequest {
  readonly vmId?: string;
  readonly name: string;
  readonly tenantId: string;
  readonly vcpus: number;
  /** Static memory, or Dynamic Memory's startup memory (what the host must hold at boot). */
  readonly memoryMiB: number;
  /** `pool` names a storage pool; without it, any one pool with room takes the VM's unnamed disks. */
  readonly disks: readonly { readonly sizeBytes: number; readonly pool?: string }[];
  /** Absolute minimum-bandwidth reservations; relative weights are not admission-controlled. */
  readonly nics: readonly { readonly minBandwidthMbps?: number }[];
  readonly groups: readonly GroupMembership[];
  readonly haPriority: HaPriority;
  /** Where a replicated VM's Hyper-V Replica copy is; absent for a VM not replicated (or not created yet). */
  readonly replica?: ReplicaPlacement;
}

/**
 * A primary beside its own replica is protected against nothing: placement keeps a replicated VM off the host
 * that holds its replica and out of that host's cluster (filters/replica-separation.ts), the rule
 * replication's enable applies from the other side. Moving there is a failover, not a migration.
 */
export interface ReplicaPlacement {
  readonly hostId: string;
  readonly clusterId: string;
  /**
   * The cluster the VM runs in now (the VM's, not the relationship's record of it at enable). When it is
   * the replica's cluster already (a failed-over VM, or a move made before this rule), moves within it
   * only avoid the replica's host: the VM can still be evacuated and restarted.
   */
  readonly primaryClusterId: string;
}

export const PLACEMENT_DEFAULTS = {
  hostReservedMemoryMiB: 2048,
  cpuOvercommitRatio: 4.0,
  maxVmsPerCluster: HYPERV_LIMITS.vmsPerCluster,
  maxVmsPerHost: HYPERV_LIMITS.vmsPerHost,
} as const;

/** Memory VMs may use on a host: physical memory less the parent partition's reserve. */
export function usableMemoryMiB(host: HostSnapshot): number {
  return host.memoryMiB - host.reservedMemoryMiB;
}

/** Memory still free for VMs; negative when a host is over-reserved (reserve raised after placement). */
export function freeMemoryMiB(host: HostSnapshot): number {
  return host.memoryMiB - host.reservedMemoryMiB - host.allocated.memoryMiB;
}

/** vCPUs the host may carry under the cluster's overcommit ratio (a float: 3 LPs × 1.5 = 4.5). */
export function vcpuCapacity(host: HostSnapshot, cpuOvercommitRatio: number): number {
  return host.logicalProcessors * cpuOvercommitRatio;
}

/**
 * VMs of `group` on `host`. `groups` comes from user data, so a group named
 * "constructor" must not read Object.prototype.
 */
export function groupCount(host: HostSnapshot, group: string): number {
  return Object.hasOwn(host.groups, group) ? (host.groups[group] ?? 0) : 0;
}
