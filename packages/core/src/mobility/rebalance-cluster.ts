/**
 * Dynamic optimization of a cluster (issue 12), the use cases around the pure
 * planner (placement/rebalance.ts):
 *
 *   settings / updateSettings   per cluster: off / recommend / automatic, interval,
 *                               threshold, hold rounds, margin, cap, goal;
 *   tick                        the scheduled job (every minute, once across API
 *                               processes): each cluster not 'off' whose interval has
 *                               passed runs a round; 'automatic' applies its moves;
 *   runNow                      a round on demand (the console's "Plan now"): it
 *                               ignores the hold and does not advance the counter;
 *   apply / applyAll            a recommendation becomes a live migration task.
 *
 * A round reads the placement snapshot, the VMs' power states, which VMs are
 * migrating (pinned), and each VM's measured load over the last interval
 * (metering samples), plans, and writes the round with its recommendations;
 * the round's slot (its time floored to the interval) is unique per cluster, so
 * a second process ticking at the same time writes nothing and starts nothing.
 */
import type { AuditRepository } from '../audit/audit-repository';
import type { PlacementStore } from '../placement/placement-store';
import { planRebalance, type RebalanceVm } from '../placement/rebalance';
import {
  type RebalanceSettings,
  type RebalanceSettingsPatch,
  readRebalanceSettings,
  rebalanceSettingsSchema,
} from '../placement/rebalance-settings.schema';
import type { Clock } from '../shared/clock';
import { type Actor, SYSTEM_ACTOR } from '../shared/tenant-scope';
import type { MigrateRequest } from './migrate-vm';
import { MobilityError } from './mobility.errors';
import { RebalanceError } from './rebalance.errors';
import type { RebalanceRepository, RebalanceRoundRow, RecommendationRow, RoundSource } from './rebalance-repository';

/** What the rebalancer needs of live migration (MigrateVm). */
export interface RebalanceMigrations {
  request(actor: Actor, scope: { kind: 'provider' }, request: MigrateRequest): Promise<{ taskId: string }>;
  /** VMs with a migration queued or running. */
  active(): Promise<readonly { vmId: string }[]>;
}

export interface RebalanceClusterDeps {
  repo: RebalanceRepository;
  placement: PlacementStore;
  migrations: RebalanceMigrations;
  audit: Pick<AuditRepository, 'append'>;
  clock: Clock;
  newId: () => string;
  /** Live migrations per host at once (migrate-vm's cap), for the predictions. */
  migrationsPerHost?: number;
}

export interface ApplyResult {
  readonly recommendationId: string;
  readonly vmName: string;
  readonly ok: boolean;
  readonly taskId: string | null;
  readonly detail: string;
}

const REBALANCER: Actor = { ...SYSTEM_ACTOR, label: 'rebalancer' };
const MINUTE_MS = 60_000;

export class RebalanceCluster {
  constructor(private readonly deps: RebalanceClusterDeps) {}

  async settings(clusterId: string): Promise<{ clusterId: string; clusterName: string; settings: RebalanceSettings }> {
    const row = await this.deps.repo.settings(clusterId);
    if (!row) throw new RebalanceError('REBALANCE_CLUSTER_NOT_FOUND', 'No such cluster');
    return { clusterId, clusterName: row.name, settings: readRebalanceSettings(row.settings) };
  }

  async updateSettings(actor: Actor, clusterId: string, patch: RebalanceSettingsPatch): Promise<RebalanceSettings> {
    const { settings } = await this.settings(clusterId);
    const next = rebalanceSettingsSchema.parse({ ...settings, ...patch });
    await this.deps.repo.saveSettings(clusterId, next);
    await this.deps.audit.append({
      actor,
      action: 'cluster.rebalance-settings',
      targetType: 'cluster',
      targetId: clusterId,
      result: 'success',
      message: `Rebalancing ${next.mode} (${next.goal}) every ${next.intervalMinutes} min: threshold ${next.threshold}, hold ${next.holdRounds} rounds, margin ${next.minImprovement}, at most ${next.maxMovesPerRound} moves per round`,
      details: { ...patch },
    });
    return next;
  }

  /** The latest rounds and the recommendations of the cluster, newest first. */
  async overview(clusterId: string, limit = 10) {
    const { settings, clusterName } = await this.settings(clusterId);
    const [rounds, recommendations] = await Promise.all([
      this.deps.repo.rounds(clusterId, limit),
      this.deps.repo.recommendations(clusterId, 200),
    ]);
    return { clusterId, clusterName, settings, rounds, recommendations };
  }

  /**
   * The scheduled job: a round for each cluster that is not off and whose
   * interval has passed since its last scheduled round. Returns what ran.
   */
  async tick(): Promise<{ clusterId: string; round: RebalanceRoundRow; applied: ApplyResult[] }[]> {
    const now = this.deps.clock.now();
    const out: { clusterId: string; round: RebalanceRoundRow; applied: ApplyResult[] }[] = [];
    for (const cluster of await this.deps.repo.clusters()) {
      const settings = readRebalanceSettings(cluster.settings);
      if (settings.mode === 'off') continue;
      const intervalMs = settings.intervalMinutes * MINUTE_MS;
      const last = await this.deps.repo.lastRound(cluster.id, 'schedule');
      // A small tolerance: a tick a few seconds early for the slot still counts as due.
      if (last && now.getTime() - last.at.getTime() < intervalMs - 5_000) continue;
      const slot = new Date(Math.floor(now.getTime() / intervalMs) * intervalMs);
      const round = await this.round(cluster.id, settings, 'schedule', slot);
      if (!round) continue; // another process ran this slot
      const applied = settings.mode === 'automatic' && round.acting ? await this.applyRound(REBALANCER, round.id) : [];
      out.push({ clusterId: cluster.id, round, applied });
    }
    return out;
  }

  /** A round now, ignoring the hold (a preview the admin asked for); the hold counter is carried unchanged. */
  async runNow(
    actor: Actor,
    clusterId: string,
  ): Promise<{ round: RebalanceRoundRow; recommendations: RecommendationRow[] }> {
    const { settings } = await this.settings(clusterId);
    const round = await this.round(clusterId, settings, 'manual', this.deps.clock.now());
    if (!round) throw new RebalanceError('REBALANCE_ROUND_BUSY', 'A round of this cluster is being written; try again');
    await this.deps.audit.append({
      actor,
      action: 'cluster.rebalance-round',
      targetType: 'cluster',
      targetId: clusterId,
      result: 'success',
      message: round.summary,
    });
    const recommendations = await this.deps.repo.roundRecommendations(round.id);
    return { round, recommendations };
  }

  private async round(
    clusterId: string,
    settings: RebalanceSettings,
    source: RoundSource,
    slot: Date,
  ): Promise<RebalanceRoundRow | null> {
    const now = this.deps.clock.now();
    const since = new Date(now.getTime() - settings.intervalMinutes * MINUTE_MS);
    const [cluster, placed, states, hostCpuMhz, load, active, previous] = await Promise.all([
      this.deps.placement.clusterSnapshot(clusterId),
      this.deps.placement.vmsInCluster(clusterId),
      this.deps.repo.vmStates(clusterId),
      this.deps.repo.hostCpuMhz(clusterId),
      this.deps.repo.measuredLoad(clusterId, since),
      this.deps.migrations.active(),
      this.deps.repo.lastRound(clusterId, 'schedule'),
    ]);
    const migrating = new Set(active.map((m) => m.vmId));
    const vms: RebalanceVm[] = placed.map((v) => {
      const id = v.request.vmId ?? '';
      return {
        request: v.request,
        hostId: v.currentHostId,
        state: states.get(id) ?? 'unknown',
        pinned: migrating.has(id),
        load: load.get(id) ?? null,
      };
    });
    const manual = source === 'manual';
    const counter = previous?.roundsTriggered ?? 0;
    const plan = planRebalance({
      cluster,
      vms,
      hostCpuMhz,
      settings,
      roundsTriggered: counter,
      ignoreHold: manual,
      ...(this.deps.migrationsPerHost === undefined ? {} : { migrationsPerHost: this.deps.migrationsPerHost }),
      seed: 1,
    });
    const { moves, ...rest } = plan;
    const round: RebalanceRoundRow = {
      id: this.deps.newId(),
      clusterId,
      slot,
      at: now,
      source,
      mode: settings.mode,
      goal: settings.goal,
      triggered: plan.triggered,
      // A manual round is a preview: it neither advances nor resets the scheduled rounds' hold.
      roundsTriggered: manual ? counter : plan.roundsTriggered,
      acting: plan.acting,
      imbalanceBefore: plan.imbalanceBefore,
      imbalanceAfter: plan.imbalanceAfter,
      summary: plan.summary,
      plan: rest,
    };
    const recommendations: RecommendationRow[] = moves.map((m, position) => ({
      id: this.deps.newId(),
      roundId: round.id,
      clusterId,
      position,
      vmId: m.vmId,
      vmName: m.vmName,
      fromHostId: m.fromHostId,
      toHostId: m.toHostId,
      state: 'pending',
      whatIf: m,
      taskId: null,
      detail: '',
      createdAt: now,
    }));
    return (await this.deps.repo.saveRound(round, recommendations)) ? round : null;
  }

  /** One recommendation as a live migration task; refused (and marked failed) with the migration's reason. */
  async apply(actor: Actor, recommendationId: string): Promise<ApplyResult> {
    const rec = await this.deps.repo.findRecommendation(recommendationId);
    if (!rec) throw new RebalanceError('REBALANCE_RECOMMENDATION_NOT_FOUND', 'No such recommendation');
    const result = await this.applyOne(actor, rec);
    if (!result.ok) throw new RebalanceError('REBALANCE_RECOMMENDATION_REFUSED', `${rec.vmName}: ${result.detail}`);
    return result;
  }

  /** Every pending recommendation of the cluster's latest round, in plan order; each outcome reported. */
  async applyAll(actor: Actor, clusterId: string): Promise<ApplyResult[]> {
    await this.settings(clusterId);
    const latest = await this.deps.repo.lastRound(clusterId);
    return latest ? this.applyRound(actor, latest.id) : [];
  }

  private async applyRound(actor: Actor, roundId: string): Promise<ApplyResult[]> {
    const recs = (await this.deps.repo.roundRecommendations(roundId)).filter((r) => r.state === 'pending');
    const out: ApplyResult[] = [];
    // In plan order: each move's what-if assumes the ones before it.
    for (const rec of recs) out.push(await this.applyOne(actor, rec));
    return out;
  }

  private async applyOne(actor: Actor, rec: RecommendationRow): Promise<ApplyResult> {
    const base = { recommendationId: rec.id, vmName: rec.vmName };
    if (rec.state !== 'pending') {
      return {
        ...base,
        ok: false,
        taskId: rec.taskId,
        detail: `already ${rec.state}${rec.detail ? `: ${rec.detail}` : ''}`,
      };
    }
    // Stale: the VM is no longer where the plan found it (moved, removed, or a newer plan supersedes it).
    const placed = (await this.deps.placement.vmsInCluster(rec.clusterId)).find((v) => v.request.vmId === rec.vmId);
    if (!placed || placed.currentHostId !== rec.fromHostId) {
      await this.deps.repo.finishRecommendation(rec.id, {
        state: 'failed',
        detail: 'the VM is no longer on the host the plan found it on; run a new round',
      });
      return { ...base, ok: false, taskId: null, detail: 'the VM has moved since the plan: run a new round' };
    }
    if (!(await this.deps.repo.claimRecommendation(rec.id))) {
      return { ...base, ok: false, taskId: null, detail: 'already being applied' };
    }
    try {
      const { taskId } = await this.deps.migrations.request(
        actor,
        { kind: 'provider' },
        {
          vmId: rec.vmId,
          to: rec.toHostId,
        },
      );
      await this.deps.repo.finishRecommendation(rec.id, { state: 'applied', taskId });
      await this.deps.audit.append({
        actor,
        action: 'vm.rebalance',
        targetType: 'vm',
        targetId: rec.vmId,
        targetLabel: rec.vmName,
        result: 'success',
        message: `Rebalancing: ${rec.vmName} migrates (${rec.whatIf.reason})`,
        details: { recommendationId: rec.id, taskId },
      });
      return { ...base, ok: true, taskId, detail: '' };
    } catch (error) {
      if (!(error instanceof MobilityError)) {
        await this.deps.repo.finishRecommendation(rec.id, { state: 'failed', detail: 'the migration could not start' });
        throw error;
      }
      await this.deps.repo.finishRecommendation(rec.id, { state: 'failed', detail: error.message });
      return { ...base, ok: false, taskId: null, detail: error.message };
    }
  }
}
