import { ComputeError } from '../compute/compute.errors';
import type { Clock } from '../shared/clock';
import type { TenantScope } from '../shared/tenant-scope';
import { evaluateHealth, replicaHostDownReason, worstHealth } from './health';
import { ReplicationError } from './replication.errors';
import { type ComplianceInput, type Health, REPLICATION_LIMITS } from './replication.schema';
import type { HostInfo, Relationship, ReplicationRepository } from './replication-repository';
import { compliance, rpoTargetMs } from './rpo';

/** What the portal and the admin console read about replication. */
export class ReplicationQueries {
  constructor(private readonly deps: { repo: ReplicationRepository; clock: Clock }) {}

  /** The replica hosts of these relationships, each read once. */
  private async replicaHosts(rels: readonly Relationship[]): Promise<Map<string, HostInfo | null>> {
    const out = new Map<string, HostInfo | null>();
    for (const id of new Set(rels.map((r) => r.replicaHostId))) out.set(id, await this.deps.repo.findHost(id));
    return out;
  }

  private view(rel: Relationship, now: number, showHosts: boolean, hosts: Map<string, HostInfo | null>) {
    const verdict = evaluateHealth(
      {
        id: rel.id,
        tenantId: rel.tenantId,
        replicaClusterId: rel.replicaClusterId,
        state: rel.state,
        frequencySeconds: rel.frequencySeconds,
        lastSuccessAt: rel.lastSuccessAt?.getTime() ?? null,
        misses: [],
        replicaHostDown: replicaHostDownReason(hosts.get(rel.replicaHostId) ?? null, showHosts),
      },
      now,
    );
    return {
      id: rel.id,
      vmId: rel.vmId,
      vmName: rel.vmName,
      tenantId: rel.tenantId,
      state: rel.state,
      stateReason: rel.stateReason,
      // The stored health counts recorded misses too; the lag may have made it worse since.
      health: worstHealth([rel.health, verdict.health]) as Health,
      healthReason: verdict.reason,
      lagSeconds: verdict.lagMs === null ? null : Math.round(verdict.lagMs / 1000),
      rpoSeconds: rpoTargetMs(rel.frequencySeconds) / 1000,
      frequencySeconds: rel.frequencySeconds,
      additionalPoints: rel.additionalPoints,
      appConsistentHours: rel.appConsistentHours,
      initialMode: rel.initialMode,
      compression: rel.compression,
      targetKind: rel.targetKind,
      direction: rel.generation,
      primaryClusterId: rel.primaryClusterId,
      replicaClusterId: rel.replicaClusterId,
      primaryHostId: showHosts ? rel.primaryHostId : null,
      replicaHostId: showHosts ? rel.replicaHostId : null,
      storagePool: showHosts ? rel.storagePool : null,
      lastSuccessAt: rel.lastSuccessAt?.toISOString() ?? null,
      nextDueAt: rel.nextDueAt?.toISOString() ?? null,
      testVmId: rel.testVmId,
      failoverPointId: rel.failoverPointId,
      createdAt: rel.createdAt.toISOString(),
    };
  }

  async list(scope: TenantScope) {
    const now = this.deps.clock.now().getTime();
    const rows = await this.deps.repo.listRelationships(scope, REPLICATION_LIMITS.listLimit);
    const hosts = await this.replicaHosts(rows);
    return rows.map((r) => this.view(r, now, scope.kind === 'provider', hosts));
  }

  async forVm(scope: TenantScope, vmId: string) {
    const rel = await this.deps.repo.findRelationshipByVm(scope, vmId);
    if (!rel) {
      // Null says "this VM is not replicated"; a VM the caller cannot see (another tenant's, or none) is
      // NOT_FOUND like everywhere else, not an answer about it.
      if (!(await this.deps.repo.findVm(scope, vmId))) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
      return null;
    }
    const now = this.deps.clock.now();
    const [points, cycles] = await Promise.all([
      this.deps.repo.listPoints(scope, rel.id),
      this.deps.repo.listCycles(scope, rel.id, new Date(now.getTime() - 86_400_000), 50),
    ]);
    return {
      relationship: this.view(rel, now.getTime(), scope.kind === 'provider', await this.replicaHosts([rel])),
      points: points.map((p) => ({
        id: p.id,
        takenAt: p.takenAt.toISOString(),
        kind: p.kind,
        /** How the guest's quiesce went when an application-consistent point was asked (null: none asked). */
        quiesce: p.quiesce,
        sizeBytes: p.sizeBytes,
        checksums: p.checksums,
        direction: p.generation,
      })),
      cycles: cycles.map((c) => ({
        id: c.id,
        seq: c.seq,
        mode: c.mode,
        state: c.state,
        startedAt: c.startedAt.toISOString(),
        durationMs: c.durationMs,
        latenessMs: c.latenessMs,
        bytesSent: c.bytesSent,
        bytesLogical: c.bytesLogical,
        checksums: c.checksums,
        errorCode: c.errorCode,
        errorMessage: c.errorMessage,
      })),
    };
  }

  /** RPO compliance per VM (heatmap buckets) and for the whole scope, over a period. */
  async compliance(scope: TenantScope, input: ComplianceInput) {
    const from = Date.parse(input.from);
    const to = Math.min(Date.parse(input.to), this.deps.clock.now().getTime());
    if (to <= from) throw new ReplicationError('REPLICATION_INVALID_STATE', 'The period has not begun yet');
    const bucketMs = input.bucketMinutes * 60_000;
    const [rels, times] = await Promise.all([
      this.deps.repo.listRelationships(scope, REPLICATION_LIMITS.listLimit),
      this.deps.repo.pointTimes(scope, new Date(from), new Date(to)),
    ]);
    let judged = 0;
    let ok = 0;
    const vms = rels.map((rel) => {
      const c = compliance(
        times.get(rel.id) ?? [],
        rpoTargetMs(rel.frequencySeconds),
        from,
        to,
        bucketMs,
        rel.createdAt.getTime(),
      );
      const span = Math.max(0, to - Math.max(from, rel.createdAt.getTime()));
      if (c.share !== null) {
        judged += span;
        ok += c.share * span;
      }
      return {
        vmId: rel.vmId,
        vmName: rel.vmName,
        tenantId: rel.tenantId,
        rpoSeconds: rpoTargetMs(rel.frequencySeconds) / 1000,
        share: c.share,
        buckets: c.buckets.map((b) => b.share),
      };
    });
    const bucketStarts: string[] = [];
    for (let t = from; t < to; t += bucketMs) bucketStarts.push(new Date(t).toISOString());
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      bucketStarts,
      share: judged ? ok / judged : null,
      vms,
    };
  }

  /** The provider's replica health dashboard: counts, per cluster, worst lag, failing relationships, bandwidth. */
  async dashboard() {
    const now = this.deps.clock.now();
    const rels = await this.deps.repo.listRelationships({ kind: 'provider' }, REPLICATION_LIMITS.listLimit);
    const hosts = await this.replicaHosts(rels);
    const rows = rels.map((r) => this.view(r, now.getTime(), true, hosts));
    const counts = { normal: 0, warning: 0, critical: 0 };
    const byCluster = new Map<string, { normal: number; warning: number; critical: number }>();
    for (const r of rows) {
      counts[r.health]++;
      const c = byCluster.get(r.replicaClusterId) ?? { normal: 0, warning: 0, critical: 0 };
      c[r.health]++;
      byCluster.set(r.replicaClusterId, c);
    }
    const worstLag = rows
      .filter((r) => r.lagSeconds !== null)
      .sort((a, b) => (b.lagSeconds ?? 0) - (a.lagSeconds ?? 0))
      .slice(0, 10);
    const failing = rows.filter((r) => r.health === 'critical' || r.state === 'error');
    const bandwidth = await this.deps.repo.bytesPerHour(new Date(now.getTime() - 86_400_000));
    return {
      counts,
      clusters: [...byCluster.entries()].map(([clusterId, c]) => ({ clusterId, ...c })),
      worstLag,
      failing,
      bandwidth,
      total: rows.length,
    };
  }
}
