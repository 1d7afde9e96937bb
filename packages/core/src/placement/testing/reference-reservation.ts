/**
 * demandOf, assign, assignStorage, reserveOnHost and releaseFromHost as they
 * were before reservation.ts lost its per-call maps and closures (commit
 * 9981cb5, unchanged): the reference session (reference-session.ts) books
 * with these, and session.differential.test.ts compares them with the
 * rewritten ones directly.
 */
import { formatSize } from '../format';
import { type Demand, type Rejection, reject } from '../plugin';
import { type Assignment, assignNics } from '../reservation';
import type { HostSnapshot, PlacementRequest } from '../snapshot';

export function demandOf(request: PlacementRequest): Demand {
  const diskBytesByPool = new Map<string, number>();
  let unpooledDiskBytes = 0;
  for (const disk of request.disks) {
    if (disk.pool === undefined) unpooledDiskBytes += disk.sizeBytes;
    else diskBytesByPool.set(disk.pool, (diskBytesByPool.get(disk.pool) ?? 0) + disk.sizeBytes);
  }
  const nicMinimums = request.nics
    .map((nic, index) => ({ index, mbps: nic.minBandwidthMbps ?? 0 }))
    .filter((n) => n.mbps > 0)
    // Largest first: the greedy assignment places the hardest reservations while the most room is left.
    // Array.prototype.sort is stable, so equal reservations keep request order (determinism).
    .sort((a, b) => b.mbps - a.mbps);
  const names = (kind: 'affinity' | 'anti-affinity', hard: boolean) => [
    ...new Set(request.groups.filter((g) => g.kind === kind && g.hard === hard).map((g) => g.name)),
  ];
  return {
    diskBytesByPool,
    unpooledDiskBytes,
    nicMinimums,
    hardAffinity: names('affinity', true),
    hardAntiAffinity: names('anti-affinity', true),
    softAffinity: names('affinity', false),
    softAntiAffinity: names('anti-affinity', false),
  };
}

/** The assignment for a host that passed the filters; null when the storage or NIC reservation does not fit. */
export function assign(host: HostSnapshot, request: PlacementRequest, demand: Demand): Assignment | null {
  const storage = assignStorage(host, request, demand);
  const nics = assignNics(host, demand);
  if (!storage.ok || !nics.ok) return null;
  return {
    diskPools: request.disks.map((d) => d.pool ?? storage.unpooledPool ?? ''),
    nicNames: request.nics.map((_, i) => {
      const nicIndex = nics.nicIndexes[i];
      return nicIndex === undefined || nicIndex === null ? null : (host.nics[nicIndex]?.name ?? null);
    }),
  };
}

/** A new host with the VM's reservation added; the input is not touched (snapshots are shared). */
export function reserveOnHost(host: HostSnapshot, request: PlacementRequest, assignment: Assignment): HostSnapshot {
  const poolBytes = new Map<string, number>();
  request.disks.forEach((disk, i) => {
    const pool = assignment.diskPools[i] ?? '';
    poolBytes.set(pool, (poolBytes.get(pool) ?? 0) + disk.sizeBytes);
  });
  const nicMbps = new Map<string, number>();
  request.nics.forEach((nic, i) => {
    const name = assignment.nicNames[i];
    if (name) nicMbps.set(name, (nicMbps.get(name) ?? 0) + (nic.minBandwidthMbps ?? 0));
  });
  let groups = host.groups;
  for (const name of new Set(request.groups.map((g) => g.name))) {
    // A computed key in a literal defines an own property even for "__proto__".
    groups = { ...groups, [name]: (Object.hasOwn(groups, name) ? (groups[name] ?? 0) : 0) + 1 };
  }
  return {
    ...host,
    allocated: {
      vcpus: host.allocated.vcpus + request.vcpus,
      memoryMiB: host.allocated.memoryMiB + request.memoryMiB,
      vmCount: host.allocated.vmCount + 1,
    },
    storagePools:
      poolBytes.size === 0
        ? host.storagePools
        : host.storagePools.map((p) => {
            const bytes = poolBytes.get(p.name);
            return bytes === undefined ? p : { ...p, allocatedBytes: p.allocatedBytes + bytes };
          }),
    nics:
      nicMbps.size === 0
        ? host.nics
        : host.nics.map((n) => {
            const mbps = nicMbps.get(n.name);
            return mbps === undefined ? n : { ...n, reservedMinMbps: n.reservedMinMbps + mbps };
          }),
    groups,
  };
}

/** A new host with the VM's reservation taken off (the inverse of reserveOnHost); the input is not touched. */
export function releaseFromHost(host: HostSnapshot, request: PlacementRequest, assignment: Assignment): HostSnapshot {
  const poolBytes = new Map<string, number>();
  request.disks.forEach((disk, i) => {
    const pool = assignment.diskPools[i] ?? '';
    poolBytes.set(pool, (poolBytes.get(pool) ?? 0) + disk.sizeBytes);
  });
  const nicMbps = new Map<string, number>();
  request.nics.forEach((nic, i) => {
    const name = assignment.nicNames[i];
    if (name) nicMbps.set(name, (nicMbps.get(name) ?? 0) + (nic.minBandwidthMbps ?? 0));
  });
  let groups = host.groups;
  for (const name of new Set(request.groups.map((g) => g.name))) {
    const count = (Object.hasOwn(groups, name) ? (groups[name] ?? 0) : 0) - 1;
    const { [name]: _gone, ...rest } = groups;
    groups = count > 0 ? { ...rest, [name]: count } : rest;
  }
  return {
    ...host,
    allocated: {
      vcpus: host.allocated.vcpus - request.vcpus,
      memoryMiB: host.allocated.memoryMiB - request.memoryMiB,
      vmCount: host.allocated.vmCount - 1,
    },
    storagePools:
      poolBytes.size === 0
        ? host.storagePools
        : host.storagePools.map((p) => {
            const bytes = poolBytes.get(p.name);
            return bytes === undefined ? p : { ...p, allocatedBytes: Math.max(0, p.allocatedBytes - bytes) };
          }),
    nics:
      nicMbps.size === 0
        ? host.nics
        : host.nics.map((n) => {
            const mbps = nicMbps.get(n.name);
            return mbps === undefined ? n : { ...n, reservedMinMbps: Math.max(0, n.reservedMinMbps - mbps) };
          }),
    groups,
  };
}

/** Where a disk that names no pool goes first: shared storage every node of a cluster reaches. */
function poolRank(kind: string | undefined): number {
  if (kind === 'csv') return 0;
  if (kind === 'smb') return 1;
  return 2;
}

export function assignStorage(
  host: HostSnapshot,
  request: PlacementRequest,
  demand: Demand,
  explain = true,
): { ok: true; unpooledPool: string | null } | Rejection {
  const pools = host.storagePools;
  for (const [poolName, neededBytes] of demand.diskBytesByPool) {
    const pool = pools.find((p) => p.name === poolName);
    if (!pool) {
      return reject(explain, 'STORAGE_POOL_MISSING', () => `no storage pool named '${poolName}'`, {
        neededBytes,
      });
    }
    const freeBytes = pool.capacityBytes - pool.allocatedBytes;
    if (neededBytes > freeBytes) {
      return reject(
        explain,
        'STORAGE_SHORT',
        () =>
          `pool '${poolName}' short by ${formatSize(neededBytes - freeBytes)} (needs ${formatSize(neededBytes)}, ${formatSize(Math.max(0, freeBytes))} free)`,
        { neededBytes, freeBytes, shortBytes: neededBytes - freeBytes },
      );
    }
  }
  const unpooledDisks = request.disks.some((d) => d.pool === undefined);
  if (!unpooledDisks) return { ok: true, unpooledPool: null };
  const neededBytes = demand.unpooledDiskBytes;
  // Disks that name no pool go to the cluster's shared storage first (a Cluster Shared Volume, then a
  // file share), then to the pool with the most room: a disk on a pool only this host has pins the VM to
  // it (a new user's VMs all landed on the demo's one host with an SMB share, and none could migrate).
  let best: string | null = null;
  let bestFreeBytes = Number.NEGATIVE_INFINITY;
  let bestRank = Number.POSITIVE_INFINITY;
  let roomiest = Number.NEGATIVE_INFINITY;
  for (const pool of pools) {
    const freeBytes = pool.capacityBytes - pool.allocatedBytes - (demand.diskBytesByPool.get(pool.name) ?? 0);
    roomiest = Math.max(roomiest, freeBytes);
    const rank = freeBytes >= neededBytes ? poolRank(pool.kind) : Number.POSITIVE_INFINITY;
    if (best === null || rank < bestRank || (rank === bestRank && freeBytes > bestFreeBytes)) {
      best = pool.name;
      bestFreeBytes = freeBytes;
      bestRank = rank;
    }
  }
  // None fits: the refusal names the roomiest pool's room.
  if (bestRank === Number.POSITIVE_INFINITY) bestFreeBytes = roomiest;
  if (best === null)
    return reject(explain, 'STORAGE_SHORT', () => 'host has no storage pool', { neededBytes, freeBytes: 0 });
  if (neededBytes > bestFreeBytes) {
    return reject(
      explain,
      'STORAGE_SHORT',
      () =>
        `storage short by ${formatSize(neededBytes - bestFreeBytes)} (needs ${formatSize(neededBytes)}, largest pool has ${formatSize(Math.max(0, bestFreeBytes))} free)`,
      { neededBytes, freeBytes: bestFreeBytes, shortBytes: neededBytes - bestFreeBytes },
    );
  }
  return { ok: true, unpooledPool: best };
}
