import { FabricError } from '@fabric/core/fabric/fabric.errors';
import type { HostChangeEvent, ListHostsInput, Overview } from '@fabric/core/fabric/fabric.schema';
import type { FabricRepository, HostRecord, NewHost } from '@fabric/core/fabric/fabric-repository';
import type { HostState } from '@fabric/core/fabric/host-state';
import type { HostInventory } from '@fabric/core/fabric/inventory.schema';
import { escapeLike } from '@fabric/core/shared/text.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';
import { uniqueOr } from './prisma-errors';

export const HOST_EVENTS_CHANNEL = 'fabric_host_events';

const hostRecordSelect = {
  id: true,
  name: true,
  clusterId: true,
  state: true,
  lastHeartbeatAt: true,
  registeredAt: true,
  inventoryHash: true,
} satisfies Prisma.HostSelect;

function inventoryColumns(inventory: HostInventory) {
  return {
    cpuModel: inventory.cpu.model,
    cpuMhz: inventory.cpu.mhz,
    sockets: inventory.cpu.sockets,
    coresPerSocket: inventory.cpu.coresPerSocket,
    logicalProcessors: inventory.cpu.logicalProcessors,
    numaNodes: inventory.numaNodes,
    memoryMiB: inventory.memoryMiB,
    osName: inventory.osName,
    peerUrl: inventory.peerUrl ?? null,
  };
}

function nicRows(inventory: HostInventory) {
  return inventory.nics.map((n) => ({
    name: n.name,
    macAddress: n.macAddress.toUpperCase().replaceAll('-', ':'),
    linkSpeedMbps: n.linkSpeedMbps,
    linkUp: n.linkUp,
  }));
}

function poolRows(inventory: HostInventory) {
  return inventory.storagePools.map((p) => ({
    name: p.name,
    kind: p.kind,
    capacityBytes: BigInt(p.capacityBytes),
    usedBytes: BigInt(p.usedBytes),
  }));
}

const SORT_COLUMNS: Record<ListHostsInput['sort'], (dir: 'asc' | 'desc') => Prisma.HostOrderByWithRelationInput> = {
  name: (dir) => ({ name: dir }),
  state: (dir) => ({ state: dir }),
  cluster: (dir) => ({ cluster: { name: dir } }),
  lastHeartbeatAt: (dir) => ({ lastHeartbeatAt: { sort: dir, nulls: 'last' } }),
  logicalProcessors: (dir) => ({ logicalProcessors: dir }),
  memoryMiB: (dir) => ({ memoryMiB: dir }),
};

function toCluster(row: Prisma.ClusterGetPayload<object> | null) {
  if (!row) return null;
  const { cpuOvercommitRatio, ...rest } = row;
  return { ...rest, cpuOvercommitRatio: Number(cpuOvercommitRatio) };
}

/** A hosts row as raw SQL returns it (snake_case). */
interface HostRow {
  id: string;
  name: string;
  cluster_id: string;
  state: HostState;
  last_heartbeat_at: Date | null;
  registered_at: Date;
  inventory_hash: string;
}

function fromHostRow(row: HostRow): HostRecord {
  return {
    id: row.id,
    name: row.name,
    clusterId: row.cluster_id,
    state: row.state,
    lastHeartbeatAt: row.last_heartbeat_at,
    registeredAt: row.registered_at,
    inventoryHash: row.inventory_hash,
  };
}

export class PrismaFabricRepository implements FabricRepository {
  constructor(private readonly db: Db) {}

  async findClusterById(id: string) {
    return toCluster(await this.db.cluster.findUnique({ where: { id } }));
  }

  async findClusterByName(name: string) {
    return toCluster(await this.db.cluster.findFirst({ where: { name: { equals: name, mode: 'insensitive' } } }));
  }

  async findClusterByIdForUpdate(id: string) {
    const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM clusters WHERE id = ${id}::uuid FOR UPDATE`;
    return rows.length ? this.findClusterById(id) : null;
  }

  async createCluster(data: { name: string; description: string; maxHosts: number; maxVms: number }) {
    // The service checks the name first; two creations at once meet here.
    const row = await uniqueOr(
      this.db.cluster.create({ data }),
      () => new FabricError('DUPLICATE_CLUSTER_NAME', `A cluster named "${data.name}" already exists`),
    );
    const created = toCluster(row);
    if (!created) throw new Error('cluster not created');
    return created;
  }

  async listClusters() {
    const clusters = await this.db.cluster.findMany({
      orderBy: { name: 'asc' },
      include: { _count: { select: { hosts: true } } },
    });
    return clusters.map(({ _count, cpuOvercommitRatio, ...c }) => ({
      ...c,
      cpuOvercommitRatio: Number(cpuOvercommitRatio),
      hostCount: _count.hosts,
    }));
  }

  countHosts(clusterId: string) {
    return this.db.host.count({ where: { clusterId } });
  }

  createToken(data: {
    clusterId: string;
    tokenHash: string;
    prefix: string;
    label: string;
    expiresAt: Date;
    createdById: string;
  }) {
    return this.db.registrationToken.create({ data, select: { id: true } });
  }

  async findTokenByHashForUpdate(tokenHash: string) {
    const rows = await this.db.$queryRaw<
      {
        id: string;
        cluster_id: string;
        expires_at: Date;
        used_at: Date | null;
        used_by_host_id: string | null;
        revoked_at: Date | null;
      }[]
    >`SELECT id, cluster_id, expires_at, used_at, used_by_host_id, revoked_at
      FROM registration_tokens WHERE token_hash = ${tokenHash} FOR UPDATE`;
    const row = rows[0];
    return row
      ? {
          id: row.id,
          clusterId: row.cluster_id,
          expiresAt: row.expires_at,
          usedAt: row.used_at,
          usedByHostId: row.used_by_host_id,
          revokedAt: row.revoked_at,
        }
      : null;
  }

  findTokenById(id: string) {
    return this.db.registrationToken.findUnique({
      where: { id },
      select: { id: true, clusterId: true, expiresAt: true, usedAt: true, usedByHostId: true, revokedAt: true },
    });
  }

  async markTokenUsed(id: string, hostId: string, at: Date) {
    await this.db.registrationToken.update({ where: { id }, data: { usedAt: at, usedByHostId: hostId } });
  }

  async revokeToken(id: string, at: Date) {
    await this.db.registrationToken.update({ where: { id }, data: { revokedAt: at } });
  }

  async listTokens(clusterId: string) {
    const tokens = await this.db.registrationToken.findMany({
      where: { clusterId },
      orderBy: { createdAt: 'desc' },
      take: 200,
    });
    const hostIds = tokens.flatMap((t) => (t.usedByHostId ? [t.usedByHostId] : []));
    const hosts = hostIds.length
      ? await this.db.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, name: true } })
      : [];
    const names = new Map(hosts.map((h) => [h.id, h.name]));
    return tokens.map((t) => ({
      id: t.id,
      clusterId: t.clusterId,
      prefix: t.prefix,
      label: t.label,
      expiresAt: t.expiresAt,
      usedAt: t.usedAt,
      usedByHostName: t.usedByHostId ? (names.get(t.usedByHostId) ?? '(removed host)') : null,
      revokedAt: t.revokedAt,
      createdAt: t.createdAt,
    }));
  }

  findHostByName(name: string) {
    return this.db.host.findFirst({ where: { name: { equals: name, mode: 'insensitive' } }, select: hostRecordSelect });
  }

  findHostById(id: string) {
    return this.db.host.findUnique({ where: { id }, select: hostRecordSelect });
  }

  createHost(host: NewHost): Promise<HostRecord> {
    // Two agents registering the same name at once: the unique index decides.
    const write = this.db.host.create({
      data: {
        clusterId: host.clusterId,
        name: host.inventory.hostname,
        state: 'connected',
        stateChangedAt: host.at,
        ...inventoryColumns(host.inventory),
        agentVersion: host.agentVersion,
        driver: host.driver,
        inventoryHash: host.inventoryHash,
        inventoryAt: host.at,
        registeredAt: host.at,
        registrationRequestId: host.registrationRequestId,
        lastHeartbeatAt: host.at,
        nics: { create: nicRows(host.inventory) },
        storagePools: { create: poolRows(host.inventory) },
        credential: { create: { secretHash: host.credentialSecretHash, createdAt: host.at } },
      },
      select: hostRecordSelect,
    });
    return uniqueOr(
      write,
      () => new FabricError('DUPLICATE_HOST_NAME', `A host named "${host.inventory.hostname}" is already registered`),
    );
  }

  async findRegistrationRequestId(hostId: string) {
    const host = await this.db.host.findUnique({ where: { id: hostId }, select: { registrationRequestId: true } });
    return host?.registrationRequestId ?? null;
  }

  async rotateCredential(hostId: string, secretHash: string, at: Date) {
    await this.db.hostCredential.update({ where: { hostId }, data: { secretHash, createdAt: at } });
  }

  async findHostCredential(hostId: string) {
    const credential = await this.db.hostCredential.findUnique({
      where: { hostId },
      select: { secretHash: true, host: { select: hostRecordSelect } },
    });
    return credential ?? null;
  }

  async acceptSeq(hostId: string, seq: number): Promise<HostRecord | null> {
    const rows = await this.db.$queryRaw<HostRow[]>`
      UPDATE hosts SET last_seq = ${BigInt(seq)} WHERE id = ${hostId}::uuid AND last_seq < ${BigInt(seq)}
      RETURNING id, name, cluster_id, state::text AS state, last_heartbeat_at, registered_at, inventory_hash`;
    return rows[0] ? fromHostRow(rows[0]) : null;
  }

  async markSeen(hostId: string, at: Date, agentVersion: string) {
    await this.db.host.update({ where: { id: hostId }, data: { lastHeartbeatAt: at, agentVersion } });
  }

  async replaceInventory(
    hostId: string,
    agentVersion: string,
    inventory: HostInventory,
    inventoryHash: string,
    at: Date,
  ) {
    await this.db.host.update({
      where: { id: hostId },
      data: {
        ...inventoryColumns(inventory),
        agentVersion,
        inventoryHash,
        inventoryAt: at,
        nics: { deleteMany: {}, create: nicRows(inventory) },
        storagePools: { deleteMany: {}, create: poolRows(inventory) },
      },
    });
  }

  async setState(change: {
    hostId: string;
    from: HostState;
    to: HostState;
    at: Date;
    maintenanceReason: string | null;
    silentBefore?: Date;
  }) {
    const silent = change.silentBefore;
    const { count } = await this.db.host.updateMany({
      where: {
        id: change.hostId,
        state: change.from,
        ...(silent
          ? { OR: [{ lastHeartbeatAt: { lt: silent } }, { lastHeartbeatAt: null, registeredAt: { lt: silent } }] }
          : {}),
      },
      data: { state: change.to, stateChangedAt: change.at, maintenanceReason: change.maintenanceReason },
    });
    return count === 1;
  }

  countVmsOnHost(hostId: string) {
    return this.db.vm.count({ where: { hostId } });
  }

  async deleteHost(hostId: string) {
    await this.db.host.delete({ where: { id: hostId } });
  }

  findSilentHosts(states: HostState[], cutoff: Date) {
    return this.db.host.findMany({
      where: {
        state: { in: states },
        OR: [{ lastHeartbeatAt: { lt: cutoff } }, { lastHeartbeatAt: null, registeredAt: { lt: cutoff } }],
      },
      select: hostRecordSelect,
      orderBy: { name: 'asc' },
    });
  }

  async listHosts(q: ListHostsInput) {
    const where: Prisma.HostWhereInput = {
      // Literal: Prisma's contains leaves LIKE's % and _ live.
      ...(q.search ? { name: { contains: escapeLike(q.search), mode: 'insensitive' } } : {}),
      ...(q.state ? { state: q.state } : {}),
      ...(q.clusterId ? { clusterId: q.clusterId } : {}),
    };
    const [hosts, total] = await Promise.all([
      this.db.host.findMany({
        where,
        orderBy: [SORT_COLUMNS[q.sort](q.dir), { name: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
        include: {
          cluster: { select: { name: true } },
          storagePools: { select: { capacityBytes: true, usedBytes: true } },
        },
      }),
      this.db.host.count({ where }),
    ]);
    return { rows: hosts.map(toHostRow), total };
  }

  async getHostDetail(id: string) {
    const host = await this.db.host.findUnique({
      where: { id },
      include: {
        cluster: { select: { name: true } },
        nics: { orderBy: { name: 'asc' } },
        storagePools: { orderBy: { name: 'asc' } },
      },
    });
    if (!host) return null;
    return {
      ...toHostRow(host),
      cpuModel: host.cpuModel,
      cpuMhz: host.cpuMhz,
      sockets: host.sockets,
      coresPerSocket: host.coresPerSocket,
      osName: host.osName,
      driver: host.driver,
      registeredAt: host.registeredAt,
      stateChangedAt: host.stateChangedAt,
      maintenanceReason: host.maintenanceReason,
      dedicatedTenantId: host.dedicatedTenantId,
      nics: host.nics.map((n) => ({
        name: n.name,
        macAddress: n.macAddress,
        linkSpeedMbps: n.linkSpeedMbps,
        linkUp: n.linkUp,
      })),
      storagePools: host.storagePools.map((p) => ({
        name: p.name,
        kind: p.kind,
        capacityBytes: Number(p.capacityBytes),
        usedBytes: Number(p.usedBytes),
      })),
    };
  }

  async overview(): Promise<Overview> {
    const [clusters, byState, perCluster, storage] = await Promise.all([
      this.db.cluster.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true, maxHosts: true } }),
      this.db.host.groupBy({ by: ['state'], _count: { _all: true } }),
      this.db.host.groupBy({
        by: ['clusterId'],
        _count: { _all: true },
        _sum: { logicalProcessors: true, memoryMiB: true },
      }),
      this.db.hostStoragePool.aggregate({ _sum: { capacityBytes: true, usedBytes: true } }),
    ]);
    const hostsByState = { connected: 0, suspect: 0, failed: 0, maintenance: 0 };
    for (const row of byState) hostsByState[row.state] = row._count._all;
    const sums = new Map(perCluster.map((c) => [c.clusterId, c]));
    const clustersSummary = clusters.map((c) => {
      const s = sums.get(c.id);
      return {
        id: c.id,
        name: c.name,
        maxHosts: c.maxHosts,
        hostCount: s?._count._all ?? 0,
        logicalProcessors: s?._sum.logicalProcessors ?? 0,
        memoryMiB: s?._sum.memoryMiB ?? 0,
      };
    });
    return {
      clusters: clusters.length,
      hostsByState,
      totals: {
        logicalProcessors: clustersSummary.reduce((a, c) => a + c.logicalProcessors, 0),
        memoryMiB: clustersSummary.reduce((a, c) => a + c.memoryMiB, 0),
        storageCapacityBytes: Number(storage._sum.capacityBytes ?? 0n),
        storageUsedBytes: Number(storage._sum.usedBytes ?? 0n),
      },
      clustersSummary,
    };
  }

  async setPlacementPolicy(clusterId: string, policy: 'balance' | 'pack', cpuOvercommitRatio: number) {
    await this.db.cluster.update({ where: { id: clusterId }, data: { placementPolicy: policy, cpuOvercommitRatio } });
  }

  async setDedication(hostId: string, tenantId: string | null) {
    await this.db.host.update({ where: { id: hostId }, data: { dedicatedTenantId: tenantId } });
  }

  async tenantExists(tenantId: string) {
    return (await this.db.tenant.count({ where: { id: tenantId } })) === 1;
  }

  async notifyHostChange(event: HostChangeEvent) {
    const payload = JSON.stringify({ ...event, lastHeartbeatAt: event.lastHeartbeatAt?.toISOString() ?? null });
    await this.db.$executeRaw`SELECT pg_notify(${HOST_EVENTS_CHANNEL}, ${payload})`;
  }

  async tryLock(name: string) {
    const rows = await this.db.$queryRaw<
      { locked: boolean }[]
    >`SELECT pg_try_advisory_xact_lock(hashtext(${name})) AS locked`;
    return rows[0]?.locked === true;
  }
}

function toHostRow(
  host: Prisma.HostGetPayload<{ include: { cluster: { select: { name: true } } } }> & {
    storagePools: { capacityBytes: bigint; usedBytes: bigint }[];
  },
) {
  return {
    id: host.id,
    name: host.name,
    clusterId: host.clusterId,
    clusterName: host.cluster.name,
    state: host.state,
    lastHeartbeatAt: host.lastHeartbeatAt,
    logicalProcessors: host.logicalProcessors,
    memoryMiB: host.memoryMiB,
    numaNodes: host.numaNodes,
    agentVersion: host.agentVersion,
    storageCapacityBytes: Number(host.storagePools.reduce((a, p) => a + p.capacityBytes, 0n)),
    storageUsedBytes: Number(host.storagePools.reduce((a, p) => a + p.usedBytes, 0n)),
  };
}
