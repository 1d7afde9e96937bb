import type { ClusterSnapshot } from './snapshot';
import type { VmOnHost } from './what-if';

/**
 * What placement reads of the fabric: cluster snapshots and the VMs placed
 * in them. Used by VM creation (under the cluster's lock) and by the what-if
 * questions (N+1, evacuation, a batch), which commit nothing.
 */
export interface PlacementStore {
  /** Every VM placed in the cluster, as the request that would place it again. */
  vmsInCluster(clusterId: string): Promise<VmOnHost[]>;
  /** The cluster a host belongs to. */
  clusterOfHost(hostId: string): Promise<string | null>;
  /** Every cluster VMs may be placed in, the most promising for `memoryMiB` first. */
  placementClusters(memoryMiB?: number): Promise<{ id: string; name: string }[]>;
  /** Locks the cluster until commit: placements in one cluster happen one at a time. */
  lockCluster(clusterId: string): Promise<void>;
  clusterSnapshot(clusterId: string): Promise<ClusterSnapshot>;
}
