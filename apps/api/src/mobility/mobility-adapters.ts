import type { EvacuatedMove, EvacuationLog, MaintainedHost } from '@fabric/core/mobility/bring-back-vms';
import type {
  MigrationAgentPort,
  MigrationHistoryRow,
  MigrationRecord,
  MigrationTaskRequest,
  MobilityStore,
  MobilityVm,
} from '@fabric/core/mobility/migrate-vm';
import { MIGRATE_VM_JOB_KIND, MigrationTaskFailed } from '@fabric/core/mobility/migrate-vm';
import type { StorageMoveRecord, StorageMoveStore, VmDiskPlacement } from '@fabric/core/mobility/move-vm-storage';
import type { Clock } from '@fabric/core/shared/clock';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import { awaitAgentTask, queueAgentTask } from '@fabric/core/tasks/agent-task-await';
import type { TaskJsonObject } from '@fabric/core/tasks/task-protocol.schema';
import type { Prisma, PrismaClient } from '@fabric/db/generated/prisma/client';
import { z } from 'zod';
import { PrismaVmOwnership, type ReplicationRepos } from '../replication/replication-adapters';
import { tenantScopedPrisma } from '../tenancy/scoped-prisma';

/** migration.* tasks through the agent task queue (shared contract part 1): queued by id, awaited by polling. */
export class TaskQueueMigrationAgents implements MigrationAgentPort {
  constructor(private readonly deps: { uow: UnitOfWork<ReplicationRepos>; clock: Clock; pollMs?: number }) {}

  async run(req: MigrationTaskRequest): Promise<Record<string, unknown>> {
    const vm = await this.deps.uow.repos.vms.findVm({ kind: 'provider' }, req.vmId);
    if (!vm) throw new MigrationTaskFailed('VM_GONE', 'The VM no longer exists');
    await queueAgentTask(this.deps, {
      id: req.taskId,
      kind: req.kind,
      vmId: req.vmId,
      hostId: req.hostId,
      tenantId: vm.tenantId,
      requestedBy: 'migration',
      params: req.params as TaskJsonObject,
    });
    const outcome = await awaitAgentTask(this.deps, req.taskId, {
      timeoutMs: req.timeoutMs,
      pollMs: this.deps.pollMs ?? 200,
    });
    if (outcome.state === 'succeeded') return (outcome.result ?? {}) as Record<string, unknown>;
    if (outcome.state === 'failed')
      throw new MigrationTaskFailed(outcome.errorCode, outcome.message || outcome.errorCode);
    throw new MigrationTaskFailed(
      'TIMEOUT',
      `The host did not finish ${req.kind} in ${Math.round(req.timeoutMs / 1000)} s`,
    );
  }
}

/**
 * Postgres behind migration: the VM, its latest CPU share, ownership (ha's epochs), and the record on the job row;
 * and, for leaving maintenance, the migrations an evacuation recorded (their record's origin).
 */
export class PrismaMobilityStore implements MobilityStore, EvacuationLog {
  private readonly ownership: PrismaVmOwnership;
  private readonly db: PrismaClient;

  constructor(private readonly deps: { uow: UnitOfWork<ReplicationRepos>; prisma: PrismaClient; clock: Clock }) {
    this.ownership = new PrismaVmOwnership({ uow: deps.uow, clock: deps.clock });
    this.db = tenantScopedPrisma(deps.prisma);
  }

  async findVm(scope: TenantScope, vmId: string): Promise<MobilityVm | null> {
    const vm = await this.deps.uow.repos.vms.findVm(scope, vmId);
    return vm
      ? {
          id: vm.id,
          name: vm.name,
          tenantId: vm.tenantId,
          hostId: vm.hostId,
          clusterId: vm.clusterId,
          state: vm.state,
          vcpus: vm.vcpus,
          memoryMiB: vm.memoryMiB,
        }
      : null;
  }

  async cpuShare(vmId: string): Promise<number | null> {
    const rows = await this.db.$queryRaw<{ share: number | null }[]>`
      SELECT (s.cpu_avg_mhz / NULLIF(v.vcpus * h.cpu_mhz, 0))::float8 AS share
      FROM vm_samples s JOIN vms v ON v.id = s.vm_id JOIN hosts h ON h.id = s.host_id
      WHERE s.vm_id = ${vmId}::uuid ORDER BY s.at DESC LIMIT 1`;
    const share = rows[0]?.share;
    return typeof share === 'number' && Number.isFinite(share) ? share : null;
  }

  epochOf(vmId: string) {
    return this.ownership.epochOf(vmId);
  }

  transfer(vmId: string, to: { hostId: string; clusterId: string }, expectEpoch: number) {
    return this.ownership.transfer(vmId, to, expectEpoch);
  }

  spec(vmId: string) {
    return this.ownership.spec(vmId);
  }

  async readRecord(jobId: string): Promise<MigrationRecord | null> {
    const job = await this.db.job.findUnique({ where: { id: jobId }, select: { result: true } });
    const result = job?.result;
    return result && typeof result === 'object' && !Array.isArray(result) ? (result as MigrationRecord) : null;
  }

  async writeRecord(jobId: string, record: MigrationRecord): Promise<void> {
    await this.db.job.update({ where: { id: jobId }, data: { result: record as Prisma.InputJsonValue } });
  }

  async history(scope: TenantScope, limit: number): Promise<MigrationHistoryRow[]> {
    const jobs = await this.db.job.findMany({
      where: {
        kind: MIGRATE_VM_JOB_KIND,
        ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}),
      },
      orderBy: { createdAt: 'desc' },
      take: limit,
      select: {
        id: true,
        targetId: true,
        targetLabel: true,
        tenantId: true,
        state: true,
        createdAt: true,
        result: true,
      },
    });
    // Two tenants may each have a VM of the same name: the history names each VM's tenant.
    const tenantIds = [...new Set(jobs.flatMap((j) => (j.tenantId ? [j.tenantId] : [])))];
    const tenants = tenantIds.length
      ? await this.db.tenant.findMany({ where: { id: { in: tenantIds } }, select: { id: true, name: true } })
      : [];
    const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
    return jobs.map((j) => ({
      jobId: j.id,
      vmId: j.targetId,
      vmName: j.targetLabel,
      tenantName: j.tenantId ? (tenantName.get(j.tenantId) ?? null) : null,
      state: j.state,
      createdAt: j.createdAt.toISOString(),
      record:
        j.result && typeof j.result === 'object' && !Array.isArray(j.result) ? (j.result as MigrationRecord) : null,
    }));
  }

  async host(hostId: string): Promise<MaintainedHost | null> {
    const host = await this.db.host.findUnique({
      where: { id: hostId },
      select: { id: true, name: true, clusterId: true, state: true, stateChangedAt: true },
    });
    return host;
  }

  /** The record's origin is JSON on the job row (migrate-vm.ts MigrationRecord.origin). */
  async evacuatedSince(hostId: string, since: Date): Promise<EvacuatedMove[]> {
    const rows = await this.db.$queryRaw<
      {
        id: string;
        vm_id: string;
        vm_name: string;
        state: string;
        to_host_id: string | null;
        live: boolean | null;
        requested_at: string | null;
      }[]
    >`
      SELECT j.id, j.target_id AS vm_id, j.target_label AS vm_name, j.state::text AS state,
             j.result->>'toHostId' AS to_host_id, (j.result->>'live')::boolean AS live,
             j.result->>'requestedAt' AS requested_at
      FROM jobs j
      WHERE j.kind = ${MIGRATE_VM_JOB_KIND}
        AND j.result->'origin'->>'kind' = 'evacuation'
        AND j.result->'origin'->>'hostId' = ${hostId}
        AND j.created_at >= ${since}
      ORDER BY j.created_at DESC, j.id`;
    return rows.map((r) => ({
      jobId: r.id,
      vmId: r.vm_id,
      vmName: r.vm_name,
      toHostId: r.to_host_id ?? '',
      live: r.live ?? false,
      jobState: r.state,
      requestedAt: r.requested_at ?? '',
    }));
  }
}

/** Postgres behind live storage migration: the VM's disks and their pools, and the move's record on its job row. */
export class PrismaStorageMoveStore implements StorageMoveStore {
  private readonly db: PrismaClient;

  constructor(prisma: PrismaClient) {
    this.db = tenantScopedPrisma(prisma);
  }

  async disks(vmId: string): Promise<VmDiskPlacement[]> {
    const rows = await this.db.vmDisk.findMany({
      where: { vmId },
      orderBy: { name: 'asc' },
      select: { name: true, pool: true, sizeBytes: true },
    });
    return rows.map((d) => ({ name: d.name, pool: d.pool, sizeBytes: Number(d.sizeBytes) }));
  }

  async setDiskPool(vmId: string, diskNames: readonly string[], pool: string): Promise<void> {
    await this.db.vmDisk.updateMany({ where: { vmId, name: { in: [...diskNames] } }, data: { pool } });
  }

  async readRecord(jobId: string): Promise<StorageMoveRecord | null> {
    const job = await this.db.job.findUnique({ where: { id: jobId }, select: { result: true } });
    const result = job?.result;
    return result && typeof result === 'object' && !Array.isArray(result) ? (result as StorageMoveRecord) : null;
  }

  async writeRecord(jobId: string, record: StorageMoveRecord): Promise<void> {
    await this.db.job.update({ where: { id: jobId }, data: { result: record as Prisma.InputJsonValue } });
  }
}

/**
 * FABRIC_MIGRATION_TIME_SCALE: wall seconds per modeled second on the agents'
 * simulated migrations (default 1, real time; tests use 0.01). 0–10.
 */
export function migrationTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = z.coerce
    .number()
    .min(0, { message: 'FABRIC_MIGRATION_TIME_SCALE must be at least 0' })
    .max(10, { message: 'FABRIC_MIGRATION_TIME_SCALE must be at most 10' })
    .default(1)
    .parse(env.FABRIC_MIGRATION_TIME_SCALE || undefined);
  return parsed;
}
