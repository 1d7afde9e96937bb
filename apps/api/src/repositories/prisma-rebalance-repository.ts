import type {
  RebalanceRepository,
  RebalanceRoundRow,
  RecommendationRow,
  RecommendationState,
  RoundSource,
} from '@fabric/core/mobility/rebalance-repository';
import type { MeasuredLoad, RebalanceMove } from '@fabric/core/placement/rebalance';
import { Prisma } from '@fabric/db/generated/prisma/client';
import { seeingAllTenants } from '../tenancy/scoped-prisma';
import type { PrismaClient } from './prisma';

type RoundRecord = Prisma.RebalanceRoundGetPayload<object>;
type RecommendationRecord = Prisma.RebalanceRecommendationGetPayload<object>;

function roundRow(r: RoundRecord): RebalanceRoundRow {
  return {
    id: r.id,
    clusterId: r.clusterId,
    slot: r.slot,
    at: r.at,
    source: r.source === 'manual' ? 'manual' : 'schedule',
    mode: r.mode,
    goal: r.goal,
    triggered: r.triggered,
    roundsTriggered: r.roundsTriggered,
    acting: r.acting,
    imbalanceBefore: r.imbalanceBefore,
    imbalanceAfter: r.imbalanceAfter,
    summary: r.summary,
    plan: r.plan as unknown as RebalanceRoundRow['plan'],
  };
}

const STATES: readonly RecommendationState[] = ['pending', 'applied', 'failed', 'superseded'];

function recommendationRow(r: RecommendationRecord): RecommendationRow {
  return {
    id: r.id,
    roundId: r.roundId,
    clusterId: r.clusterId,
    position: r.position,
    vmId: r.vmId,
    vmName: r.vmName,
    fromHostId: r.fromHostId,
    toHostId: r.toHostId,
    state: STATES.find((s) => s === r.state) ?? 'failed',
    whatIf: r.whatIf as unknown as RebalanceMove,
    taskId: r.taskId,
    detail: r.detail,
    createdAt: r.createdAt,
  };
}

/** Rebalancing's rounds and recommendations (provider tables), its settings on the cluster, measured load by SQL. */
export class PrismaRebalanceRepository implements RebalanceRepository {
  constructor(private readonly db: PrismaClient) {}

  async clusters() {
    const rows = await this.db.cluster.findMany({
      select: { id: true, name: true, rebalanceSettings: true },
      orderBy: { name: 'asc' },
    });
    return rows.map((r) => ({ id: r.id, name: r.name, settings: r.rebalanceSettings }));
  }

  async settings(clusterId: string) {
    const row = await this.db.cluster.findUnique({
      where: { id: clusterId },
      select: { name: true, rebalanceSettings: true },
    });
    return row ? { name: row.name, settings: row.rebalanceSettings } : null;
  }

  async saveSettings(clusterId: string, settings: unknown) {
    await this.db.cluster.update({
      where: { id: clusterId },
      data: { rebalanceSettings: settings as Prisma.InputJsonObject },
    });
  }

  async vmStates(clusterId: string) {
    // Every tenant's VMs: the rebalancer is provider work (never returned to a tenant).
    const rows = await seeingAllTenants(this.db, () =>
      this.db.vm.findMany({ where: { clusterId, hostId: { not: null } }, select: { id: true, state: true } }),
    );
    return new Map(rows.map((r) => [r.id, r.state as string]));
  }

  async hostCpuMhz(clusterId: string) {
    const rows = await this.db.host.findMany({ where: { clusterId }, select: { id: true, cpuMhz: true } });
    return Object.fromEntries(rows.map((r) => [r.id, r.cpuMhz]));
  }

  async measuredLoad(clusterId: string, since: Date): Promise<Map<string, MeasuredLoad>> {
    // Time-weighted over the window's samples (each sample is an interval's average). The `at` bound
    // prunes vm_samples' daily partitions; the VMs are the cluster's placed ones.
    const rows = await seeingAllTenants(
      this.db,
      () => this.db.$queryRaw<{ vm_id: string; cpu: number; mem: number }[]>`
        SELECT s.vm_id::text AS vm_id,
               (sum(s.cpu_avg_mhz * s.interval_s) / sum(s.interval_s))::float8 AS cpu,
               (sum(s.mem_avg_mib * s.interval_s) / sum(s.interval_s))::float8 AS mem
        FROM vm_samples s JOIN vms v ON v.id = s.vm_id
        WHERE v.cluster_id = ${clusterId}::uuid AND v.host_id IS NOT NULL AND s.at >= ${since}
        GROUP BY s.vm_id`,
    );
    return new Map(rows.map((r) => [r.vm_id, { cpuMhz: r.cpu, memoryMiB: r.mem }]));
  }

  async lastRound(clusterId: string, source?: RoundSource) {
    const row = await this.db.rebalanceRound.findFirst({
      where: { clusterId, ...(source ? { source } : {}) },
      orderBy: { at: 'desc' },
    });
    return row ? roundRow(row) : null;
  }

  async saveRound(round: RebalanceRoundRow, recommendations: readonly RecommendationRow[]): Promise<boolean> {
    try {
      await this.db.$transaction(async (tx) => {
        await tx.rebalanceRecommendation.updateMany({
          where: { clusterId: round.clusterId, state: 'pending' },
          data: { state: 'superseded', detail: 'a newer round replaced it' },
        });
        await tx.rebalanceRound.create({
          data: {
            id: round.id,
            clusterId: round.clusterId,
            slot: round.slot,
            at: round.at,
            source: round.source,
            mode: round.mode,
            goal: round.goal,
            triggered: round.triggered,
            roundsTriggered: round.roundsTriggered,
            acting: round.acting,
            imbalanceBefore: round.imbalanceBefore,
            imbalanceAfter: round.imbalanceAfter,
            summary: round.summary,
            plan: round.plan as unknown as Prisma.InputJsonObject,
          },
        });
        if (recommendations.length) {
          await tx.rebalanceRecommendation.createMany({
            data: recommendations.map((r) => ({
              id: r.id,
              roundId: r.roundId,
              clusterId: r.clusterId,
              position: r.position,
              vmId: r.vmId,
              vmName: r.vmName,
              fromHostId: r.fromHostId,
              toHostId: r.toHostId,
              state: r.state,
              whatIf: r.whatIf as unknown as Prisma.InputJsonObject,
              createdAt: r.createdAt,
            })),
          });
        }
      });
      return true;
    } catch (error) {
      // The (cluster, slot) key: another process wrote this round first; nothing of ours was kept.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
      throw error;
    }
  }

  async rounds(clusterId: string, limit: number) {
    const rows = await this.db.rebalanceRound.findMany({ where: { clusterId }, orderBy: { at: 'desc' }, take: limit });
    return rows.map(roundRow);
  }

  async recommendations(clusterId: string, limit: number) {
    const rows = await this.db.rebalanceRecommendation.findMany({
      where: { clusterId },
      orderBy: [{ createdAt: 'desc' }, { position: 'asc' }],
      take: limit,
    });
    return rows.map(recommendationRow);
  }

  async roundRecommendations(roundId: string) {
    const rows = await this.db.rebalanceRecommendation.findMany({ where: { roundId }, orderBy: { position: 'asc' } });
    return rows.map(recommendationRow);
  }

  async findRecommendation(id: string) {
    const row = await this.db.rebalanceRecommendation.findUnique({ where: { id } });
    return row ? recommendationRow(row) : null;
  }

  async claimRecommendation(id: string) {
    const { count } = await this.db.rebalanceRecommendation.updateMany({
      where: { id, state: 'pending' },
      data: { state: 'applied' },
    });
    return count === 1;
  }

  async finishRecommendation(id: string, outcome: { state: RecommendationState; taskId?: string; detail?: string }) {
    await this.db.rebalanceRecommendation.update({
      where: { id },
      data: {
        state: outcome.state,
        ...(outcome.taskId ? { taskId: outcome.taskId } : {}),
        ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      },
    });
  }
}
