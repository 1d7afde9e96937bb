import type { HaAgentRepository } from '@fabric/core/ha/ha-agent-channel';
import type {
  HaEventRow,
  HaEventState,
  HaRepository,
  HaRestartRow,
  HaRestartState,
  HostBmcRow,
  HostHealth,
  TimelineEntry,
} from '@fabric/core/ha/ha-repository';
import type { HaPriority } from '@fabric/core/ha/ha-settings';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

type EventRecord = Prisma.HaEventGetPayload<object>;
type RestartRecord = Prisma.HaRestartGetPayload<object>;

function toEvent(e: EventRecord): HaEventRow {
  return {
    id: e.id,
    clusterId: e.clusterId,
    hostId: e.hostId,
    hostName: e.hostName,
    state: e.state as HaEventState,
    diagnosis: e.diagnosis as HaEventRow['diagnosis'],
    fenceMethod: e.fenceMethod,
    lastHeartbeatAt: e.lastHeartbeatAt,
    detectedAt: e.detectedAt,
    fencedAt: e.fencedAt,
    finishedAt: e.finishedAt,
    jobId: e.jobId,
    timeline: Array.isArray(e.timeline) ? (e.timeline as unknown as TimelineEntry[]) : [],
  };
}

function toRestart(r: RestartRecord): HaRestartRow {
  return {
    eventId: r.eventId,
    vmId: r.vmId,
    tenantId: r.tenantId,
    vmName: r.vmName,
    priority: r.priority,
    fromHostId: r.fromHostId,
    toHostId: r.toHostId,
    state: r.state as HaRestartState,
    reason: r.reason,
    fromEpoch: r.fromEpoch,
    toEpoch: r.toEpoch,
    lastHeartbeatAt: r.lastHeartbeatAt,
    runningAt: r.runningAt,
    rtoMs: r.rtoMs,
  };
}

const hostHealthSelect = {
  id: true,
  name: true,
  clusterId: true,
  state: true,
  lastHeartbeatAt: true,
  registeredAt: true,
  peerSeenAt: true,
  fencedAt: true,
} as const;

/** HA storage: clusters' settings, the second channel's sightings, failure events and restarts. */
export class PrismaHaRepository implements HaAgentRepository, HaRepository {
  constructor(private readonly db: Db) {}

  async hostCluster(hostId: string) {
    const row = await this.db.host.findUnique({
      where: { id: hostId },
      select: { clusterId: true, cluster: { select: { haSettings: true } } },
    });
    return row ? { clusterId: row.clusterId, haSettings: row.cluster.haSettings } : null;
  }

  async recordPeerSightings(
    observerId: string,
    clusterId: string,
    sightings: { hostId: string; seenAt: Date; fencedAt: Date | null }[],
  ) {
    if (!sightings.length) return;
    const ids = sightings.map((s) => s.hostId);
    const seen = sightings.map((s) => s.seenAt);
    const fenced = sightings.map((s) => s.fencedAt);
    await this.db.$executeRaw`
      UPDATE hosts h SET peer_seen_at = greatest(h.peer_seen_at, s.seen_at),
                         fenced_at = CASE WHEN s.fenced_at IS NULL THEN h.fenced_at
                                          ELSE greatest(h.fenced_at, s.fenced_at) END
      FROM unnest(${ids}::uuid[], ${seen}::timestamptz[], ${fenced}::timestamptz[]) AS s(host_id, seen_at, fenced_at)
      WHERE h.id = s.host_id AND h.cluster_id = ${clusterId}::uuid AND h.id <> ${observerId}::uuid`;
  }

  async recordSelfFenced(hostId: string, at: Date) {
    await this.db.$executeRaw`UPDATE hosts SET fenced_at = greatest(fenced_at, ${at}) WHERE id = ${hostId}::uuid`;
  }

  async clusterSettings() {
    return this.db.cluster.findMany({ select: { id: true, name: true, haSettings: true }, orderBy: { name: 'asc' } });
  }

  async setClusterSettings(clusterId: string, settings: Record<string, unknown>) {
    const r = await this.db.cluster.updateMany({
      where: { id: clusterId },
      data: { haSettings: settings as Prisma.InputJsonObject },
    });
    return r.count > 0;
  }

  async silentHosts(clusterId: string, cutoff: Date): Promise<HostHealth[]> {
    return this.db.host.findMany({
      where: {
        clusterId,
        state: { not: 'maintenance' },
        OR: [{ lastHeartbeatAt: { lt: cutoff } }, { lastHeartbeatAt: null, registeredAt: { lt: cutoff } }],
      },
      select: hostHealthSelect,
    });
  }

  async hostHealth(hostId: string): Promise<HostHealth | null> {
    return this.db.host.findUnique({ where: { id: hostId }, select: hostHealthSelect });
  }

  async hasOpenEvent(hostId: string) {
    const n = await this.db.haEvent.count({
      where: { hostId, state: { notIn: ['recovered', 'cancelled', 'failed'] } },
    });
    return n > 0;
  }

  async lastEventHeartbeat(hostId: string) {
    const e = await this.db.haEvent.findFirst({
      where: { hostId },
      orderBy: { createdAt: 'desc' },
      select: { lastHeartbeatAt: true },
    });
    return e?.lastHeartbeatAt ?? null;
  }

  /**
   * One failure, one event, decided here and not only by the monitor's reads before it: monitor passes
   * overlap (a tick runs in whichever API process dequeues it, and a slow tick is still running when the
   * next one starts in the other process), so a pass may have read "no open event, none about this silence"
   * just before another pass opened one and that event ended (cancelled when the host came back, or
   * recovered). NOT EXISTS refuses an event about a silence that an event of the host already covers
   * (its last heartbeat at or after this one's); the unique index of open events decides the rest of the
   * race (an insert waits for the other's uncommitted open event, then conflicts). Either way: false.
   */
  async createEvent(event: Omit<HaEventRow, 'fencedAt' | 'finishedAt' | 'timeline'> & { timeline: TimelineEntry[] }) {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      INSERT INTO ha_events (id, cluster_id, host_id, host_name, state, diagnosis, fence_method, last_heartbeat_at,
                             detected_at, job_id, timeline)
      SELECT ${event.id}::uuid, ${event.clusterId}::uuid, ${event.hostId}::uuid, ${event.hostName}, ${event.state},
             ${event.diagnosis}, ${event.fenceMethod}, ${event.lastHeartbeatAt}, ${event.detectedAt},
             ${event.jobId}::uuid, ${JSON.stringify(event.timeline)}::jsonb
      WHERE NOT EXISTS (SELECT 1 FROM ha_events WHERE host_id = ${event.hostId}::uuid
                          AND last_heartbeat_at >= ${event.lastHeartbeatAt})
      ON CONFLICT DO NOTHING
      RETURNING id`;
    return rows.length > 0;
  }

  async findEvent(id: string) {
    const e = await this.db.haEvent.findUnique({ where: { id } });
    return e ? toEvent(e) : null;
  }

  async updateEvent(
    id: string,
    patch: Partial<Pick<HaEventRow, 'state' | 'fencedAt' | 'finishedAt' | 'diagnosis'>>,
    add: TimelineEntry[] = [],
  ) {
    if (add.length) {
      // Appended in SQL: concurrent appends never lose one another.
      await this.db.$executeRaw`UPDATE ha_events SET timeline = timeline || ${JSON.stringify(add)}::jsonb
        WHERE id = ${id}::uuid`;
    }
    if (Object.keys(patch).length) await this.db.haEvent.update({ where: { id }, data: patch });
  }

  async listEvents(clusterId: string | null, limit: number) {
    const rows = await this.db.haEvent.findMany({
      where: clusterId ? { clusterId } : {},
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
    return rows.map(toEvent);
  }

  async vmsOnHost(hostId: string) {
    const rows = await this.db.vm.findMany({
      where: { hostId },
      select: { id: true, tenantId: true, name: true, haPriority: true, state: true, ownerEpoch: true },
      orderBy: { name: 'asc' },
    });
    return rows.map((v) => ({
      vmId: v.id,
      tenantId: v.tenantId,
      name: v.name,
      priority: v.haPriority as HaPriority,
      state: v.state,
      epoch: v.ownerEpoch,
    }));
  }

  async createRestarts(rows: HaRestartRow[]) {
    if (!rows.length) return;
    await this.db.haRestart.createMany({
      data: rows.map((r) => ({
        eventId: r.eventId,
        vmId: r.vmId,
        tenantId: r.tenantId,
        vmName: r.vmName,
        priority: r.priority,
        fromHostId: r.fromHostId,
        toHostId: r.toHostId,
        state: r.state,
        reason: r.reason,
        fromEpoch: r.fromEpoch,
        toEpoch: r.toEpoch,
        lastHeartbeatAt: r.lastHeartbeatAt,
        runningAt: r.runningAt,
        rtoMs: r.rtoMs,
      })),
      skipDuplicates: true,
    });
  }

  async restarts(eventId: string) {
    const rows = await this.db.haRestart.findMany({ where: { eventId }, orderBy: [{ vmName: 'asc' }] });
    return rows.map(toRestart);
  }

  async tenantNames(tenantIds: string[]) {
    const rows = await this.db.tenant.findMany({ where: { id: { in: tenantIds } }, select: { id: true, name: true } });
    return new Map(rows.map((t) => [t.id, t.name]));
  }

  async updateRestart(
    eventId: string,
    vmId: string,
    patch: Partial<Pick<HaRestartRow, 'state' | 'reason' | 'toHostId' | 'toEpoch' | 'runningAt' | 'rtoMs'>>,
  ) {
    await this.db.haRestart.update({ where: { eventId_vmId: { eventId, vmId } }, data: patch });
  }

  async restartProgress(vmIds: string[]) {
    if (!vmIds.length) return [];
    const rows = await this.db.$queryRaw<
      {
        id: string;
        state: string;
        host_id: string | null;
        owner_epoch: number;
        start_state: string | null;
        start_finished_at: Date | null;
        start_message: string | null;
      }[]
    >`
      SELECT v.id, v.state::text AS state, v.host_id, v.owner_epoch,
             t.state::text AS start_state, t.finished_at AS start_finished_at, t.message AS start_message
      FROM vms v
      LEFT JOIN LATERAL (
        SELECT state, finished_at, message FROM tasks
        WHERE vm_id = v.id AND host_id = v.host_id AND kind = 'vm.start'
        ORDER BY created_at DESC LIMIT 1) t ON true
      WHERE v.id = ANY(${vmIds}::uuid[])`;
    return rows.map((r) => ({
      vmId: r.id,
      state: r.state,
      hostId: r.host_id,
      epoch: r.owner_epoch,
      startState: r.start_state,
      startFinishedAt: r.start_finished_at,
      startMessage: r.start_message ?? '',
    }));
  }

  async openRestartOf(vmId: string) {
    const row = await this.db.haRestart.findFirst({
      where: {
        vmId,
        state: { in: ['pending', 'waiting-capacity', 'restarting'] },
        event: { state: { notIn: ['recovered', 'cancelled', 'failed'] } },
      },
      orderBy: { createdAt: 'desc' },
      include: { event: { select: { hostName: true, jobId: true, detectedAt: true, fencedAt: true } } },
    });
    if (!row) return null;
    const to = row.toHostId
      ? await this.db.host.findUnique({ where: { id: row.toHostId }, select: { name: true } })
      : null;
    return {
      ...toRestart(row),
      toHostName: to?.name ?? null,
      hostName: row.event.hostName,
      jobId: row.event.jobId,
      detectedAt: row.event.detectedAt,
      fencedAt: row.event.fencedAt,
    };
  }

  async hostRecovering(hostId: string, since: Date) {
    const n = await this.db.haEvent.count({
      where: { hostId, state: { not: 'cancelled' }, OR: [{ finishedAt: null }, { finishedAt: { gt: since } }] },
    });
    return n > 0;
  }

  async waitingInCluster(clusterId: string) {
    return this.db.haRestart.count({
      where: {
        state: 'waiting-capacity',
        event: { clusterId, state: { notIn: ['recovered', 'cancelled', 'failed'] } },
      },
    });
  }

  async setVmPriority(vmId: string, priority: HaPriority) {
    await this.db.vm.update({ where: { id: vmId }, data: { haPriority: priority } });
  }

  findHostBmc(hostId: string): Promise<HostBmcRow | null> {
    return this.db.hostBmc.findUnique({ where: { hostId } });
  }

  async saveHostBmc(row: HostBmcRow) {
    const { hostId, ...rest } = row;
    await this.db.hostBmc.upsert({ where: { hostId }, create: row, update: rest });
  }

  async deleteHostBmc(hostId: string) {
    return (await this.db.hostBmc.deleteMany({ where: { hostId } })).count > 0;
  }
}
