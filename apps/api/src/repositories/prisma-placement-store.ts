import type { PlacementStore } from '@fabric/core/compute/compute-service';
import type { ClusterSnapshot, HostSnapshot } from '@fabric/core/placement/snapshot';
import type { VmOnHost } from '@fabric/core/placement/what-if';
import type { Db } from './prisma';

interface GroupJson {
  name?: unknown;
  kind?: unknown;
  hard?: unknown;
}

/**
 * Builds placement's immutable cluster snapshot from Postgres: host capacity
 * from inventory, and what the VMs assigned to each host reserve (every VM on
 * a host holds its reservation whatever its power state, so a stopped VM can
 * always start again where it is).
 */
export class PrismaPlacementStore implements PlacementStore {
  constructor(private readonly db: Db) {}

  placementClusters() {
    return this.db.cluster.findMany({ orderBy: { id: 'asc' }, select: { id: true, name: true } });
  }

  async clusterOfHost(hostId: string) {
    const host = await this.db.host.findUnique({ where: { id: hostId }, select: { clusterId: true } });
    return host?.clusterId ?? null;
  }

  async vmsInCluster(clusterId: string): Promise<VmOnHost[]> {
    const vms = await this.db.vm.findMany({
      where: { clusterId, hostId: { not: null } },
      include: { disks: { select: { sizeBytes: true } }, nics: { select: { minimumBandwidthMbps: true } } },
      orderBy: { name: 'asc' },
    });
    return vms.flatMap((vm) =>
      vm.hostId
        ? [
            {
              currentHostId: vm.hostId,
              request: {
                vmId: vm.id,
                name: vm.name,
                tenantId: vm.tenantId,
                vcpus: vm.vcpus,
                memoryMiB: vm.memoryMiB,
                disks: vm.disks.map((d) => ({ sizeBytes: Number(d.sizeBytes) })),
                nics: vm.nics.map((n) => (n.minimumBandwidthMbps ? { minBandwidthMbps: n.minimumBandwidthMbps } : {})),
                groups: (Array.isArray(vm.groups) ? (vm.groups as GroupJson[]) : []).flatMap((g) =>
                  typeof g.name === 'string' && (g.kind === 'affinity' || g.kind === 'anti-affinity')
                    ? [{ name: `${vm.tenantId}:${g.name}`, kind: g.kind, hard: g.hard === true }]
                    : [],
                ),
                haPriority: vm.haPriority,
              },
            },
          ]
        : [],
    );
  }

  async lockCluster(clusterId: string) {
    await this.db.$queryRaw`SELECT id FROM clusters WHERE id = ${clusterId}::uuid FOR UPDATE`;
  }

  async clusterSnapshot(clusterId: string): Promise<ClusterSnapshot> {
    const cluster = await this.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    const [hosts, vms, disks] = await Promise.all([
      this.db.host.findMany({
        where: { clusterId },
        orderBy: { name: 'asc' },
        include: { nics: { orderBy: { name: 'asc' } }, storagePools: { orderBy: { name: 'asc' } } },
      }),
      this.db.vm.findMany({
        where: { clusterId, hostId: { not: null } },
        select: {
          hostId: true,
          tenantId: true,
          vcpus: true,
          memoryMiB: true,
          groups: true,
          nics: { select: { minimumBandwidthMbps: true } },
        },
      }),
      this.db.$queryRaw<{ host_id: string; pool: string; bytes: bigint }[]>`
        SELECT v.host_id, d.pool, sum(d.size_bytes) AS bytes
        FROM vm_disks d JOIN vms v ON v.id = d.vm_id
        WHERE v.cluster_id = ${clusterId}::uuid AND v.host_id IS NOT NULL
        GROUP BY v.host_id, d.pool`,
    ]);
    const diskBytes = new Map(disks.map((d) => [`${d.host_id}/${d.pool}`, Number(d.bytes)]));
    const snapshots: HostSnapshot[] = hosts.map((host) => {
      const onHost = vms.filter((vm) => vm.hostId === host.id);
      const groups: Record<string, number> = {};
      for (const vm of onHost) {
        for (const g of Array.isArray(vm.groups) ? (vm.groups as GroupJson[]) : []) {
          if (typeof g.name !== 'string') continue;
          const key = `${vm.tenantId}:${g.name}`;
          groups[key] = (Object.hasOwn(groups, key) ? (groups[key] ?? 0) : 0) + 1;
        }
      }
      // Admitted minimum-bandwidth reservations, spread over the host's NICs
      // most-free-first (the rule placement admits them with).
      const nicReserved = host.nics.map((n) => ({ name: n.name, linkSpeedMbps: n.linkSpeedMbps, reservedMinMbps: 0 }));
      for (const vm of onHost) {
        for (const nic of vm.nics) {
          if (!nic.minimumBandwidthMbps) continue;
          const target = [...nicReserved].sort(
            (a, b) => b.linkSpeedMbps - b.reservedMinMbps - (a.linkSpeedMbps - a.reservedMinMbps),
          )[0];
          if (target) target.reservedMinMbps += nic.minimumBandwidthMbps;
        }
      }
      return {
        id: host.id,
        name: host.name,
        clusterId,
        state: host.state,
        logicalProcessors: host.logicalProcessors,
        memoryMiB: host.memoryMiB,
        numaNodes: host.numaNodes,
        reservedMemoryMiB: host.reservedMemoryMiB,
        allocated: {
          vcpus: onHost.reduce((s, vm) => s + vm.vcpus, 0),
          memoryMiB: onHost.reduce((s, vm) => s + vm.memoryMiB, 0),
          vmCount: onHost.length,
        },
        storagePools: host.storagePools.map((p) => ({
          name: p.name,
          capacityBytes: Number(p.capacityBytes),
          // The larger of what VMs were given and what the host reports used.
          allocatedBytes: Math.max(diskBytes.get(`${host.id}/${p.name}`) ?? 0, Number(p.usedBytes)),
        })),
        nics: nicReserved,
        dedicatedTenantId: host.dedicatedTenantId,
        groups,
      };
    });
    return {
      id: cluster.id,
      name: cluster.name,
      maxVms: cluster.maxVms,
      vmCount: await this.db.vm.count({ where: { clusterId } }),
      cpuOvercommitRatio: Number(cluster.cpuOvercommitRatio),
      policy: cluster.placementPolicy,
      hosts: snapshots,
    };
  }
}
