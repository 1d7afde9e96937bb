/**
 * Live migration of one VM (the whitepaper's "Migrate virtual machines without
 * downtime"), a durable workflow carried out through both hosts' agents:
 *
 *   queue     waits for a slot: at most 2 live migrations per host and 8 per
 *             cluster at once (Hyper-V's default of 2 simultaneous live
 *             migrations per host); the older requests go first;
 *   setup     destination: skeleton VM created, memory reserved;
 *   storage-copy  the disks copied to the destination while the guest writes to
 *             its source files, every write from then on mirrored to both (no
 *             pool is shared between hosts: shared-nothing, the whitepaper's
 *             steps 1–3; agent side apps/agent/src/migration/disk-transfer.ts);
 *   precopy   source: memory sent in passes while the VM runs;
 *   final     source: the VM paused, the last pages and device state sent (the
 *             blackout), the source partition torn down — the point of no return;
 *   storage   the guest stopped, the mirror drained: the destination's disks are
 *             checked equal to the source's by digest and complete (step 4);
 *   online    ownership moves with transferOwnership (compare-and-set on the
 *             epoch), then the destination starts the VM;
 *   cleanup   source: the VM's copy removed with its disk files (step 6).
 *
 * A cold move (VM off) copies the disks the same way, without writes to mirror.
 * Before the final copy a cancel (or any failure) undoes the setup and leaves
 * the VM running on the source. Requests validate first and write nothing
 * when they refuse. Predicted and observed duration and blackout are kept on
 * the task's result (the migration history).
 */
import type { JobRepository } from '../jobs/job-repository';
import type { JobTracker } from '../jobs/job-tracker';
import { PlacementSession } from '../placement/place';
import { PlacementError } from '../placement/placement.errors';
import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot, PlacementRequest } from '../placement/snapshot';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { WorkflowContext, WorkflowDefinition, WorkflowEngine } from '../workflows/workflow';
import { explainBestMove } from './explain-best-move';
import {
  DEFAULT_MIGRATION_POLICY,
  guestDirtying,
  type MigrationPolicy,
  type MigrationPrediction,
  predictMigration,
} from './migration-model';
import { MobilityError } from './mobility.errors';

export const MIGRATE_VM_JOB_KIND = 'mobility.migrate-vm';
/** Live storage migration's jobs (move-vm-storage.ts): a VM moving its storage does not also migrate. */
export const MOVE_VM_STORAGE_JOB_KIND = 'mobility.move-vm-storage';

export type MigrationTaskKind =
  | 'migration.prepare'
  | 'migration.precopy'
  | 'migration.final'
  | 'migration.activate'
  | 'migration.cleanup'
  | 'migration.abort'
  | 'migration.disks-receive'
  | 'migration.disks-copy'
  | 'migration.disks-handover'
  | 'migration.disks-abort'
  | 'storage.copy'
  | 'storage.sync'
  | 'storage.switch'
  | 'storage.cleanup'
  | 'storage.abort';

export interface MigrationTaskRequest {
  readonly taskId: string;
  readonly hostId: string;
  readonly vmId: string;
  readonly kind: MigrationTaskKind;
  readonly params: Record<string, unknown>;
  readonly timeoutMs: number;
}

/** An agent task of the migration failed or timed out (its code, e.g. VM_NOT_FOUND or TIMEOUT). */
export class MigrationTaskFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationTaskFailed';
  }
}

export interface MigrationAgentPort {
  /** Queues the task (idempotent on taskId) and resolves with its result; throws MigrationTaskFailed. */
  run(request: MigrationTaskRequest): Promise<Record<string, unknown>>;
}

export interface MobilityVm {
  readonly id: string;
  readonly name: string;
  readonly tenantId: string;
  readonly hostId: string | null;
  readonly clusterId: string | null;
  readonly state: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
}

/** What migration reads and moves of the fabric besides placement. */
export interface MobilityStore {
  /** The VM as the scope sees it (another tenant's is null). */
  findVm(scope: TenantScope, vmId: string): Promise<MobilityVm | null>;
  /** The VM's CPU share (0–1 of its vCPUs) over its latest metered interval; null when never metered. */
  cpuShare(vmId: string): Promise<number | null>;
  epochOf(vmId: string): Promise<number>;
  /** transferOwnership (compute/ownership.ts); idempotent when the VM is already there under a newer epoch. */
  transfer(vmId: string, to: { hostId: string; clusterId: string }, expectEpoch: number): Promise<number>;
  /** The VM as a host needs it to create it (the agent protocol's vm spec). */
  spec(vmId: string): Promise<Record<string, unknown> | null>;
  /** A migration job's record (kept in the job's result column), null when none. */
  readRecord(jobId: string): Promise<MigrationRecord | null>;
  writeRecord(jobId: string, record: MigrationRecord): Promise<void>;
  /** Finished migrations, newest first (the history). */
  history(scope: TenantScope, limit: number): Promise<MigrationHistoryRow[]>;
}

export interface MigrationHistoryRow {
  readonly jobId: string;
  readonly vmId: string;
  readonly vmName: string;
  /** The VM's tenant (null when the job has none or the tenant is gone): same-name VMs of two tenants differ by it. */
  readonly tenantName: string | null;
  readonly state: string;
  readonly createdAt: string;
  readonly record: MigrationRecord | null;
}

export interface MigrationCaps {
  readonly perHost: number;
  readonly perCluster: number;
}
export const DEFAULT_MIGRATION_CAPS: MigrationCaps = { perHost: 2, perCluster: 8 };

export interface MigrateVmDeps {
  uow: UnitOfWork<{ jobs: JobRepository }>;
  placement: PlacementStore;
  store: MobilityStore;
  agents: MigrationAgentPort;
  workflows: WorkflowEngine;
  tracker: JobTracker;
  clock: Clock;
  newId: () => string;
  policy?: MigrationPolicy;
  caps?: MigrationCaps;
  /** Wall seconds per modeled second on the agents (1 = real time). */
  timeScale?: number;
  taskTimeoutMs?: number;
  /** Between looks for a free slot. */
  sleep?: (ms: number) => Promise<void>;
  /** How long a migration waits for a slot at most. */
  queueTimeoutMs?: number;
  seed?: () => number;
}

export interface MigrateRequest {
  readonly vmId: string;
  /** A host id, or 'best': the engine chooses (never the VM's own host). */
  readonly to: string;
  /** Another cluster for 'best' (the VM's cluster follows it). */
  readonly toClusterId?: string;
  /** Why it moves, kept on its record: an evacuation's moves are what leaving maintenance brings back. */
  readonly origin?: MigrationOrigin;
}

/**
 * Migrations decided together (by pattern): each plan's destination is booked
 * here, and every later plan of the batch is decided on its cluster with those
 * bookings added, so "best" spreads the VMs as the engine scores instead of
 * naming one host for all of them. The VMs still hold their sources (they run
 * there until they land). Filled by preview; the caller only keeps it.
 */
export class MigrationBatch {
  private readonly booked: { clusterId: string; hostId: string; request: PlacementRequest }[] = [];

  book(clusterId: string, hostId: string, request: PlacementRequest): void {
    this.booked.push({ clusterId, hostId, request });
  }

  /** The cluster with the batch's bookings on it (a booking its host no longer takes is left out: the single check refuses it later). */
  apply(cluster: ClusterSnapshot): ClusterSnapshot {
    const mine = this.booked.filter((b) => b.clusterId === cluster.id);
    if (mine.length === 0) return cluster;
    const session = new PlacementSession(cluster, { seed: 0 });
    for (const b of mine) {
      try {
        session.commit(b.request, b.hostId);
      } catch (error) {
        if (!(error instanceof PlacementError)) throw error;
      }
    }
    return session.snapshot();
  }
}

/** A migration started by maintenance (not by an admin's or the rebalancer's choice of this VM). */
export type MigrationOrigin =
  | { readonly kind: 'evacuation'; readonly hostId: string }
  | { readonly kind: 'bring-back'; readonly hostId: string; readonly taskId: string };

export interface MigrationPlan {
  readonly vmId: string;
  readonly vmName: string;
  readonly fromHostId: string;
  readonly toHostId: string;
  readonly toHostName: string;
  readonly toClusterId: string;
  readonly live: boolean;
  /** The engine's words: why this host ("Placed on hv-03 (score 87.2 of 100; 12 of 16 hosts fit)"). */
  readonly explanation: string;
  readonly predicted: MigrationPrediction | null;
  readonly linkMbps: number;
  readonly concurrent: number;
}

/** Kept on the job's result while it runs and after: the history's row. */
export interface MigrationRecord {
  readonly fromHostId: string;
  readonly toHostId: string;
  readonly toHostName: string;
  readonly fromClusterId: string;
  readonly toClusterId: string;
  readonly live: boolean;
  readonly requestedAt: string;
  readonly predicted: {
    totalSeconds: number;
    blackoutMs: number;
    passes: number;
    verdict: string;
    reason: string | null;
  } | null;
  readonly observed?: { totalSeconds: number; blackoutMs: number; passes: number; sentMiB: number };
  readonly cancelRequested?: boolean;
  [key: string]: unknown;
  readonly pastPointOfNoReturn?: boolean;
  readonly outcome?: 'completed' | 'cancelled' | 'failed';
  readonly origin?: MigrationOrigin;
}

interface MigrateInput {
  jobId: string;
  vmId: string;
  vmName: string;
  plan: MigrationPlan;
  record: MigrationRecord;
  expectEpoch: number;
  seed: number;
}

const STEPS = [
  { key: 'queue', label: 'Wait for a migration slot' },
  { key: 'setup', label: 'Skeleton VM and memory reserved on the destination' },
  { key: 'storage-copy', label: 'Disks copied to the destination, writes mirrored to both' },
  { key: 'precopy', label: 'Memory pre-copy' },
  { key: 'final', label: 'Final copy (the VM pauses)' },
  { key: 'storage', label: "Disks synchronized: the destination's copy checked equal" },
  { key: 'online', label: 'Online on the destination' },
  { key: 'cleanup', label: 'Source cleaned up (its disk files deleted)' },
] as const;

const COLD_STEPS = [
  { key: 'queue', label: 'Wait for a migration slot' },
  { key: 'setup', label: 'VM registered on the destination' },
  { key: 'storage-copy', label: 'Disks copied to the destination' },
  { key: 'storage', label: "Disks synchronized: the destination's copy checked equal" },
  { key: 'online', label: 'Ownership moved' },
  { key: 'cleanup', label: 'Source cleaned up (its disk files deleted)' },
] as const;

function maxLinkMbps(cluster: ClusterSnapshot, hostId: string): number {
  const host = cluster.hosts.find((h) => h.id === hostId);
  return Math.max(1_000, ...(host?.nics.map((n) => n.linkSpeedMbps) ?? []));
}

export class MigrateVm {
  readonly workflow: WorkflowDefinition<MigrateInput>;

  constructor(private readonly deps: MigrateVmDeps) {
    this.workflow = { name: MIGRATE_VM_JOB_KIND, run: (ctx, input) => this.run(ctx, input) };
  }

  private get policy() {
    return this.deps.policy ?? DEFAULT_MIGRATION_POLICY;
  }
  private get caps() {
    return this.deps.caps ?? DEFAULT_MIGRATION_CAPS;
  }

  /** Active migrations (queued or running), with their hosts, oldest request first. */
  async active(): Promise<(MigrationRecord & { jobId: string; vmId: string })[]> {
    const jobs = this.deps.uow.repos.jobs;
    const rows = await jobs.activeTasks(MIGRATE_VM_JOB_KIND);
    const out: (MigrationRecord & { jobId: string; vmId: string })[] = [];
    for (const row of rows) {
      const record = await this.deps.store.readRecord(row.id);
      if (record?.fromHostId) out.push({ ...record, jobId: row.id, vmId: row.targetId });
    }
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.jobId.localeCompare(b.jobId));
  }

  /**
   * Where the VM would go and what the move would cost; nothing is written.
   * With a batch, the destination is decided with the batch's earlier
   * destinations booked, and this one is booked in turn.
   */
  async preview(scope: TenantScope, request: MigrateRequest, batch?: MigrationBatch): Promise<MigrationPlan> {
    const vm = await this.deps.store.findVm(scope, request.vmId);
    if (!vm) throw new MobilityError('MIGRATION_VM_NOT_FOUND', `No VM ${request.vmId}`);
    if (!vm.hostId || !vm.clusterId) {
      throw new MobilityError('MIGRATION_VM_STATE', `${vm.name} is on no host (state ${vm.state}): nothing to move`);
    }
    const live = vm.state === 'running';
    if (!live && vm.state !== 'off' && vm.state !== 'saved') {
      throw new MobilityError(
        'MIGRATION_VM_STATE',
        `${vm.name} is ${vm.state}: a VM moves running (live) or off/saved (cold), not while ${vm.state}`,
      );
    }
    const active = await this.active();
    if (active.some((m) => m.vmId === vm.id)) {
      throw new MobilityError('MIGRATION_ALREADY_ACTIVE', `${vm.name} is already migrating`);
    }
    const movingStorage = await this.deps.uow.repos.jobs.activeTasks(MOVE_VM_STORAGE_JOB_KIND);
    if (movingStorage.some((m) => m.targetId === vm.id)) {
      throw new MobilityError(
        'MIGRATION_ALREADY_ACTIVE',
        `${vm.name} is moving its storage: it migrates once that is done`,
      );
    }
    const { placement } = this.deps;
    const source = await placement.clusterSnapshot(vm.clusterId);
    const placed = (await placement.vmsInCluster(vm.clusterId)).find((v) => v.request.vmId === vm.id);
    const req: PlacementRequest = placed?.request ?? {
      vmId: vm.id,
      name: vm.name,
      tenantId: vm.tenantId,
      vcpus: vm.vcpus,
      memoryMiB: vm.memoryMiB,
      disks: [],
      nics: [],
      groups: [],
      haPriority: 'off',
    };
    if (request.toClusterId && request.toClusterId !== vm.clusterId) {
      const clusters = await placement.placementClusters();
      if (!clusters.some((cl) => cl.id === request.toClusterId)) {
        throw new MobilityError('MIGRATION_TARGET_NOT_FOUND', `No cluster ${request.toClusterId}`);
      }
    }
    let targetClusterId = request.toClusterId ?? vm.clusterId;
    if (request.to !== 'best') {
      const clusterOfHost = await placement.clusterOfHost(request.to);
      if (!clusterOfHost) throw new MobilityError('MIGRATION_TARGET_NOT_FOUND', `No host ${request.to}`);
      targetClusterId = clusterOfHost;
    }
    const unbooked = targetClusterId === vm.clusterId ? source : await placement.clusterSnapshot(targetClusterId);
    const target = batch ? batch.apply(unbooked) : unbooked;
    const seed = this.deps.seed?.() ?? 1;
    let toHostId: string;
    let explanation: string;
    if (request.to === 'best') {
      // The VM's own host is no candidate: shown to the engine as in maintenance.
      const without: ClusterSnapshot = {
        ...target,
        hosts: target.hosts.map((h) => (h.id === vm.hostId ? { ...h, state: 'maintenance' as const } : h)),
      };
      const decision = new PlacementSession(without, { seed, trace: 'summary', topCandidates: 3 }).place(req);
      // Summary traces evaluate every host, so the source is among the rejections exactly once.
      explanation =
        target.id === vm.clusterId && target.hosts.some((h) => h.id === vm.hostId)
          ? explainBestMove(decision, vm.hostId)
          : decision.summary;
      if (!decision.hostId) throw new MobilityError('MIGRATION_NO_TARGET', `${vm.name} cannot move: ${explanation}`);
      toHostId = decision.hostId;
    } else {
      toHostId = request.to;
      if (toHostId === vm.hostId)
        throw new MobilityError('MIGRATION_SAME_HOST', `${vm.name} already runs on that host`);
      const host = target.hosts.find((h) => h.id === toHostId);
      if (!host) throw new MobilityError('MIGRATION_TARGET_NOT_FOUND', `No host ${request.to}`);
      try {
        new PlacementSession(target, { seed }).commit(req, toHostId);
      } catch (error) {
        if (error instanceof PlacementError) throw new MobilityError('MIGRATION_TARGET_REFUSED', error.message);
        throw error;
      }
      explanation = `${host.name} passes every filter for ${vm.name}`;
    }
    const toHost = target.hosts.find((h) => h.id === toHostId);
    const linkMbps = Math.min(maxLinkMbps(source, vm.hostId), maxLinkMbps(target, toHostId));
    const sharing = active.filter((m) =>
      [m.fromHostId, m.toHostId].some((h) => h === vm.hostId || h === toHostId),
    ).length;
    const concurrent = 1 + Math.min(sharing, this.caps.perHost * 2);
    let predicted: MigrationPrediction | null = null;
    if (live) {
      const share = (await this.deps.store.cpuShare(vm.id)) ?? 0.3;
      predicted = predictMigration(
        { memoryMiB: vm.memoryMiB, ...guestDirtying(vm.vcpus, vm.memoryMiB, share), linkMbps, concurrent },
        this.policy,
      );
      if (predicted.verdict === 'refused') {
        throw new MobilityError(
          'MIGRATION_WOULD_NOT_CONVERGE',
          `${vm.name} ${predicted.reason ?? 'would not converge'}`,
        );
      }
    }
    // Booked once nothing can refuse any more: a refused VM holds no room in the batch.
    batch?.book(targetClusterId, toHostId, req);
    return {
      vmId: vm.id,
      vmName: vm.name,
      fromHostId: vm.hostId,
      toHostId,
      toHostName: toHost?.name ?? toHostId,
      toClusterId: targetClusterId,
      live,
      explanation,
      predicted,
      linkMbps,
      concurrent,
    };
  }

  /** Validates (nothing written on refusal), records the task, starts the workflow. */
  async request(
    actor: Actor,
    scope: TenantScope,
    request: MigrateRequest,
    batch?: MigrationBatch,
  ): Promise<{ taskId: string; plan: MigrationPlan }> {
    const { taskId, plan, input } = await this.createTask(actor, scope, request, batch);
    await this.deps.workflows.start(this.workflow, input, { workflowId: taskId });
    return { taskId, plan };
  }

  /**
   * request() from inside another workflow (bringing VMs back after maintenance):
   * the task is validated and written in a step of the caller, and its workflow
   * started outside that step (the engine starts no workflow inside a step), so a
   * caller resumed after a crash starts it once, by its id. A refusal is answered,
   * not thrown, and recorded like a result.
   */
  async requestWithin(
    ctx: WorkflowContext,
    stepName: string,
    actor: Actor,
    scope: TenantScope,
    request: MigrateRequest,
  ): Promise<{ taskId: string; plan: MigrationPlan } | { refused: { code: string; message: string } }> {
    const created = await ctx.step(stepName, () =>
      this.createTask(actor, scope, request).then(
        (task) => ({ ok: true as const, task }),
        (error: unknown) => {
          if (!(error instanceof MobilityError)) throw error;
          return { ok: false as const, code: error.code, message: error.message };
        },
      ),
    );
    if (!created.ok) return { refused: { code: created.code, message: created.message } };
    const { taskId, plan, input } = created.task;
    await this.deps.workflows.start(this.workflow, input, { workflowId: taskId });
    return { taskId, plan };
  }

  private async createTask(
    actor: Actor,
    scope: TenantScope,
    request: MigrateRequest,
    batch?: MigrationBatch,
  ): Promise<{ taskId: string; plan: MigrationPlan; input: MigrateInput }> {
    const plan = await this.preview(scope, request, batch);
    const vm = await this.deps.store.findVm(scope, request.vmId);
    if (!vm?.clusterId) throw new MobilityError('MIGRATION_VM_NOT_FOUND', `No VM ${request.vmId}`);
    const jobId = this.deps.newId();
    const now = this.deps.clock.now();
    const record: MigrationRecord = {
      fromHostId: plan.fromHostId,
      toHostId: plan.toHostId,
      toHostName: plan.toHostName,
      fromClusterId: vm.clusterId,
      toClusterId: plan.toClusterId,
      live: plan.live,
      requestedAt: now.toISOString(),
      ...(request.origin ? { origin: request.origin } : {}),
      predicted: plan.predicted
        ? {
            totalSeconds: plan.predicted.totalSeconds,
            blackoutMs: plan.predicted.blackoutMs,
            passes: plan.predicted.passes.length,
            verdict: plan.predicted.verdict,
            reason: plan.predicted.reason,
          }
        : null,
    };
    const expectEpoch = await this.deps.store.epochOf(vm.id);
    await this.deps.uow.run(async ({ jobs }) => {
      await jobs.create(
        {
          id: jobId,
          kind: MIGRATE_VM_JOB_KIND,
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId: vm.tenantId,
          requestedBy: actor.label,
          requestedById: actor.id,
          steps: plan.live ? STEPS : COLD_STEPS,
          message: `${plan.live ? 'Live-migrating' : 'Moving'} ${vm.name} to ${plan.toHostName}`,
        },
        now,
      );
    });
    await this.deps.store.writeRecord(jobId, record);
    return {
      taskId: jobId,
      plan,
      input: { jobId, vmId: vm.id, vmName: vm.name, plan, record, expectEpoch, seed: this.deps.seed?.() ?? 1 },
    };
  }

  /** Asks a migration to stop; honoured until the final copy starts. */
  async cancel(scope: TenantScope, jobId: string): Promise<void> {
    const job = await this.deps.uow.repos.jobs.find(scope, jobId);
    if (!job || job.kind !== MIGRATE_VM_JOB_KIND)
      throw new MobilityError('MIGRATION_NOT_FOUND', `No migration ${jobId}`);
    const record = await this.deps.store.readRecord(jobId);
    if (!record || (job.state !== 'queued' && job.state !== 'running')) {
      throw new MobilityError('MIGRATION_NOT_CANCELLABLE', `The migration has ended (${job.state})`);
    }
    if (record.pastPointOfNoReturn) {
      throw new MobilityError(
        'MIGRATION_NOT_CANCELLABLE',
        'The final copy has started: the migration can no longer be cancelled',
      );
    }
    await this.deps.store.writeRecord(jobId, { ...record, cancelRequested: true });
  }

  /**
   * Moves the VM's ownership to the destination, once: a step interrupted after its transfer committed
   * (the API killed before the engine recorded the step) runs again on resume and finds the VM already
   * on the destination at the next epoch. Without this the second transfer failed as stale, the rollback
   * resumed the VM on the source, which no longer owned it, and its reconciliation discarded it: the VM
   * ran nowhere (the safety model test found it).
   */
  private async transferOnce(input: MigrateInput): Promise<number> {
    const { plan } = input;
    const current = await this.deps.store.epochOf(input.vmId);
    if (current === input.expectEpoch + 1) {
      const vm = await this.deps.store.findVm({ kind: 'provider' }, input.vmId);
      if (vm?.hostId === plan.toHostId) return current;
    }
    return this.deps.store.transfer(
      input.vmId,
      { hostId: plan.toHostId, clusterId: plan.toClusterId },
      input.expectEpoch,
    );
  }

  private record(jobId: string): Promise<MigrationRecord | null> {
    return this.deps.store.readRecord(jobId);
  }

  private async setRecord(jobId: string, patch: Partial<MigrationRecord>) {
    const current = await this.record(jobId);
    if (current) await this.deps.store.writeRecord(jobId, { ...current, ...patch });
  }

  private async throwIfCancelled(jobId: string) {
    if ((await this.record(jobId))?.cancelRequested) {
      throw new MobilityError('MIGRATION_CANCELLED', 'Cancelled before the final copy: the VM stays on the source');
    }
  }

  private task(
    ctx: WorkflowContext,
    input: MigrateInput,
    name: string,
    kind: MigrationTaskKind,
    hostId: string,
    params: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return ctx
      .step(`${name}-task-id`, async () => this.deps.newId())
      .then((taskId) =>
        ctx.step(`${name}-run`, () =>
          this.deps.agents
            .run({
              taskId,
              hostId,
              vmId: input.vmId,
              kind,
              params: { migrationId: input.jobId, ...params },
              timeoutMs: this.deps.taskTimeoutMs ?? 10 * 60_000,
            })
            .then(
              (result) => ({ ok: true as const, result }),
              (error: unknown) => ({
                ok: false as const,
                code: error instanceof MigrationTaskFailed ? error.code : 'INTERNAL',
                message: error instanceof Error ? error.message : String(error),
              }),
            ),
        ),
      )
      .then((outcome) => {
        if (outcome.ok) return outcome.result;
        throw new MobilityError(
          'MIGRATION_HOST_FAILED',
          `${kind} failed on the ${hostId === input.plan.toHostId ? 'destination' : 'source'} host (${outcome.code}): ${outcome.message}`,
        );
      });
  }

  private async waitForSlot(input: MigrateInput): Promise<string> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = this.deps.clock.now().getTime() + (this.deps.queueTimeoutMs ?? 30 * 60_000);
    const { fromHostId, toHostId } = input.plan;
    for (;;) {
      await this.throwIfCancelled(input.jobId);
      const active = await this.active();
      const mine = active.findIndex((m) => m.jobId === input.jobId);
      const before = mine < 0 ? active : active.slice(0, mine);
      const onHost = (h: string) => before.filter((m) => m.fromHostId === h || m.toHostId === h).length;
      const inCluster = before.filter(
        (m) => m.fromClusterId === input.record.fromClusterId || m.toClusterId === input.record.toClusterId,
      ).length;
      if (
        onHost(fromHostId) < this.caps.perHost &&
        onHost(toHostId) < this.caps.perHost &&
        inCluster < this.caps.perCluster
      ) {
        return before.length === 0 ? 'no other migration ahead' : `${before.length} older migrations, within the caps`;
      }
      if (this.deps.clock.now().getTime() > deadline) {
        throw new MobilityError('MIGRATION_HOST_FAILED', 'No migration slot freed within the queue time limit');
      }
      await sleep(500);
    }
  }

  private async run(ctx: WorkflowContext, input: MigrateInput): Promise<void> {
    const { tracker } = this.deps;
    const { plan } = input;
    let current: string | null = 'queue';
    let prepared = false;
    let sourceStopped = false;
    let copyStarted = false;
    /** The epoch the VM's ownership moved to on the destination, once it has. */
    let transferred: number | null = null;
    const started = await ctx.step('started-at', async () => this.deps.clock.now().toISOString());
    try {
      await tracker.started(
        ctx,
        input.jobId,
        `${plan.live ? 'Live-migrating' : 'Moving'} ${input.vmName} to ${plan.toHostName}`,
      );
      await tracker.step(ctx, input.jobId, 'queue', async () => ({
        value: null,
        progress: 5,
        detail: await this.waitForSlot(input),
      }));
      current = 'setup';
      const spec = await ctx.step('spec', async () => this.deps.store.spec(input.vmId));
      if (!spec) throw new MobilityError('MIGRATION_VM_NOT_FOUND', `${input.vmName} no longer exists`);
      await tracker.step(ctx, input.jobId, 'setup', async () => {
        await this.throwIfCancelled(input.jobId);
        return { value: null, progress: 10, detail: `on ${plan.toHostName}` };
      });
      prepared = true;
      await this.task(ctx, input, 'setup', 'migration.prepare', plan.toHostId, { spec });
      // Shared-nothing, steps 1–3: the disks copied while the guest writes to the source, then mirrored.
      current = 'storage-copy';
      await tracker.step(ctx, input.jobId, 'storage-copy', async () => {
        await this.throwIfCancelled(input.jobId);
        return { value: null, progress: 12, more: true };
      });
      const receive = await this.task(ctx, input, 'disks-receive', 'migration.disks-receive', plan.toHostId, {});
      copyStarted = true;
      const copy = await this.task(ctx, input, 'disks-copy', 'migration.disks-copy', plan.fromHostId, {
        peerUrl: receive.peerUrl,
        credential: receive.credential,
      });
      await tracker.step(
        ctx,
        input.jobId,
        'storage-copy',
        async () => {
          await this.throwIfCancelled(input.jobId);
          return { value: null, progress: plan.live ? 20 : 50, detail: describeCopy(copy, plan.toHostName) };
        },
        'storage-copy-done',
      );
      let observed: MigrationRecord['observed'];
      if (plan.live && plan.predicted) {
        current = 'precopy';
        const p = plan.predicted;
        const precopy = await tracker.step(
          ctx,
          input.jobId,
          'precopy',
          async () => {
            await this.throwIfCancelled(input.jobId);
            return { value: null, progress: 15, more: true };
          },
          'precopy-check',
        );
        void precopy;
        const result = await this.task(ctx, input, 'precopy', 'migration.precopy', plan.fromHostId, {
          memoryMiB: p.passes[0]?.mib ?? 1,
          workingSetMiB: Math.max(1, guestDirtying(1, p.passes[0]?.mib ?? 1, 0).workingSetMiB),
          dirtyMiBps: p.dirtyMiBps,
          dirtyCapMiBps: p.verdict === 'capped' ? p.dirtyMiBps : null,
          linkMbps: plan.linkMbps,
          concurrent: plan.concurrent,
          maxPasses: this.policy.maxPasses,
          maxBlackoutMs: this.policy.maxBlackoutMs,
          timeScale: this.deps.timeScale ?? 1,
          seed: input.seed,
        });
        const passes = Array.isArray(result.passes) ? result.passes.length : 0;
        const blackoutMs = typeof result.blackoutMs === 'number' ? result.blackoutMs : 0;
        await tracker.step(ctx, input.jobId, 'precopy', async () => ({
          value: null,
          progress: 70,
          detail: `${passes} passes, ${Math.round(Number(result.sentMiB ?? 0))} MiB sent`,
        }));
        current = 'final';
        // The point of no return: a cancel asked for until now is honoured, none after.
        await ctx.step('final-gate', async () => {
          await this.throwIfCancelled(input.jobId);
          await this.setRecord(input.jobId, { pastPointOfNoReturn: true });
        });
        const final = await this.task(ctx, input, 'final', 'migration.final', plan.fromHostId, {
          blackoutMs,
          timeScale: this.deps.timeScale ?? 1,
        });
        sourceStopped = true;
        const observedBlackout = typeof final.blackoutMs === 'number' ? final.blackoutMs : blackoutMs;
        await tracker.step(ctx, input.jobId, 'final', async () => ({
          value: null,
          progress: 80,
          detail: `paused ${Math.round(observedBlackout)} ms (predicted ${Math.round(p.blackoutMs)} ms)`,
        }));
        observed = {
          totalSeconds: 0,
          blackoutMs: observedBlackout,
          passes,
          sentMiB: Number(result.sentMiB ?? 0),
        };
      } else {
        await ctx.step('cold-gate', async () => {
          await this.throwIfCancelled(input.jobId);
          await this.setRecord(input.jobId, { pastPointOfNoReturn: true });
        });
      }
      current = 'storage';
      // Step 4: the guest has stopped; what was mirrored arrives and the destination's digests must equal the source's.
      const handover = await this.task(ctx, input, 'disks-handover', 'migration.disks-handover', plan.fromHostId, {});
      await tracker.step(ctx, input.jobId, 'storage', async () => ({
        value: null,
        progress: 85,
        detail: describeHandover(handover, plan.toHostName),
      }));
      current = 'online';
      transferred = await tracker.step(
        ctx,
        input.jobId,
        'online',
        async () => {
          const epoch = await this.transferOnce(input);
          return { value: epoch, progress: 90, detail: `ownership epoch ${epoch}` };
        },
        'online-transfer',
      );
      await this.task(ctx, input, 'online', 'migration.activate', plan.toHostId, { spec, start: plan.live });
      await tracker.step(ctx, input.jobId, 'online', async () => ({
        value: null,
        progress: 95,
        detail: `running on ${plan.toHostName}`,
      }));
      current = 'cleanup';
      const cleanupDetail = await ctx.step('cleanup-run', async () => {
        try {
          await this.task(ctx, input, 'cleanup', 'migration.cleanup', plan.fromHostId, {});
          return 'source copy removed';
        } catch (error) {
          // The source no longer owns the VM (newer epoch): its inventory reconciliation discards the copy.
          return `left to the source host's reconciliation (${error instanceof Error ? error.message : 'failed'})`;
        }
      });
      await tracker.step(ctx, input.jobId, 'cleanup', async () => ({
        value: null,
        progress: 99,
        detail: cleanupDetail,
      }));
      const finishedAt = await ctx.step('finished-at', async () => this.deps.clock.now().toISOString());
      const totalSeconds = (Date.parse(finishedAt) - Date.parse(started)) / 1000;
      const record = (await ctx.step('record-final', async () => this.record(input.jobId))) ?? input.record;
      await tracker.succeeded(ctx, input.jobId, `${input.vmName} runs on ${plan.toHostName}`, {
        ...record,
        observed: observed ? { ...observed, totalSeconds } : { totalSeconds, blackoutMs: 0, passes: 0, sentMiB: 0 },
        outcome: 'completed',
      });
    } catch (error) {
      // Undo: the destination's skeleton goes, the source keeps (or gets back) the VM.
      await ctx.step('rollback', async () => {
        if (copyStarted) {
          // The source's mirror stops; its disks were never touched.
          await this.deps.agents
            .run({
              taskId: `${input.jobId.slice(0, 24)}${'c'.repeat(12)}`,
              hostId: plan.fromHostId,
              vmId: input.vmId,
              kind: 'migration.disks-abort',
              params: { migrationId: input.jobId },
              timeoutMs: this.deps.taskTimeoutMs ?? 60_000,
            })
            .catch(() => undefined);
        }
        if (prepared) {
          await this.deps.agents
            .run({
              taskId: `${input.jobId.slice(0, 24)}${'a'.repeat(12)}`,
              hostId: plan.toHostId,
              vmId: input.vmId,
              kind: 'migration.abort',
              params: { migrationId: input.jobId, side: 'destination' },
              timeoutMs: this.deps.taskTimeoutMs ?? 60_000,
            })
            .catch(() => undefined);
        }
        // Ownership already moved (the destination failed to bring the VM online): it moves back to the
        // source before the source resumes, or the source would run a VM it no longer owns and its
        // reconciliation would discard it (the safety model test found the VM left running nowhere). If
        // someone else moved it meanwhile, the source does not resume.
        let sourceOwns = true;
        if (transferred !== null && current !== 'cleanup') {
          sourceOwns = await this.deps.store
            .transfer(input.vmId, { hostId: plan.fromHostId, clusterId: input.record.fromClusterId }, transferred)
            .then(
              () => true,
              () => false,
            );
        }
        if (sourceStopped && current !== 'cleanup' && sourceOwns) {
          await this.deps.agents
            .run({
              taskId: `${input.jobId.slice(0, 24)}${'b'.repeat(12)}`,
              hostId: plan.fromHostId,
              vmId: input.vmId,
              kind: 'migration.abort',
              params: { migrationId: input.jobId, side: 'source' },
              timeoutMs: this.deps.taskTimeoutMs ?? 60_000,
            })
            .catch(() => undefined);
        }
        const cancelled = error instanceof MobilityError && error.code === 'MIGRATION_CANCELLED';
        await this.setRecord(input.jobId, { outcome: cancelled ? 'cancelled' : 'failed' });
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }
}

const MIB = 1024 * 1024;

function describeCopy(result: Record<string, unknown>, toHostName: string): string {
  const disks = Array.isArray(result.disks) ? result.disks.length : 0;
  if (disks === 0) return 'no disk files to copy';
  const bytes = Number(result.bytes ?? 0);
  const ms = Number(result.durationMs ?? 0);
  const rate = ms > 0 ? `, ${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s` : '';
  return `${disks} disks, ${(bytes / MIB).toFixed(1)} MiB copied to ${toHostName} in ${ms} ms${rate}; writes mirrored since guest write ${Number(result.guestWriteSeqAtStart ?? 0)}`;
}

function describeHandover(result: Record<string, unknown>, toHostName: string): string {
  const disks = Array.isArray(result.disks) ? result.disks.length : 0;
  if (disks === 0) return 'no disk files to hand over';
  const mirrored = Number(result.mirroredWrites ?? 0);
  return `${disks} disks equal on ${toHostName} at guest write ${Number(result.guestWriteSeq ?? 0)} (${mirrored} writes mirrored while copying)`;
}
