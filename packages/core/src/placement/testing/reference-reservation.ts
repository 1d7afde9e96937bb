/**
 * demandOf, assign, reserveOnHost and releaseFromHost as they were before
 * reservation.ts lost its per-call maps and closures (commit 9981cb5,
 * unchanged): the reference session (reference-session.ts) books with these,
 * so the differential test also checks the rewritten bookkeeping.
 */
import type { Demand } from '../plugin';
import { type Assignment, assignNics, assignStorage } from '../reservation';
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
