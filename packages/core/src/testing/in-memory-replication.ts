import type { ReplicaAgentPort, ReplicaTaskRequest } from '../replication/replica-agent-port';
import { ReplicaTaskFailed } from '../replication/replica-agent-port';
import type { ReplicationState } from '../replication/replication.schema';
import type {
  Authorization,
  Cycle,
  CyclePatch,
  HostInfo,
  NewRelationship,
  RecoveryPoint,
  Relationship,
  RelationshipPatch,
  ReplicatedVm,
  ReplicationRepository,
} from '../replication/replication-repository';
import type { VmOwnershipPort } from '../replication/replication-service';
import type { TenantScope } from '../shared/tenant-scope';
import type { Snapshottable } from './in-memory-unit-of-work';

const visible = (scope: TenantScope, tenantId: string) => scope.kind === 'provider' || scope.tenantId === tenantId;

/** Replication's storage in memory, with the VMs and hosts it reads. */
export class InMemoryReplicationRepository implements ReplicationRepository, Snapshottable {
  vms = new Map<string, ReplicatedVm>();
  hosts = new Map<string, HostInfo>();
  clusters = new Set<string>();
  relationships = new Map<string, Relationship>();
  cycles = new Map<string, Cycle>();
  points = new Map<string, RecoveryPoint>();
  authorizations = new Map<string, Authorization>();

  snapshot(): () => void {
    const copy = {
      relationships: new Map(this.relationships),
      cycles: new Map(this.cycles),
      points: new Map(this.points),
      authorizations: new Map(this.authorizations),
    };
    return () => Object.assign(this, copy);
  }

  async findVm(scope: TenantScope, vmId: string) {
    const vm = this.vms.get(vmId);
    return vm && visible(scope, vm.tenantId) ? vm : null;
  }
  async findHost(hostId: string) {
    return this.hosts.get(hostId) ?? null;
  }
  async clusterExists(clusterId: string) {
    return this.clusters.has(clusterId);
  }
  async createRelationship(row: NewRelationship) {
    if ([...this.relationships.values()].some((r) => r.vmId === row.vmId)) throw new Error('unique vm_id');
    const rel: Relationship = {
      ...row,
      health: 'normal',
      healthDueAt: null,
      generation: 1,
      failoverPointId: null,
      testVmId: null,
      nextCycleSeq: 1,
      lastSuccessAt: null,
      lastPointAt: null,
      lastAppConsistentAt: null,
    };
    this.relationships.set(rel.id, rel);
    return rel;
  }
  async findRelationship(scope: TenantScope, id: string) {
    const r = this.relationships.get(id);
    return r && visible(scope, r.tenantId) ? r : null;
  }
  async findRelationshipByVm(scope: TenantScope, vmId: string) {
    return [...this.relationships.values()].find((r) => r.vmId === vmId && visible(scope, r.tenantId)) ?? null;
  }
  async listRelationships(scope: TenantScope, limit: number) {
    return [...this.relationships.values()].filter((r) => visible(scope, r.tenantId)).slice(0, limit);
  }
  async updateRelationship(id: string, patch: RelationshipPatch, expectState?: ReplicationState) {
    const r = this.relationships.get(id);
    if (!r || (expectState !== undefined && r.state !== expectState)) return false;
    this.relationships.set(id, { ...r, ...patch });
    return true;
  }
  async deleteRelationship(id: string) {
    this.relationships.delete(id);
  }
  async dueForCycle(now: Date, limit: number) {
    return [...this.relationships.values()]
      .filter((r) => r.nextDueAt && r.nextDueAt <= now)
      .sort((a, b) => (a.nextDueAt as Date).getTime() - (b.nextDueAt as Date).getTime())
      .slice(0, limit);
  }
  async withoutVm(limit: number) {
    return [...this.relationships.values()]
      .filter((r) => r.state !== 'removing' && !this.vms.has(r.vmId))
      .slice(0, limit);
  }
  async removing(limit: number) {
    return [...this.relationships.values()].filter((r) => r.state === 'removing').slice(0, limit);
  }
  async dueForHealth(now: Date, limit: number) {
    return [...this.relationships.values()].filter((r) => r.healthDueAt && r.healthDueAt <= now).slice(0, limit);
  }
  async createCycle(c: Parameters<ReplicationRepository['createCycle']>[0]) {
    const existing = [...this.cycles.values()].find(
      (x) => x.relationshipId === c.relationshipId && x.generation === c.generation && x.seq === c.seq,
    );
    if (existing) return existing;
    const cycle: Cycle = {
      ...c,
      finishedAt: null,
      durationMs: null,
      bytesSent: 0,
      bytesLogical: 0,
      pointId: null,
      checksums: [],
      errorCode: null,
      errorMessage: null,
    };
    this.cycles.set(cycle.id, cycle);
    return cycle;
  }
  async updateCycle(id: string, patch: CyclePatch) {
    const c = this.cycles.get(id);
    if (c) this.cycles.set(id, { ...c, ...patch });
  }
  async runningCycle(relationshipId: string) {
    return [...this.cycles.values()].find((c) => c.relationshipId === relationshipId && c.state === 'running') ?? null;
  }
  async listCycles(scope: TenantScope, relationshipId: string, since: Date, limit: number) {
    return [...this.cycles.values()]
      .filter((c) => c.relationshipId === relationshipId && visible(scope, c.tenantId) && c.startedAt >= since)
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
      .slice(0, limit);
  }
  async missesSince(ids: readonly string[], since: Date) {
    const out = new Map<string, number[]>();
    for (const c of this.cycles.values()) {
      if (!ids.includes(c.relationshipId) || c.startedAt < since || (c.state !== 'missed' && c.state !== 'failed'))
        continue;
      out.set(c.relationshipId, [...(out.get(c.relationshipId) ?? []), c.startedAt.getTime()]);
    }
    return out;
  }
  async createPoint(p: Omit<RecoveryPoint, 'removedAt'>) {
    if (!this.points.has(p.id)) this.points.set(p.id, { ...p, removedAt: null });
  }
  async listPoints(scope: TenantScope, relationshipId: string, includeRemoved = false) {
    return [...this.points.values()]
      .filter(
        (p) => p.relationshipId === relationshipId && visible(scope, p.tenantId) && (includeRemoved || !p.removedAt),
      )
      .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  }
  async findPoint(scope: TenantScope, relationshipId: string, pointId: string) {
    const p = this.points.get(pointId);
    return p && p.relationshipId === relationshipId && visible(scope, p.tenantId) ? p : null;
  }
  async removePoints(ids: readonly string[], at: Date) {
    for (const id of ids) {
      const p = this.points.get(id);
      if (p && !p.removedAt) this.points.set(id, { ...p, removedAt: at });
    }
  }
  async pointTimes(scope: TenantScope, from: Date, to: Date) {
    const out = new Map<string, number[]>();
    for (const p of this.points.values()) {
      if (!visible(scope, p.tenantId) || p.takenAt >= to) continue;
      out.set(p.relationshipId, [...(out.get(p.relationshipId) ?? []), p.takenAt.getTime()]);
    }
    for (const [k, v] of out) {
      v.sort((a, b) => a - b);
      const before = v.filter((t) => t < from.getTime());
      out.set(k, [...before.slice(-1), ...v.filter((t) => t >= from.getTime())]);
    }
    return out;
  }
  async bytesPerHour(since: Date) {
    const by = new Map<string, { hour: string; bytesSent: number; bytesLogical: number; cycles: number }>();
    for (const c of this.cycles.values()) {
      if (c.startedAt < since) continue;
      const hour = `${c.startedAt.toISOString().slice(0, 13)}:00:00.000Z`;
      const e = by.get(hour) ?? { hour, bytesSent: 0, bytesLogical: 0, cycles: 0 };
      e.bytesSent += c.bytesSent;
      e.bytesLogical += c.bytesLogical;
      e.cycles++;
      by.set(hour, e);
    }
    return [...by.values()].sort((a, b) => a.hour.localeCompare(b.hour));
  }
  async listAuthorizations(filter?: { replicaClusterId?: string }) {
    return [...this.authorizations.values()].filter(
      (a) => !filter?.replicaClusterId || a.replicaClusterId === filter.replicaClusterId,
    );
  }
  async createAuthorization(row: Omit<Authorization, 'createdAt'>) {
    const a = { ...row, createdAt: new Date(0) };
    this.authorizations.set(a.id, a);
    return a;
  }
  async deleteAuthorization(id: string) {
    return this.authorizations.delete(id);
  }
}

/**
 * Agents in memory: disks as maps of block → content per host, so a test can
 * write on the primary, ship, and compare checksums like the real data plane.
 */
export class FakeReplicaAgents implements ReplicaAgentPort {
  /** Every task run, in order (a task id seen twice is a re-run, answered from `results`). */
  readonly calls: ReplicaTaskRequest[] = [];
  readonly results = new Map<string, Record<string, unknown>>();
  /** VM disk content per host: vmId → content (a counter of guest writes stands in for blocks). */
  readonly primaryWrites = new Map<string, number>();
  readonly replicaPoints = new Map<string, Map<string, number>>();
  /** Next replica.cycle fails with this code (once). */
  failNextCycle: string | null = null;
  /** The guest refuses to quiesce: application-consistent cycles give standard points that say so. */
  quiesceRefused = false;
  /** Host ids that are down: tasks there time out. */
  readonly down = new Set<string>();
  /** Running VMs per host. */
  readonly running = new Map<string, Set<string>>();

  write(vmId: string, n = 1) {
    this.primaryWrites.set(vmId, (this.primaryWrites.get(vmId) ?? 0) + n);
  }

  async run(req: ReplicaTaskRequest): Promise<Record<string, unknown>> {
    this.calls.push(req);
    const done = this.results.get(req.taskId);
    if (done) return done;
    if (this.down.has(req.hostId)) throw new ReplicaTaskFailed('TIMEOUT', 'The host did not answer in time');
    const result = this.execute(req);
    this.results.set(req.taskId, result);
    return result;
  }

  private execute(req: ReplicaTaskRequest): Record<string, unknown> {
    const p = req.params;
    const rel = String(p.relationshipId ?? '');
    const points = this.replicaPoints.get(rel) ?? new Map<string, number>();
    this.replicaPoints.set(rel, points);
    const sum = (n: number) => [{ name: 'disk0', sha256: `sha-${req.vmId}-${n}` }];
    switch (req.kind) {
      case 'replica.cycle': {
        if (this.failNextCycle) {
          const code = this.failNextCycle;
          this.failNextCycle = null;
          throw new ReplicaTaskFailed(code, `cycle failed: ${code}`);
        }
        const seq = this.primaryWrites.get(req.vmId) ?? 0;
        points.set(String(p.pointId), seq);
        return {
          pointId: p.pointId,
          bytesSent: 4096 * (p.mode === 'initial' ? 100 : 1),
          bytesLogical: 409_600,
          durationMs: 12,
          disks: sum(seq),
          guestWriteSeq: seq,
          appConsistent: p.appConsistent === true && !this.quiesceRefused,
          quiesce:
            p.appConsistent === true
              ? this.quiesceRefused
                ? { status: 'failed', durationMs: 1, message: "the guest's VSS writer refused to quiesce" }
                : { status: 'quiesced', durationMs: 1, message: 'the guest quiesced' }
              : null,
        };
      }
      case 'replica.failover':
      case 'replica.test-failover': {
        const seq = points.get(String(p.pointId));
        if (seq === undefined) throw new ReplicaTaskFailed('POINT_NOT_FOUND', 'no such point');
        if (req.kind === 'replica.failover') {
          this.primaryWrites.set(req.vmId, seq);
          this.runningOn(req.hostId).add(req.vmId);
        }
        return { disks: sum(seq) };
      }
      case 'vm.stop':
        this.runningOn(req.hostId).delete(req.vmId);
        return {};
      case 'replica.revert':
        this.runningOn(req.hostId).delete(req.vmId);
        return {};
      default:
        return {};
    }
  }

  runningOn(hostId: string) {
    let s = this.running.get(hostId);
    if (!s) {
      s = new Set();
      this.running.set(hostId, s);
    }
    return s;
  }
}

export class FakeOwnership implements VmOwnershipPort {
  readonly epochs = new Map<string, number>();
  readonly placement = new Map<string, { hostId: string; clusterId: string }>();
  readonly states = new Map<string, string>();
  async transfer(vmId: string, to: { hostId: string; clusterId: string }, expectEpoch: number) {
    const epoch = this.epochs.get(vmId) ?? 1;
    if (epoch !== expectEpoch) throw new Error('STALE_EPOCH');
    this.epochs.set(vmId, epoch + 1);
    this.placement.set(vmId, to);
    return epoch + 1;
  }
  async setState(vmId: string, state: 'running' | 'off') {
    this.states.set(vmId, state);
  }
  async epochOf(vmId: string) {
    return this.epochs.get(vmId) ?? 1;
  }
  async spec(vmId: string) {
    return { vmId };
  }
}
