import { hostStateFilter } from '../placement/filters/host-state';
import { storageFilter } from '../placement/filters/storage';
import { tenantDedicationFilter } from '../placement/filters/tenant-dedication';
import { place } from '../placement/place';
import type { PlacementStore } from '../placement/placement-store';
import type { PlacementProfile } from '../placement/profiles';
import { ReplicationError } from './replication.errors';
import type { Authorization } from './replication-repository';

/**
 * A replica VM is off: it takes storage, not memory or CPU. Its profile runs
 * the host-state, tenant-dedication and storage filters only (the request's
 * nominal 1 vCPU / 1 MiB are checked by no filter).
 */
export const replicaProfile: PlacementProfile = {
  name: 'balance',
  filters: [hostStateFilter, tenantDedicationFilter, storageFilter],
  scorers: [],
  candidateOrder: 'emptiest-first',
};

export interface ReplicaSource {
  readonly tenantId: string;
  readonly vmName: string;
  readonly primaryClusterId: string;
  readonly primaryHostId: string;
  readonly disks: readonly { readonly name: string; readonly sizeBytes: number }[];
}

/** The authorizations that let `source` replicate to `hostId` of `clusterId` (the host's own, then the cluster's). */
export function authorizationsFor(
  all: readonly Authorization[],
  source: Pick<ReplicaSource, 'tenantId' | 'primaryClusterId'>,
  clusterId: string,
  hostId: string | null,
): Authorization[] {
  return all.filter(
    (a) =>
      a.replicaClusterId === clusterId &&
      (a.replicaHostId === null || hostId === null || a.replicaHostId === hostId) &&
      (a.tenantId === null || a.tenantId === source.tenantId) &&
      (a.primaryClusterId === null || a.primaryClusterId === source.primaryClusterId),
  );
}

/**
 * The broker: picks the replica host of a target cluster through the
 * placement engine. A replica VM is off, so it asks for storage only (no
 * vCPUs, no memory): the hosts the tenant and primary cluster are authorized
 * for, with room for the disks in the authorized pool.
 */
export async function brokerPick(
  store: PlacementStore,
  authorizations: readonly Authorization[],
  source: ReplicaSource,
  clusterId: string,
): Promise<{ hostId: string; storagePool: string; summary: string }> {
  const allowed = authorizationsFor(authorizations, source, clusterId, null);
  if (allowed.length === 0) {
    throw new ReplicationError(
      'REPLICA_TARGET_NOT_AUTHORIZED',
      'That cluster does not accept replicas of this VM (no authorization for its tenant and primary cluster)',
    );
  }
  const snapshot = await store.clusterSnapshot(clusterId);
  const poolByHost = new Map<string, string>();
  for (const host of snapshot.hosts) {
    if (host.id === source.primaryHostId) continue;
    const auth = allowed.find((a) => a.replicaHostId === host.id) ?? allowed.find((a) => a.replicaHostId === null);
    if (auth) poolByHost.set(host.id, auth.storagePool);
  }
  // Placement per pool: hosts sharing one authorized pool are decided together.
  const pools = [...new Set(poolByHost.values())].sort();
  const reasons: string[] = [];
  for (const pool of pools) {
    const hosts = snapshot.hosts.filter((h) => poolByHost.get(h.id) === pool);
    const decision = place(
      { ...snapshot, hosts },
      {
        name: `${source.vmName} (replica)`,
        tenantId: source.tenantId,
        vcpus: 1,
        memoryMiB: 1,
        disks: source.disks.map((d) => ({ sizeBytes: d.sizeBytes, pool })),
        nics: [],
        groups: [],
        haPriority: 'off',
      },
      { seed: 1, trace: 'summary', profile: replicaProfile },
    );
    if (decision.hostId) return { hostId: decision.hostId, storagePool: pool, summary: decision.summary };
    reasons.push(decision.summary);
  }
  throw new ReplicationError(
    'REPLICA_NO_HOST_FITS',
    `No authorized host of that cluster has room for the replica${reasons.length ? `: ${reasons.join('; ')}` : ''}`,
  );
}
