/**
 * What a VM takes from a host: which pool holds its disks, which NIC carries
 * each minimum-bandwidth reservation, and the host that results. The storage
 * and NIC filters and applyPlacement share these functions, so a host that
 * passes a filter is exactly a host the reservation fits on.
 */
import { formatCount, formatSize, plural } from './format';
import { type Demand, type Rejection, reject } from './plugin';
import type { HostSnapshot, PlacementRequest } from './snapshot';

export interface Assignment {
  /** Storage pool per request disk, in request order. */
  readonly diskPools: readonly string[];
  /** Host NIC per request NIC, in request order; null where the NIC reserves no minimum. */
  readonly nicNames: readonly (string | null)[];
}

/** Shared by every demand whose disks name no pool (most VMs): nothing writes to a demand's maps. */
const NO_NAMED_POOLS: ReadonlyMap<string, number> = new Map();

export function demandOf(request: PlacementRequest): Demand {
  let diskBytesByPool: Map<string, number> | null = null;
  let unpooledDiskBytes = 0;
  for (const disk of request.disks) {
    if (disk.pool === undefined) unpooledDiskBytes += disk.sizeBytes;
    else {
      diskBytesByPool ??= new Map<string, number>();
      diskBytesByPool.set(disk.pool, (diskBytesByPool.get(disk.pool) ?? 0) + disk.sizeBytes);
    }
  }
  // Largest first: the greedy assignment places the hardest reservations while the most room is left.
  // Equal reservations keep request order (determinism): each goes after those at least as large.
  const nicMinimums: { index: number; mbps: number }[] = [];
  for (let index = 0; index < request.nics.length; index++) {
    const mbps = request.nics[index]?.minBandwidthMbps ?? 0;
    if (!(mbps > 0)) continue;
    let at = nicMinimums.length;
    while (at > 0 && (nicMinimums[at - 1]?.mbps ?? 0) < mbps) at--;
    nicMinimums.splice(at, 0, { index, mbps });
  }
  // Loops, not filter/map/Set: this runs once per decision.
  const hardAffinity: string[] = [];
  const hardAntiAffinity: string[] = [];
  const softAffinity: string[] = [];
  const softAntiAffinity: string[] = [];
  for (const group of request.groups) {
    const names = groupList(group, hardAffinity, softAffinity, hardAntiAffinity, softAntiAffinity);
    if (names && !names.includes(group.name)) names.push(group.name);
  }
  return {
    diskBytesByPool: diskBytesByPool ?? NO_NAMED_POOLS,
    unpooledDiskBytes,
    nicMinimums,
    hardAffinity,
    hardAntiAffinity,
    softAffinity,
    softAntiAffinity,
  };
}

/** Which of demandOf's four lists a membership belongs to (none for a kind or hardness it does not know). */
function groupList(
  group: PlacementRequest['groups'][number],
  hardAffinity: string[],
  softAffinity: string[],
  hardAntiAffinity: string[],
  softAntiAffinity: string[],
): string[] | null {
  if (group.kind === 'affinity') return group.hard === true ? hardAffinity : group.hard === false ? softAffinity : null;
  if (group.kind === 'anti-affinity') {
    return group.hard === true ? hardAntiAffinity : group.hard === false ? softAntiAffinity : null;
  }
  return null;
}

/**
 * Named disks go to their pool; the unnamed ones go together to the pool with
 * the most room left after the named ones (ties: the host's pool order).
 */
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
  // Guards and loops rather than an iterator and a closure per call: the storage filter runs this per host.
  if (demand.diskBytesByPool.size > 0) return assignNamedThenRest(pools, request, demand, explain);
  return assignUnpooled(pools, request, demand, explain);
}

function assignNamedThenRest(
  pools: HostSnapshot['storagePools'],
  request: PlacementRequest,
  demand: Demand,
  explain: boolean,
): { ok: true; unpooledPool: string | null } | Rejection {
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
  return assignUnpooled(pools, request, demand, explain);
}

function assignUnpooled(
  pools: HostSnapshot['storagePools'],
  request: PlacementRequest,
  demand: Demand,
  explain: boolean,
): { ok: true; unpooledPool: string | null } | Rejection {
  let unpooledDisks = false;
  for (const d of request.disks) if (d.pool === undefined) unpooledDisks = true;
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

/**
 * Greedy, most-free NIC first (ties: the host's NIC order), largest
 * reservation first. Admission keeps every NIC's sum of minimums within its
 * link speed. Greedy may refuse a set that a cleverer assignment would fit;
 * it never admits one that does not fit.
 */
export function assignNics(
  host: HostSnapshot,
  demand: Demand,
  explain = true,
): { ok: true; nicIndexes: readonly (number | null)[] } | Rejection {
  const nicIndexes: (number | null)[] = [];
  if (demand.nicMinimums.length === 0) return { ok: true, nicIndexes };
  const nics = host.nics;
  const totalMbps = demand.nicMinimums.reduce((sum, n) => sum + n.mbps, 0);
  if (nics.length === 0) {
    return reject(explain, 'NIC_MISSING', () => 'host has no NIC for a minimum-bandwidth reservation', {
      neededMbps: totalMbps,
    });
  }
  const freeMbps = nics.map((nic) => nic.linkSpeedMbps - nic.reservedMinMbps);
  for (const { index, mbps } of demand.nicMinimums) {
    let best = 0;
    for (let i = 1; i < freeMbps.length; i++) if ((freeMbps[i] ?? 0) > (freeMbps[best] ?? 0)) best = i;
    const bestFree = freeMbps[best] ?? 0;
    if (mbps > bestFree) {
      return reject(
        explain,
        'NIC_BANDWIDTH_SHORT',
        () =>
          `no NIC can reserve ${formatCount(mbps)} Mbps minimum (most free: ${formatCount(Math.max(0, bestFree))} Mbps on ${nics[best]?.name ?? '?'}; ${plural(demand.nicMinimums.length, 'reservation', 'reservations')}, ${formatCount(totalMbps)} Mbps in all)`,
        { neededMbps: mbps, freeMbps: bestFree, totalNeededMbps: totalMbps },
      );
    }
    freeMbps[best] = bestFree - mbps;
    nicIndexes[index] = best;
  }
  return { ok: true, nicIndexes };
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

/** Bytes of the request's disks that `assignment` puts on `pool` (summed in disk order); undefined when none goes there. */
function bytesOnPool(request: PlacementRequest, assignment: Assignment, pool: string): number | undefined {
  let bytes: number | undefined;
  const disks = request.disks;
  for (let i = 0; i < disks.length; i++) {
    if ((assignment.diskPools[i] ?? '') === pool) bytes = (bytes ?? 0) + (disks[i]?.sizeBytes ?? 0);
  }
  return bytes;
}

/** Mbps of the request's minimums that `assignment` puts on `nic`; undefined when none goes there. */
function mbpsOnNic(request: PlacementRequest, assignment: Assignment, nic: string): number | undefined {
  let mbps: number | undefined;
  const nics = request.nics;
  for (let i = 0; i < nics.length; i++) {
    const name = assignment.nicNames[i];
    if (name && name === nic) mbps = (mbps ?? 0) + (nics[i]?.minBandwidthMbps ?? 0);
  }
  return mbps;
}

/** Whether any request NIC is assigned to a host NIC (a reservation to book, even of 0 Mbps). */
function anyNicAssigned(request: PlacementRequest, assignment: Assignment): boolean {
  for (let i = 0; i < request.nics.length; i++) if (assignment.nicNames[i]) return true;
  return false;
}

/**
 * A new host with the VM's reservation added; the input is not touched (snapshots are shared).
 * Loops rather than maps and closures: the placement session books every VM it places through here.
 */
export function reserveOnHost(host: HostSnapshot, request: PlacementRequest, assignment: Assignment): HostSnapshot {
  let groups = host.groups;
  if (request.groups.length > 0) {
    for (const name of new Set(request.groups.map((g) => g.name))) {
      // A computed key in a literal defines an own property even for "__proto__".
      groups = { ...groups, [name]: (Object.hasOwn(groups, name) ? (groups[name] ?? 0) : 0) + 1 };
    }
  }
  let storagePools = host.storagePools;
  if (request.disks.length > 0) {
    storagePools = host.storagePools.map((p) => {
      const bytes = bytesOnPool(request, assignment, p.name);
      return bytes === undefined ? p : { ...p, allocatedBytes: p.allocatedBytes + bytes };
    });
  }
  let nics = host.nics;
  if (anyNicAssigned(request, assignment)) {
    nics = host.nics.map((n) => {
      const mbps = mbpsOnNic(request, assignment, n.name);
      return mbps === undefined ? n : { ...n, reservedMinMbps: n.reservedMinMbps + mbps };
    });
  }
  return {
    ...host,
    allocated: {
      vcpus: host.allocated.vcpus + request.vcpus,
      memoryMiB: host.allocated.memoryMiB + request.memoryMiB,
      vmCount: host.allocated.vmCount + 1,
    },
    storagePools,
    nics,
    groups,
  };
}

/** A new host with the VM's reservation taken off (the inverse of reserveOnHost); the input is not touched. */
export function releaseFromHost(host: HostSnapshot, request: PlacementRequest, assignment: Assignment): HostSnapshot {
  let groups = host.groups;
  if (request.groups.length > 0) {
    for (const name of new Set(request.groups.map((g) => g.name))) {
      const count = (Object.hasOwn(groups, name) ? (groups[name] ?? 0) : 0) - 1;
      const { [name]: _gone, ...rest } = groups;
      groups = count > 0 ? { ...rest, [name]: count } : rest;
    }
  }
  let storagePools = host.storagePools;
  if (request.disks.length > 0) {
    storagePools = host.storagePools.map((p) => {
      const bytes = bytesOnPool(request, assignment, p.name);
      return bytes === undefined ? p : { ...p, allocatedBytes: Math.max(0, p.allocatedBytes - bytes) };
    });
  }
  let nics = host.nics;
  if (anyNicAssigned(request, assignment)) {
    nics = host.nics.map((n) => {
      const mbps = mbpsOnNic(request, assignment, n.name);
      return mbps === undefined ? n : { ...n, reservedMinMbps: Math.max(0, n.reservedMinMbps - mbps) };
    });
  }
  return {
    ...host,
    allocated: {
      vcpus: host.allocated.vcpus - request.vcpus,
      memoryMiB: host.allocated.memoryMiB - request.memoryMiB,
      vmCount: host.allocated.vmCount - 1,
    },
    storagePools,
    nics,
    groups,
  };
}
