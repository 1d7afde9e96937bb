/** What the HA page needs of one cluster's N+1 answer (placement.clusterHealth). */
export interface ClusterAbsorbHealth {
  readonly clusterId: string;
  readonly clusterName: string;
  readonly ok: boolean;
  readonly worst: { readonly hostName: string | null; readonly unplaced: readonly unknown[] };
}

/**
 * The "cannot absorb the loss of a host" lines of the HA page: only for the cluster the page shows
 * (its settings card's pick), and only while HA is on there. A cluster with HA off restarts nothing,
 * so "1 HA VM would not restart" about it was a false alarm, and another cluster's line under the
 * selected one read as the selected one's.
 */
export function capacityWarnings(
  health: readonly ClusterAbsorbHealth[],
  selected: { readonly clusterId: string | null; readonly haEnabled: boolean | undefined },
): string[] {
  if (!selected.clusterId || selected.haEnabled !== true) return [];
  return health
    .filter((c) => !c.ok && c.clusterId === selected.clusterId)
    .map((c) => {
      const n = c.worst.unplaced.length;
      return `${c.clusterName} cannot absorb the loss of ${c.worst.hostName ?? 'a host'}: ${n} HA ${n === 1 ? 'VM' : 'VMs'} would not restart.`;
    });
}
