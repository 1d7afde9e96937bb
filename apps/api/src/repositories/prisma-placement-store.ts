import type { PlacementStore } from '@fabric/core/placement/placement-store';
import type { ClusterSnapshot, HostSnapshot } from '@fabric/core/placement/snapshot';
import type { VmOnHost } from '@fabric/core/placement/what-if';
import { seeingAllTenants } from '../tenancy/scoped-prisma';
import type { Db } from './prisma';

/** What HA restarts after a host failure (as ha/recover-host.ts takes stock). */
const LIVE_STATES = new Set(['creating', 'starting', 'running', 'paused', 'stopping']);

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

  /**
   * Clusters, most promising first for a VM needing `memoryMiB`: by the count
   * of connected hosts with that much memory free (a cheap first cut; the
   * snapshot decides).
   */
  async placementClusters(memoryMiB = 0) {
    // Every tenant's VMs hold memory: placement sees them all, even for a tenant's VM.
    const rows = await seeingAllTenants(
      this.db,
      () => this.db.$queryRaw<{ id: string; name: string }[]>`
      SELECT c.id, c.name
      FROM clusters c
      LEFT JOIN hosts h ON h.cluster_id = c.id
      LEFT JOIN (SELECT host_id, sum(memory_mib) AS memory FROM vms WHERE host_id IS NOT NULL GROUP BY host_id) a
        ON a.host_id = h.id
      GROUP BY c.id, c.name
      ORDER BY count(h.id) FILTER (
        WHERE h.state = 'connected' AND h.memory_mib - h.reserved_memory_mib - coalesce(a.memory, 0) >= ${memoryMiB}
      ) DESC, c.id`,
    );
    return rows;
  }

  async clusterOfHost(hostId: string) {
    const host = await this.db.host.findUnique({ where: { id: hostId }, select: { clusterId: true } });
    return host?.clusterId ?? null;
  }

  async vmsInCluster(clusterId: string): Promise<VmOnHost[]> {
    // Where each replicated VM's replica is: every move of an existing VM (migration, evacuation, rebalancing,
    // HA restart) takes its request from here, so none of them puts a primary beside its replica. A join, not
    // an IN list of up to 4,000 VM ids.
    const [vms, replicaRows] = await Promise.all([
      this.db.vm.findMany({
        where: { clusterId, hostId: { not: null } },
        include: {
          disks: { select: { sizeBytes: true, pool: true } },
          nics: { select: { minimumBandwidthMbps: true } },
        },
        orderBy: { name: 'asc' },
      }),
      this.db.$queryRaw<{ vm_id: string; replica_host_id: string; replica_cluster_id: string }[]>`
        SELECT r.vm_id, r.replica_host_id, r.replica_cluster_id
        FROM replication_relationships r JOIN vms v ON v.id = r.vm_id
        WHERE v.cluster_id = ${clusterId}::uuid AND v.host_id IS NOT NULL`,
    ]);
    const replicas = new Map(replicaRows.map((r) => [r.vm_id, r]));
    return vms.flatMap((vm) => {
      const replica = replicas.get(vm.id);
      return vm.hostId
        ? [
            {
              currentHostId: vm.hostId,
              live: LIVE_STATES.has(vm.state),
              request: {
                vmId: vm.id,
                name: vm.name,
                tenantId: vm.tenantId,
                vcpus: vm.vcpus,
                memoryMiB: vm.memoryMiB,
                // The pool each disk is on: a move (migration, HA restart, rebalancing) keeps the disks where they
                // are, so only a host that reaches that pool can take the VM.
                disks: vm.disks.map((d) => ({ sizeBytes: Number(d.sizeBytes), pool: d.pool })),
                nics: vm.nics.map((n) => (n.minimumBandwidthMbps ? { minBandwidthMbps: n.minimumBandwidthMbps } : {})),
                groups: (Array.isArray(vm.groups) ? (vm.groups as GroupJson[]) : []).flatMap((g) =>
                  typeof g.name === 'string' && (g.kind === 'affinity' || g.kind === 'anti-affinity')
                    ? [{ name: `${vm.tenantId}:${g.name}`, kind: g.kind, hard: g.hard === true }]
                    : [],
                ),
                haPriority: vm.haPriority,
                ...(replica && vm.clusterId
                  ? {
                      replica: {
                        hostId: replica.replica_host_id,
                        clusterId: replica.replica_cluster_id,
                        primaryClusterId: vm.clusterId,
                      },
                    }
                  : {}),
              },
            },
          ]
        : [];
    });
  }

  async lockCluster(clusterId: string) {
    await this.db.$queryRaw`SELECT id FROM clusters WHERE id = ${clusterId}::uuid FOR UPDATE`;
  }

  async clusterSnapshot(clusterId: string): Promise<ClusterSnapshot> {
    const cluster = await this.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    // Aggregates per host in SQL: the cost follows the number of hosts (≤ 64),
    // not the number of VMs (≤ 4,000).
    // What every tenant's VMs hold on each host (seeingAllTenants), never returned as such.
    const [hosts, allocations, groupRows, nicRows, disks] = await seeingAllTenants(this.db, () =>
      Promise.all([
        this.db.host.findMany({
          where: { clusterId },
          orderBy: { name: 'asc' },
          include: { nics: { orderBy: { name: 'asc' } }, storagePools: { orderBy: { name: 'asc' } } },
        }),
        this.db.$queryRaw<{ host_id: string; vcpus: bigint; memory: bigint; vms: bigint }[]>`
        SELECT host_id, sum(vcpus) AS vcpus, sum(memory_mib) AS memory, count(*) AS vms
        FROM vms WHERE cluster_id = ${clusterId}::uuid AND host_id IS NOT NULL GROUP BY host_id`,
        this.db.$queryRaw<{ host_id: string; tenant_id: string; name: string; vms: bigint }[]>`
        SELECT v.host_id, v.tenant_id, g->>'name' AS name, count(*) AS vms
        FROM vms v CROSS JOIN LATERAL jsonb_array_elements(v.groups) g
        WHERE v.cluster_id = ${clusterId}::uuid AND v.host_id IS NOT NULL AND g->>'name' IS NOT NULL
        GROUP BY 1, 2, 3`,
        this.db.$queryRaw<{ host_id: string; mbps: number }[]>`
        SELECT v.host_id, n.minimum_bandwidth_mbps AS mbps
        FROM vm_nics n JOIN vms v ON v.id = n.vm_id
        WHERE v.cluster_id = ${clusterId}::uuid AND v.host_id IS NOT NULL AND n.minimum_bandwidth_mbps IS NOT NULL
        ORDER BY n.id`,
        this.db.$queryRaw<{ host_id: string; pool: string; bytes: bigint }[]>`
        SELECT v.host_id, d.pool, sum(d.size_bytes) AS bytes
        FROM vm_disks d JOIN vms v ON v.id = d.vm_id
        WHERE v.cluster_id = ${clusterId}::uuid AND v.host_id IS NOT NULL
        GROUP BY v.host_id, d.pool`,
      ]),
    );
    const diskBytes = new Map(disks.map((d) => [`${d.host_id}/${d.pool}`, Number(d.bytes)]));
    const allocated = new Map(allocations.map((a) => [a.host_id, a]));
    let vmCount = 0;
    const snapshots: HostSnapshot[] = hosts.map((host) => {
      const groups: Record<string, number> = {};
      for (const g of groupRows) {
        if (g.host_id === host.id) groups[`${g.tenant_id}:${g.name}`] = Number(g.vms);
      }
      // Admitted minimum-bandwidth reservations, spread over the host's NICs
      // most-free-first (the rule placement admits them with).
      const nicReserved = host.nics.map((n) => ({ name: n.name, linkSpeedMbps: n.linkSpeedMbps, reservedMinMbps: 0 }));
      for (const nic of nicRows) {
        if (nic.host_id !== host.id) continue;
        const target = [...nicReserved].sort(
          (a, b) => b.linkSpeedMbps - b.reservedMinMbps - (a.linkSpeedMbps - a.reservedMinMbps),
        )[0];
        if (target) target.reservedMinMbps += nic.mbps;
      }
      const a = allocated.get(host.id);
      vmCount += Number(a?.vms ?? 0);
      return {
        id: host.id,
        name: host.name,
        clusterId,
        state: host.state,
        logicalProcessors: host.logicalProcessors,
        memoryMiB: host.memoryMiB,
        numaNodes: host.numaNodes,
        reservedMemoryMiB: host.reservedMemoryMiB,
        allocated: { vcpus: Number(a?.vcpus ?? 0), memoryMiB: Number(a?.memory ?? 0), vmCount: Number(a?.vms ?? 0) },
        storagePools: host.storagePools.map((p) => ({
          name: p.name,
          kind: p.kind,
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
      vmCount,
      cpuOvercommitRatio: Number(cluster.cpuOvercommitRatio),
      policy: cluster.placementPolicy,
      hosts: snapshots,
    };
  }
}
