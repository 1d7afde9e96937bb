import type { PointQuiesce } from '@fabric/core/replication/replica-agent-port';
import type { Health, InitialMode, ReplicationState } from '@fabric/core/replication/replication.schema';
import type {
  Authorization,
  Cycle,
  CycleMode,
  CyclePatch,
  CycleState,
  DiskChecksum,
  HostInfo,
  NewRelationship,
  RecoveryPoint,
  Relationship,
  RelationshipPatch,
  ReplicatedVm,
  ReplicationRepository,
} from '@fabric/core/replication/replication-repository';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

const tenantWhere = (scope: TenantScope) => (scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {});

type RelRow = Prisma.ReplicationRelationshipGetPayload<object>;
type CycleRow = Prisma.ReplicationCycleGetPayload<object>;
type PointRow = Prisma.ReplicationPointGetPayload<object>;

function checksums(v: unknown): DiskChecksum[] {
  return Array.isArray(v)
    ? v.filter((d): d is DiskChecksum => typeof d?.name === 'string' && typeof d?.sha256 === 'string')
    : [];
}

function toRel(r: RelRow): Relationship {
  return {
    ...r,
    targetKind: r.targetKind as Relationship['targetKind'],
    initialMode: r.initialMode as InitialMode,
    state: r.state as ReplicationState,
    health: r.health as Health,
    nextCycleSeq: Number(r.nextCycleSeq),
  };
}

function toCycle(c: CycleRow): Cycle {
  return {
    ...c,
    seq: Number(c.seq),
    mode: c.mode as CycleMode,
    state: c.state as CycleState,
    bytesSent: Number(c.bytesSent),
    bytesLogical: Number(c.bytesLogical),
    checksums: checksums(c.checksums),
  };
}

function toPoint(p: PointRow): RecoveryPoint {
  return {
    ...p,
    kind: p.kind as RecoveryPoint['kind'],
    checksums: checksums(p.checksums),
    sizeBytes: Number(p.sizeBytes),
    guestWriteSeq: p.guestWriteSeq === null ? null : Number(p.guestWriteSeq),
    quiesce: quiesceOf(p.quiesce),
  };
}

function quiesceOf(v: unknown): PointQuiesce | null {
  if (typeof v !== 'object' || v === null) return null;
  const { status, message } = v as { status?: unknown; message?: unknown };
  if (status !== 'quiesced' && status !== 'failed' && status !== 'timed-out') return null;
  return { status, message: typeof message === 'string' ? message : '' };
}

function relData(patch: RelationshipPatch): Prisma.ReplicationRelationshipUncheckedUpdateInput {
  const { nextCycleSeq, ...rest } = patch;
  return { ...rest, ...(nextCycleSeq === undefined ? {} : { nextCycleSeq: BigInt(nextCycleSeq) }) };
}

/** Replication in Postgres (tables of the 20261204041437_replication migration; tenant RLS on all but authorizations). */
export class PrismaReplicationRepository implements ReplicationRepository {
  constructor(private readonly db: Db) {}

  async findVm(scope: TenantScope, vmId: string): Promise<ReplicatedVm | null> {
    const vm = await this.db.vm.findFirst({ where: { id: vmId, ...tenantWhere(scope) }, include: { disks: true } });
    if (!vm) return null;
    return {
      id: vm.id,
      tenantId: vm.tenantId,
      name: vm.name,
      state: vm.state,
      hostId: vm.hostId,
      clusterId: vm.clusterId,
      ownerEpoch: (vm as { ownerEpoch?: number }).ownerEpoch ?? 1,
      disks: vm.disks.map((d) => ({ name: d.name, sizeBytes: Number(d.sizeBytes) })),
    };
  }

  async findHost(hostId: string): Promise<HostInfo | null> {
    // The peer URL column belongs to the agent side (`disks`): read through to_jsonb so its absence is a null.
    const rows = await this.db.$queryRaw<
      { id: string; name: string; cluster_id: string; state: string; peer_url: string | null }[]
    >`
      SELECT h.id, h.name, h.cluster_id, h.state::text AS state, to_jsonb(h)->>'peer_url' AS peer_url
      FROM hosts h WHERE h.id = ${hostId}::uuid`;
    const r = rows[0];
    return r ? { id: r.id, name: r.name, clusterId: r.cluster_id, state: r.state, peerUrl: r.peer_url } : null;
  }

  async clusterExists(clusterId: string) {
    return (await this.db.cluster.count({ where: { id: clusterId } })) > 0;
  }

  async createRelationship(row: NewRelationship) {
    return toRel(await this.db.replicationRelationship.create({ data: { ...row } }));
  }

  async findRelationship(scope: TenantScope, id: string) {
    const r = await this.db.replicationRelationship.findFirst({ where: { id, ...tenantWhere(scope) } });
    return r ? toRel(r) : null;
  }

  async findRelationshipByVm(scope: TenantScope, vmId: string) {
    const r = await this.db.replicationRelationship.findFirst({ where: { vmId, ...tenantWhere(scope) } });
    return r ? toRel(r) : null;
  }

  async listRelationships(scope: TenantScope, limit: number) {
    const rows = await this.db.replicationRelationship.findMany({
      where: tenantWhere(scope),
      orderBy: [{ vmName: 'asc' }],
      take: limit,
    });
    return rows.map(toRel);
  }

  async updateRelationship(id: string, patch: RelationshipPatch, expectState?: ReplicationState) {
    const { count } = await this.db.replicationRelationship.updateMany({
      where: { id, ...(expectState === undefined ? {} : { state: expectState }) },
      data: relData(patch),
    });
    return count > 0;
  }

  async deleteRelationship(id: string) {
    await this.db.replicationRelationship.deleteMany({ where: { id } });
  }

  async dueForCycle(now: Date, limit: number) {
    const rows = await this.db.replicationRelationship.findMany({
      where: {
        nextDueAt: { lte: now },
        state: { in: ['replicating', 'resync-needed', 'test-failover', 'initial-pending'] },
      },
      orderBy: { nextDueAt: 'asc' },
      take: limit,
    });
    return rows.map(toRel);
  }

  async withoutVm(limit: number) {
    // Anti-join on the VMs' primary key: one index probe per relationship (the sweep runs once a minute).
    const ids = await this.db.$queryRaw<{ id: string }[]>`
      SELECT r.id FROM replication_relationships r
      WHERE r.state <> 'removing' AND NOT EXISTS (SELECT 1 FROM vms v WHERE v.id = r.vm_id)
      LIMIT ${limit}`;
    if (ids.length === 0) return [];
    const rows = await this.db.replicationRelationship.findMany({ where: { id: { in: ids.map((r) => r.id) } } });
    return rows.map(toRel);
  }

  async removing(limit: number) {
    const rows = await this.db.replicationRelationship.findMany({ where: { state: 'removing' }, take: limit });
    return rows.map(toRel);
  }

  async dueForHealth(now: Date, limit: number) {
    const rows = await this.db.replicationRelationship.findMany({
      where: { healthDueAt: { lte: now } },
      orderBy: { healthDueAt: 'asc' },
      take: limit,
    });
    return rows.map(toRel);
  }

  async createCycle(c: Parameters<ReplicationRepository['createCycle']>[0]) {
    await this.db.replicationCycle.createMany({ data: [{ ...c, seq: BigInt(c.seq) }], skipDuplicates: true });
    const stored = await this.db.replicationCycle.findUniqueOrThrow({
      where: {
        relationshipId_generation_seq: {
          relationshipId: c.relationshipId,
          generation: c.generation,
          seq: BigInt(c.seq),
        },
      },
    });
    return toCycle(stored);
  }

  async updateCycle(id: string, patch: CyclePatch) {
    const { bytesSent, bytesLogical, checksums: sums, ...rest } = patch;
    await this.db.replicationCycle.updateMany({
      where: { id },
      data: {
        ...rest,
        ...(bytesSent === undefined ? {} : { bytesSent: BigInt(Math.round(bytesSent)) }),
        ...(bytesLogical === undefined ? {} : { bytesLogical: BigInt(Math.round(bytesLogical)) }),
        ...(sums === undefined ? {} : { checksums: sums as unknown as Prisma.InputJsonValue }),
      },
    });
  }

  async runningCycle(relationshipId: string) {
    const c = await this.db.replicationCycle.findFirst({
      where: { relationshipId, state: 'running' },
      orderBy: { startedAt: 'desc' },
    });
    return c ? toCycle(c) : null;
  }

  async listCycles(scope: TenantScope, relationshipId: string, since: Date, limit: number) {
    const rows = await this.db.replicationCycle.findMany({
      where: { relationshipId, startedAt: { gte: since }, ...tenantWhere(scope) },
      orderBy: { startedAt: 'desc' },
      take: limit,
    });
    return rows.map(toCycle);
  }

  async missesSince(ids: readonly string[], since: Date) {
    const out = new Map<string, number[]>();
    if (!ids.length) return out;
    const rows = await this.db.replicationCycle.findMany({
      where: { relationshipId: { in: [...ids] }, startedAt: { gte: since }, state: { in: ['missed', 'failed'] } },
      select: { relationshipId: true, startedAt: true },
    });
    for (const r of rows) out.set(r.relationshipId, [...(out.get(r.relationshipId) ?? []), r.startedAt.getTime()]);
    return out;
  }

  async createPoint(p: Omit<RecoveryPoint, 'removedAt'>) {
    await this.db.replicationPoint.createMany({
      data: [
        {
          ...p,
          checksums: p.checksums as unknown as Prisma.InputJsonValue,
          sizeBytes: BigInt(Math.round(p.sizeBytes)),
          guestWriteSeq: p.guestWriteSeq === null ? null : BigInt(p.guestWriteSeq),
          quiesce: p.quiesce ? { status: p.quiesce.status, message: p.quiesce.message } : undefined,
        },
      ],
      skipDuplicates: true,
    });
  }

  async listPoints(scope: TenantScope, relationshipId: string, includeRemoved = false) {
    const rows = await this.db.replicationPoint.findMany({
      where: { relationshipId, ...tenantWhere(scope), ...(includeRemoved ? {} : { removedAt: null }) },
      orderBy: { takenAt: 'desc' },
      take: 500,
    });
    return rows.map(toPoint);
  }

  async findPoint(scope: TenantScope, relationshipId: string, pointId: string) {
    const p = await this.db.replicationPoint.findFirst({
      where: { id: pointId, relationshipId, ...tenantWhere(scope) },
    });
    return p ? toPoint(p) : null;
  }

  async removePoints(ids: readonly string[], at: Date) {
    if (!ids.length) return;
    await this.db.replicationPoint.updateMany({
      where: { id: { in: [...ids] }, removedAt: null },
      data: { removedAt: at },
    });
  }

  async pointTimes(scope: TenantScope, from: Date, to: Date) {
    const tenant = scope.kind === 'tenant' ? scope.tenantId : null;
    // Points in the period, and each relationship's last one before it (where the lag starts from).
    const rows = await this.db.$queryRaw<{ relationship_id: string; taken_at: Date }[]>`
      SELECT relationship_id, taken_at FROM replication_points
      WHERE taken_at >= ${from} AND taken_at < ${to} AND (${tenant}::uuid IS NULL OR tenant_id = ${tenant}::uuid)
      UNION ALL
      SELECT relationship_id, taken_at FROM (
        SELECT DISTINCT ON (relationship_id) relationship_id, taken_at FROM replication_points
        WHERE taken_at < ${from} AND (${tenant}::uuid IS NULL OR tenant_id = ${tenant}::uuid)
        ORDER BY relationship_id, taken_at DESC
      ) last_before`;
    const out = new Map<string, number[]>();
    for (const r of rows) {
      const list = out.get(r.relationship_id) ?? [];
      list.push(r.taken_at.getTime());
      out.set(r.relationship_id, list);
    }
    for (const list of out.values()) list.sort((a, b) => a - b);
    return out;
  }

  async bytesPerHour(since: Date) {
    const rows = await this.db.$queryRaw<{ hour: Date; bytes_sent: bigint; bytes_logical: bigint; cycles: bigint }[]>`
      SELECT date_trunc('hour', started_at) AS hour, sum(bytes_sent)::bigint AS bytes_sent,
             sum(bytes_logical)::bigint AS bytes_logical, count(*)::bigint AS cycles
      FROM replication_cycles WHERE started_at >= ${since} GROUP BY 1 ORDER BY 1`;
    return rows.map((r) => ({
      hour: r.hour.toISOString(),
      bytesSent: Number(r.bytes_sent),
      bytesLogical: Number(r.bytes_logical),
      cycles: Number(r.cycles),
    }));
  }

  async listAuthorizations(filter?: { replicaClusterId?: string }) {
    return this.db.replicaAuthorization.findMany({
      where: filter?.replicaClusterId ? { replicaClusterId: filter.replicaClusterId } : {},
      orderBy: { createdAt: 'asc' },
      take: 1000,
    }) as Promise<Authorization[]>;
  }

  async createAuthorization(row: Omit<Authorization, 'createdAt'>) {
    return this.db.replicaAuthorization.create({ data: row }) as Promise<Authorization>;
  }

  async deleteAuthorization(id: string) {
    const { count } = await this.db.replicaAuthorization.deleteMany({ where: { id } });
    return count > 0;
  }
}

/**
 * Replica storage as usage (issue 10, priced at the rate card's
 * replicaStorageGiBMonth): per VM and part, GiB × seconds of its replica's
 * disks (the VM's disk sizes, from when replication was enabled) plus each
 * recovery point's changed bytes while it is retained. Exact decimals
 * (numeric), as text. Keyed `${vmId} ${partIndex}`.
 */
export async function replicaGibSeconds(
  db: Db,
  parts: readonly { fromMs: number; toMs: number }[],
  tenantId: string | readonly string[] | undefined,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const tenants = tenantId === undefined ? null : typeof tenantId === 'string' ? [tenantId] : [...tenantId];
  for (const [index, part] of parts.entries()) {
    const from = new Date(part.fromMs);
    const to = new Date(part.toMs);
    const rows = await db.$queryRaw<{ vm_id: string; gib_seconds: string }[]>`
      SELECT r.vm_id::text,
        ((SELECT coalesce(sum(d.size_bytes), 0) FROM vm_disks d WHERE d.vm_id = r.vm_id)::numeric / 1073741824
          * greatest(0, extract(epoch FROM least(${to}::timestamptz, now()) - greatest(${from}::timestamptz, r.created_at)))
        + coalesce((
          SELECT sum(p.size_bytes::numeric / 1073741824 * greatest(0, extract(epoch FROM
                   least(${to}::timestamptz, coalesce(p.removed_at, now()), now()) - greatest(${from}::timestamptz, p.taken_at))))
          FROM replication_points p
          WHERE p.relationship_id = r.id AND p.taken_at < ${to} AND (p.removed_at IS NULL OR p.removed_at > ${from})
        ), 0))::text AS gib_seconds
      FROM replication_relationships r
      WHERE r.created_at < ${to} AND (${tenants}::uuid[] IS NULL OR r.tenant_id = ANY(${tenants}::uuid[]))`;
    for (const r of rows) if (r.gib_seconds !== '0') out.set(`${r.vm_id} ${index}`, r.gib_seconds);
  }
  return out;
}
