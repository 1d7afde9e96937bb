/**
 * Live storage migration (the whitepaper's "Move virtual machine storage with
 * no downtime"): a VM's disks move to another storage pool of its own host
 * while it runs, as a durable workflow carried out by the host's agent
 * (packages/core/src/tasks/storage-move-task-protocol.schema.ts):
 *
 *   queue    waits for a slot: at most 2 storage migrations per host at once
 *            (Hyper-V's default of 2 simultaneous storage migrations); the
 *            older requests go first;
 *   copy     reads and writes go to the source while its content is copied to
 *            the destination (steps 1–2); from the copy's start every write is
 *            mirrored to both, so what the copy has passed stays equal;
 *   mirror   the copy is done: writes go to both and the agent checks, between
 *            two guest writes, that every destination equals its source (step 3);
 *   switch   the VM continues on the destination files (step 4) — the point of
 *            no return — and its disks' pool is recorded;
 *   delete   the source files are deleted (step 5) and none is left.
 *
 * Before the switch any failure aborts: the mirrors stop, the destination
 * files are deleted, the VM never left its source disks. Requests validate
 * first (the VM, its state, its other moves, the pool, the room in it) and
 * write nothing when they refuse.
 */
import type { JobRepository } from '../jobs/job-repository';
import type { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import { formatBytes } from '../shared/units';
import type { WorkflowContext, WorkflowDefinition, WorkflowEngine } from '../workflows/workflow';
import {
  MIGRATE_VM_JOB_KIND,
  type MigrationAgentPort,
  MigrationTaskFailed,
  MOVE_VM_STORAGE_JOB_KIND,
  type MobilityStore,
} from './migrate-vm';
import { MobilityError } from './mobility.errors';

export type StorageMoveTaskKind =
  | 'storage.copy'
  | 'storage.sync'
  | 'storage.switch'
  | 'storage.cleanup'
  | 'storage.abort';

export interface VmDiskPlacement {
  readonly name: string;
  readonly pool: string;
  readonly sizeBytes: number;
}

/** What a storage move reads and writes besides the migration store. */
export interface StorageMoveStore {
  disks(vmId: string): Promise<VmDiskPlacement[]>;
  /** After the switch: these disks of the VM are in `pool`. */
  setDiskPool(vmId: string, diskNames: readonly string[], pool: string): Promise<void>;
  /** A storage move job's record (kept in the job's result column), null when none. */
  readRecord(jobId: string): Promise<StorageMoveRecord | null>;
  writeRecord(jobId: string, record: StorageMoveRecord): Promise<void>;
}

export interface StorageMoveCaps {
  readonly perHost: number;
}
/** Hyper-V's default: 2 simultaneous storage migrations per host. */
export const DEFAULT_STORAGE_MOVE_CAPS: StorageMoveCaps = { perHost: 2 };

export interface MoveVmStorageDeps {
  uow: UnitOfWork<{ jobs: JobRepository }>;
  placement: PlacementStore;
  store: MobilityStore;
  disks: StorageMoveStore;
  agents: MigrationAgentPort;
  workflows: WorkflowEngine;
  tracker: JobTracker;
  clock: Clock;
  newId: () => string;
  caps?: StorageMoveCaps;
  taskTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  queueTimeoutMs?: number;
}

export interface MoveStorageRequest {
  readonly vmId: string;
  /** The destination pool, one of the VM's host's pools. */
  readonly toPool: string;
  /** The disks that move (by name); all of the VM's disks not in `toPool` when absent. */
  readonly disks?: readonly string[];
}

export interface StorageMovePlan {
  readonly vmId: string;
  readonly vmName: string;
  readonly hostId: string;
  readonly hostName: string;
  readonly toPool: string;
  readonly disks: readonly { name: string; fromPool: string; sizeBytes: number }[];
  readonly bytes: number;
  readonly freeBytes: number;
  readonly live: boolean;
}

/** Kept on the job's result: what moves where, and what the agent observed. */
export interface StorageMoveRecord {
  readonly hostId: string;
  readonly toPool: string;
  readonly disks: readonly { name: string; fromPool: string; sizeBytes: number }[];
  readonly bytes: number;
  readonly requestedAt: string;
  readonly pastPointOfNoReturn?: boolean;
  readonly outcome?: 'completed' | 'failed';
  /** Guest write numbers: mirroring began, synchronized, switched (writes went on between them). */
  readonly observed?: { seqAtCopyStart: number; seqAtSync: number; seqAtSwitch: number; copiedBytes: number };
  [key: string]: unknown;
}

interface MoveInput {
  jobId: string;
  vmId: string;
  vmName: string;
  plan: StorageMovePlan;
}

const STEPS = [
  { key: 'queue', label: 'Wait for a storage migration slot' },
  { key: 'copy', label: 'Copy to the destination while the guest writes' },
  { key: 'mirror', label: 'Writes mirrored to both; synchronized' },
  { key: 'switch', label: 'Switched to the destination' },
  { key: 'delete', label: 'Source files deleted' },
] as const;

const STABLE_STATES = ['running', 'off', 'saved', 'paused'];

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export class MoveVmStorage {
  readonly workflow: WorkflowDefinition<MoveInput>;

  constructor(private readonly deps: MoveVmStorageDeps) {
    this.workflow = { name: MOVE_VM_STORAGE_JOB_KIND, run: (ctx, input) => this.run(ctx, input) };
  }

  private get caps() {
    return this.deps.caps ?? DEFAULT_STORAGE_MOVE_CAPS;
  }

  /** Storage moves queued or running, oldest request first. */
  async active(): Promise<(StorageMoveRecord & { jobId: string; vmId: string })[]> {
    const rows = await this.deps.uow.repos.jobs.activeTasks(MOVE_VM_STORAGE_JOB_KIND);
    const out: (StorageMoveRecord & { jobId: string; vmId: string })[] = [];
    for (const row of rows) {
      const record = await this.deps.disks.readRecord(row.id);
      if (record?.hostId) out.push({ ...record, jobId: row.id, vmId: row.targetId });
    }
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.jobId.localeCompare(b.jobId));
  }

  /** What would move where, and the room for it; nothing is written. */
  async preview(scope: TenantScope, request: MoveStorageRequest): Promise<StorageMovePlan> {
    const vm = await this.deps.store.findVm(scope, request.vmId);
    if (!vm) throw new MobilityError('MIGRATION_VM_NOT_FOUND', `No VM ${request.vmId}`);
    if (!vm.hostId || !vm.clusterId) {
      throw new MobilityError('MIGRATION_VM_STATE', `${vm.name} is on no host (state ${vm.state}): no storage to move`);
    }
    if (!STABLE_STATES.includes(vm.state)) {
      throw new MobilityError(
        'MIGRATION_VM_STATE',
        `${vm.name} is ${vm.state}: its storage moves once it is running, off, saved or paused`,
      );
    }
    const migrating = await this.deps.uow.repos.jobs.activeTasks(MIGRATE_VM_JOB_KIND);
    if (migrating.some((m) => m.targetId === vm.id)) {
      throw new MobilityError('MIGRATION_ALREADY_ACTIVE', `${vm.name} is migrating: its storage moves once it has`);
    }
    const active = await this.active();
    if (active.some((m) => m.vmId === vm.id)) {
      throw new MobilityError('MIGRATION_ALREADY_ACTIVE', `${vm.name} is already moving its storage`);
    }
    const disks = await this.deps.disks.disks(vm.id);
    for (const name of request.disks ?? []) {
      if (!disks.some((d) => d.name === name)) {
        throw new MobilityError('STORAGE_DISK_NOT_FOUND', `${vm.name} has no disk "${name}"`);
      }
    }
    const chosen = request.disks ? disks.filter((d) => request.disks?.includes(d.name)) : disks;
    const moving = chosen.filter((d) => d.pool !== request.toPool);
    const cluster = await this.deps.placement.clusterSnapshot(vm.clusterId);
    const host = cluster.hosts.find((h) => h.id === vm.hostId);
    const pool = host?.storagePools.find((p) => p.name === request.toPool);
    if (!host || !pool) {
      const known = host?.storagePools.map((p) => p.name).join(', ') || 'none';
      throw new MobilityError(
        'STORAGE_POOL_NOT_FOUND',
        `No storage pool "${request.toPool}" on ${host?.name ?? 'the VM\u2019s host'} (it has: ${known})`,
      );
    }
    if (moving.length === 0) {
      throw new MobilityError('STORAGE_SAME_POOL', `${vm.name}'s disks are in ${request.toPool} already`);
    }
    // Disks count at their full size, as placement counts them (storage filter); moves still
    // running into the same pool hold theirs, since the pool's figures count them only once switched.
    const bytes = moving.reduce((sum, d) => sum + d.sizeBytes, 0);
    const pending = active
      .filter((m) => m.hostId === vm.hostId && m.toPool === request.toPool)
      .reduce((sum, m) => sum + m.bytes, 0);
    const freeBytes = Math.max(0, pool.capacityBytes - pool.allocatedBytes - pending);
    if (bytes > freeBytes) {
      throw new MobilityError(
        'STORAGE_NO_SPACE',
        `${request.toPool} on ${host.name} has ${formatBytes(freeBytes)} free; ${vm.name}'s disks need ${formatBytes(bytes)}`,
      );
    }
    return {
      vmId: vm.id,
      vmName: vm.name,
      hostId: vm.hostId,
      hostName: host.name,
      toPool: request.toPool,
      disks: moving.map((d) => ({ name: d.name, fromPool: d.pool, sizeBytes: d.sizeBytes })),
      bytes,
      freeBytes,
      live: vm.state === 'running',
    };
  }

  /** Validates (nothing written on refusal), records the task, starts the workflow. */
  async request(
    actor: Actor,
    scope: TenantScope,
    request: MoveStorageRequest,
  ): Promise<{ taskId: string; plan: StorageMovePlan }> {
    const plan = await this.preview(scope, request);
    const vm = await this.deps.store.findVm(scope, request.vmId);
    if (!vm) throw new MobilityError('MIGRATION_VM_NOT_FOUND', `No VM ${request.vmId}`);
    const jobId = this.deps.newId();
    const now = this.deps.clock.now();
    const record: StorageMoveRecord = {
      hostId: plan.hostId,
      toPool: plan.toPool,
      disks: plan.disks,
      bytes: plan.bytes,
      requestedAt: now.toISOString(),
    };
    await this.deps.uow.run(async ({ jobs }) => {
      await jobs.create(
        {
          id: jobId,
          kind: MOVE_VM_STORAGE_JOB_KIND,
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId: vm.tenantId,
          requestedBy: actor.label,
          requestedById: actor.id,
          steps: STEPS,
          message: `Moving ${vm.name}'s storage to ${plan.toPool}`,
        },
        now,
      );
    });
    await this.deps.disks.writeRecord(jobId, record);
    await this.deps.workflows.start(
      this.workflow,
      { jobId, vmId: vm.id, vmName: vm.name, plan },
      { workflowId: jobId },
    );
    return { taskId: jobId, plan };
  }

  private async setRecord(jobId: string, patch: Partial<StorageMoveRecord>) {
    const current = await this.deps.disks.readRecord(jobId);
    if (current) await this.deps.disks.writeRecord(jobId, { ...current, ...patch });
  }

  private params(input: MoveInput) {
    return { moveId: input.jobId, toPool: input.plan.toPool, disks: input.plan.disks.map((d) => d.name) };
  }

  private task(
    ctx: WorkflowContext,
    input: MoveInput,
    name: string,
    kind: StorageMoveTaskKind,
  ): Promise<Record<string, unknown>> {
    return ctx
      .step(`${name}-task-id`, async () => this.deps.newId())
      .then((taskId) =>
        ctx.step(`${name}-run`, () =>
          this.deps.agents
            .run({
              taskId,
              hostId: input.plan.hostId,
              vmId: input.vmId,
              kind,
              params: this.params(input),
              timeoutMs: this.deps.taskTimeoutMs ?? 30 * 60_000,
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
        throw new MobilityError('STORAGE_HOST_FAILED', `${kind} failed (${outcome.code}): ${outcome.message}`);
      });
  }

  private async waitForSlot(input: MoveInput): Promise<string> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = this.deps.clock.now().getTime() + (this.deps.queueTimeoutMs ?? 60 * 60_000);
    let waited = false;
    for (;;) {
      const active = await this.active();
      const mine = active.findIndex((m) => m.jobId === input.jobId);
      const before = (mine < 0 ? active : active.slice(0, mine)).filter((m) => m.hostId === input.plan.hostId);
      if (before.length < this.caps.perHost) {
        return before.length === 0
          ? 'no other storage migration on this host'
          : `${before.length} older on this host, within the cap of ${this.caps.perHost}${waited ? ' (waited)' : ''}`;
      }
      if (this.deps.clock.now().getTime() > deadline) {
        throw new MobilityError('STORAGE_HOST_FAILED', 'No storage migration slot freed within the queue time limit');
      }
      waited = true;
      await sleep(500);
    }
  }

  private async run(ctx: WorkflowContext, input: MoveInput): Promise<void> {
    const { tracker } = this.deps;
    const { plan } = input;
    let current: string = 'queue';
    let switched = false;
    const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
    try {
      await tracker.started(ctx, input.jobId, `Moving ${input.vmName}'s storage to ${plan.toPool}`);
      await tracker.step(ctx, input.jobId, 'queue', async () => ({
        value: null,
        progress: 5,
        detail: await this.waitForSlot(input),
      }));
      current = 'copy';
      const copy = await this.task(ctx, input, 'copy', 'storage.copy');
      const seqAtCopyStart = num(copy.guestWriteSeqAtStart);
      const copiedBytes = num(copy.copiedBytes);
      await tracker.step(ctx, input.jobId, 'copy', async () => ({
        value: null,
        progress: 60,
        detail: `${plan.disks.length} disks, ${mib(copiedBytes)} written data copied; guest writes ${seqAtCopyStart} → ${num(copy.guestWriteSeq)} meanwhile`,
      }));
      current = 'mirror';
      const sync = await this.task(ctx, input, 'mirror', 'storage.sync');
      const seqAtSync = num(sync.guestWriteSeq);
      await tracker.step(ctx, input.jobId, 'mirror', async () => ({
        value: null,
        progress: 75,
        detail: `destination equals source at guest write ${seqAtSync}`,
      }));
      current = 'switch';
      // The point of no return: from here the VM runs on the destination files.
      await ctx.step('switch-gate', () => this.setRecord(input.jobId, { pastPointOfNoReturn: true }));
      const sw = await this.task(ctx, input, 'switch', 'storage.switch');
      switched = true;
      const seqAtSwitch = num(sw.guestWriteSeq);
      await tracker.step(ctx, input.jobId, 'switch', async () => {
        await this.deps.disks.setDiskPool(
          input.vmId,
          plan.disks.map((d) => d.name),
          plan.toPool,
        );
        return { value: null, progress: 90, detail: `on ${plan.toPool} from guest write ${seqAtSwitch}` };
      });
      current = 'delete';
      const cleanup = await this.task(ctx, input, 'delete', 'storage.cleanup');
      const removed = [
        ...(Array.isArray(sw.removed) ? sw.removed : []),
        ...(Array.isArray(cleanup.removed) ? cleanup.removed : []),
      ];
      await tracker.step(ctx, input.jobId, 'delete', async () => ({
        value: null,
        progress: 99,
        detail: `${removed.length} source files deleted, none left`,
      }));
      const record = (await ctx.step('record-final', () => this.deps.disks.readRecord(input.jobId))) ?? {};
      await tracker.succeeded(ctx, input.jobId, `${input.vmName}'s disks are on ${plan.toPool}`, {
        ...record,
        observed: { seqAtCopyStart, seqAtSync, seqAtSwitch, copiedBytes },
        outcome: 'completed',
      });
    } catch (error) {
      await ctx.step('rollback', async () => {
        if (!switched) {
          // Undo: the mirrors stop and the destination files go; the VM never left its source files.
          // Safe after a switch whose answer was lost too: the agent never deletes a file the VM runs on.
          await this.deps.agents
            .run({
              taskId: `${input.jobId.slice(0, 24)}${'c'.repeat(12)}`,
              hostId: plan.hostId,
              vmId: input.vmId,
              kind: 'storage.abort',
              params: this.params(input),
              timeoutMs: this.deps.taskTimeoutMs ?? 60_000,
            })
            .catch(() => undefined);
        }
        await this.setRecord(input.jobId, { outcome: 'failed' });
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }
}
