import { ComputeError } from '../compute/compute.errors';
import { JobError } from '../jobs/job.errors';
import type { JobRepository } from '../jobs/job-repository';
import type { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import type { Clock } from '../shared/clock';
import { type Actor, SYSTEM_ACTOR, type TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { WorkflowContext, WorkflowDefinition, WorkflowEngine } from '../workflows/workflow';
import { authorizationsFor, brokerPick } from './broker';
import { evaluateHealth, replicaHostDownReason, SILENT_HOST_STATES } from './health';
import {
  type CycleResult,
  cycleResultOf,
  disksOf,
  type ReplicaAgentPort,
  ReplicaTaskFailed,
  type ReplicaTaskKind,
} from './replica-agent-port';
import { ReplicationError } from './replication.errors';
import {
  type AuthorizationInput,
  type EnableReplicationInput,
  type FailoverKind,
  type PointChoice,
  REPLICATION_LIMITS,
  type ReplicationState,
} from './replication.schema';
import type { CycleMode, RecoveryPoint, Relationship, ReplicationRepository } from './replication-repository';
import { pointsToKeep } from './retention';

export const REPLICATION_JOB_KINDS = {
  enable: 'replication.enable',
  cycle: 'replication.cycle',
  testFailover: 'replication.test-failover',
  stopTest: 'replication.stop-test',
  planned: 'replication.planned-failover',
  unplanned: 'replication.failover',
  complete: 'replication.complete-failover',
  cancel: 'replication.cancel-failover',
  reverse: 'replication.reverse',
  remove: 'replication.remove',
} as const;

/** Moves which host runs a VM (ha's ownership epochs) and sets its state. */
export interface VmOwnershipPort {
  /** Compare-and-set on the epoch; returns the new epoch. Idempotent when the VM already is on `toHostId` with a newer epoch. */
  transfer(vmId: string, to: { hostId: string; clusterId: string }, expectEpoch: number): Promise<number>;
  setState(vmId: string, state: 'running' | 'off', reason: string): Promise<void>;
  epochOf(vmId: string): Promise<number>;
  /** The VM as a host needs it to create it (the agent protocol's vm spec). */
  spec(vmId: string): Promise<Record<string, unknown> | null>;
}

export interface ReplicationDeps {
  uow: UnitOfWork<{ replication: ReplicationRepository; jobs: JobRepository }>;
  placement: PlacementStore;
  agents: ReplicaAgentPort;
  ownership: VmOwnershipPort;
  workflows: WorkflowEngine;
  tracker: JobTracker;
  clock: Clock;
  newId: () => string;
  /** The per-pair credential of a relationship's generation (e.g. an HMAC with a server secret): never stored. */
  credentialFor: (relationshipId: string, generation: number) => string;
  /** How long a workflow waits for one agent task. */
  taskTimeoutMs?: number;
  /** Relationships started per scheduler tick at most. */
  cyclesPerTick?: number;
}

interface JobInput {
  jobId: string;
  relationshipId: string;
}
interface PointJobInput extends JobInput {
  pointId: string;
}
interface CycleInput {
  relationshipId: string;
  generation: number;
  seq: number;
  dueAt: string;
}

/** States in which the scheduler runs cycles. */
const CYCLING: ReadonlySet<ReplicationState> = new Set([
  'replicating',
  'resync-needed',
  'test-failover',
  'initial-pending',
]);
/** States from which a failover may start. */
const FAILOVER_FROM: ReadonlySet<ReplicationState> = new Set(['replicating', 'resync-needed', 'error', 'paused']);
/** States from which replication may be removed: no workflow of its own is moving the VM or the copy. */
const REMOVABLE_FROM: ReadonlySet<ReplicationState> = new Set([
  'replicating',
  'paused',
  'resync-needed',
  'error',
  'initial-pending',
  'failed-over',
  'test-failover',
]);
const REMOVE_STEPS = [
  { key: 'replica', label: 'Delete the replica disks and recovery points on the replica host' },
  { key: 'primary', label: 'Delete what the primary host kept for replication (a copy set aside by a failover)' },
  { key: 'record', label: 'Forget the replication' },
];

type CyclePlan =
  | { skip: true; reason: string }
  | {
      skip: false;
      cycleId: string;
      pointId: string;
      taskId: string;
      mode: CycleMode;
      primaryHostId: string;
      replicaHostId: string;
      vmId: string;
      peerUrl: string;
      appConsistent: boolean;
      compression: boolean;
      generation: number;
    };

/** A recovery point named by its id, or picked by a choice (the latest, the latest application-consistent…). */
export type PointRef = string | PointChoice;

type ShipOutcome = { ok: true; result: CycleResult } | { ok: false; code: string; message: string };

/**
 * Hyper-V Replica's control plane: enabling replication (the broker picks
 * the replica host), the cycle scheduler, recovery points and their
 * retention, health, and the failovers, each a durable workflow. Requests
 * validate first and write nothing when they refuse.
 */
export class ReplicationService {
  readonly workflows: WorkflowDefinition<never>[];
  private readonly enableWf: WorkflowDefinition<JobInput>;
  private readonly cycleWf: WorkflowDefinition<CycleInput>;
  private readonly testWf: WorkflowDefinition<PointJobInput & { testVmId: string }>;
  private readonly stopTestWf: WorkflowDefinition<JobInput>;
  private readonly plannedWf: WorkflowDefinition<JobInput>;
  private readonly unplannedWf: WorkflowDefinition<PointJobInput>;
  private readonly completeWf: WorkflowDefinition<JobInput>;
  private readonly cancelWf: WorkflowDefinition<JobInput>;
  private readonly reverseWf: WorkflowDefinition<JobInput>;
  private readonly removeWf: WorkflowDefinition<JobInput>;

  constructor(private readonly deps: ReplicationDeps) {
    const K = REPLICATION_JOB_KINDS;
    this.enableWf = { name: K.enable, run: (ctx, i) => this.runEnable(ctx, i) };
    this.cycleWf = { name: K.cycle, run: (ctx, i) => this.runScheduledCycle(ctx, i) };
    this.testWf = { name: K.testFailover, run: (ctx, i) => this.runTest(ctx, i) };
    this.stopTestWf = { name: K.stopTest, run: (ctx, i) => this.runStopTest(ctx, i) };
    this.plannedWf = { name: K.planned, run: (ctx, i) => this.runPlanned(ctx, i) };
    this.unplannedWf = { name: K.unplanned, run: (ctx, i) => this.runUnplanned(ctx, i) };
    this.completeWf = { name: K.complete, run: (ctx, i) => this.runComplete(ctx, i) };
    this.cancelWf = { name: K.cancel, run: (ctx, i) => this.runCancel(ctx, i) };
    this.reverseWf = { name: K.reverse, run: (ctx, i) => this.runReverse(ctx, i) };
    this.removeWf = { name: K.remove, run: (ctx, i) => this.runRemove(ctx, i) };
    this.workflows = [
      this.enableWf,
      this.cycleWf,
      this.testWf,
      this.stopTestWf,
      this.plannedWf,
      this.unplannedWf,
      this.completeWf,
      this.cancelWf,
      this.reverseWf,
      this.removeWf,
    ] as WorkflowDefinition<never>[];
  }

  private get repo() {
    return this.deps.uow.repos.replication;
  }

  private get timeoutMs() {
    return this.deps.taskTimeoutMs ?? 120_000;
  }

  // ------------------------------------------------------------ requests

  /** Targets the provider offers for this VM: clusters (and hosts) whose authorizations admit its tenant and primary cluster. */
  async targets(scope: TenantScope, vmId: string) {
    const vm = await this.repo.findVm(scope, vmId);
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    const all = await this.repo.listAuthorizations();
    const source = { tenantId: vm.tenantId, primaryClusterId: vm.clusterId ?? '' };
    const clusters = new Map<string, { clusterId: string; hostIds: string[]; wholeCluster: boolean }>();
    for (const a of all) {
      if (a.replicaClusterId === vm.clusterId) continue;
      if (authorizationsFor([a], source, a.replicaClusterId, null).length === 0) continue;
      const entry = clusters.get(a.replicaClusterId) ?? {
        clusterId: a.replicaClusterId,
        hostIds: [],
        wholeCluster: false,
      };
      if (a.replicaHostId === null) entry.wholeCluster = true;
      else if (a.replicaHostId !== vm.hostId) entry.hostIds.push(a.replicaHostId);
      clusters.set(a.replicaClusterId, entry);
    }
    return [...clusters.values()];
  }

  /**
   * Every check `enable` makes, and the replica host it would use (the broker's pick for a cluster target);
   * nothing written. The pattern form's preview runs exactly this for each VM.
   */
  async planEnable(scope: TenantScope, input: EnableReplicationInput) {
    const now = this.deps.clock.now();
    const vm = await this.repo.findVm(scope, input.vmId);
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    if (!vm.hostId || !vm.clusterId) {
      throw new ReplicationError('VM_NOT_PLACED', `${vm.name} is not placed on a host yet; replicate it once it is`);
    }
    if (await this.repo.findRelationshipByVm(scope, vm.id)) {
      throw new ReplicationError(
        'REPLICATION_EXISTS',
        `${vm.name} is already replicated; remove that replication first`,
      );
    }
    if (input.initialMode === 'scheduled') {
      const at = input.initialAt ? Date.parse(input.initialAt) : Number.NaN;
      const maxAhead = REPLICATION_LIMITS.scheduleAheadDays * 86_400_000;
      if (Number.isNaN(at) || at < now.getTime() || at > now.getTime() + maxAhead) {
        throw new ReplicationError(
          'REPLICATION_INVALID_STATE',
          `A scheduled initial replication needs initialAt between now and ${REPLICATION_LIMITS.scheduleAheadDays} days ahead`,
        );
      }
    }
    const source = {
      tenantId: vm.tenantId,
      vmName: vm.name,
      primaryClusterId: vm.clusterId,
      primaryHostId: vm.hostId,
      disks: vm.disks,
    };
    const authorizations = await this.repo.listAuthorizations();
    let replicaHostId: string;
    let replicaClusterId: string;
    let storagePool: string;
    if (input.target.kind === 'host') {
      if (input.target.hostId === vm.hostId) {
        throw new ReplicationError(
          'REPLICA_TARGET_IS_PRIMARY',
          'The replica host must not be the host that runs the VM',
        );
      }
      const host = await this.repo.findHost(input.target.hostId);
      if (!host) throw new ReplicationError('REPLICA_TARGET_NOT_FOUND', 'Replica host not found');
      if (host.clusterId === vm.clusterId) {
        throw new ReplicationError(
          'REPLICA_TARGET_IS_PRIMARY',
          "The replica host must be outside the VM's own cluster",
        );
      }
      const allowed = authorizationsFor(authorizations, source, host.clusterId, host.id);
      const auth = allowed.find((a) => a.replicaHostId === host.id) ?? allowed[0];
      if (!auth) {
        throw new ReplicationError('REPLICA_TARGET_NOT_AUTHORIZED', `${host.name} does not accept replicas of this VM`);
      }
      replicaHostId = host.id;
      replicaClusterId = host.clusterId;
      storagePool = auth.storagePool;
    } else {
      if (input.target.clusterId === vm.clusterId) {
        throw new ReplicationError('REPLICA_TARGET_IS_PRIMARY', "The replica cluster must not be the VM's own cluster");
      }
      if (!(await this.repo.clusterExists(input.target.clusterId))) {
        throw new ReplicationError('REPLICA_TARGET_NOT_FOUND', 'Replica cluster not found');
      }
      const pick = await brokerPick(this.deps.placement, authorizations, source, input.target.clusterId);
      replicaHostId = pick.hostId;
      replicaClusterId = input.target.clusterId;
      storagePool = pick.storagePool;
    }
    return { vm, replicaHostId, replicaClusterId, storagePool };
  }

  async enable(
    scope: TenantScope,
    actor: Actor,
    input: EnableReplicationInput,
  ): Promise<{ relationshipId: string; taskId: string }> {
    const { uow, newId } = this.deps;
    const now = this.deps.clock.now();
    const { vm, replicaHostId, replicaClusterId, storagePool } = await this.planEnable(scope, input);
    const relationshipId = newId();
    const jobId = newId();
    await uow.run(async ({ replication, jobs }) => {
      await replication.createRelationship({
        id: relationshipId,
        tenantId: vm.tenantId,
        vmId: vm.id,
        vmName: vm.name,
        primaryClusterId: vm.clusterId as string,
        primaryHostId: vm.hostId as string,
        targetKind: input.target.kind,
        replicaClusterId,
        replicaHostId,
        storagePool,
        frequencySeconds: input.frequencySeconds,
        additionalPoints: input.additionalPoints,
        appConsistentHours: input.appConsistentHours,
        initialMode: input.initialMode,
        initialAt: input.initialAt ? new Date(input.initialAt) : null,
        compression: input.compression,
        state: 'initial-pending',
        stateReason: '',
        nextDueAt: null,
        createdBy: actor.label,
        createdAt: now,
      });
      await this.createJob(jobs, jobId, REPLICATION_JOB_KINDS.enable, vm, actor, `Enabling replication of ${vm.name}`, [
        { key: 'accept', label: 'Prepare the replica host' },
        {
          key: 'initial',
          label: input.initialMode === 'scheduled' ? 'Schedule the initial copy' : 'Initial replication',
        },
      ]);
    });
    await this.deps.workflows.start(this.enableWf, { jobId, relationshipId }, { workflowId: jobId });
    return { relationshipId, taskId: jobId };
  }

  /**
   * Stops replicating a VM and deletes its replica: a job (Tasks) whose workflow has the replica host's agent
   * delete the replica disks, recovery points and any test VM (`replica.remove`), then forgets the
   * relationship. Cycles stop at once (state `removing`); the VM itself is not touched. A removal that fails
   * (the replica host does not answer) leaves the relationship in `error`, so it can be removed again.
   */
  async remove(scope: TenantScope, actor: Actor, vmId: string): Promise<{ taskId: string }> {
    const rel = await this.requireRelationship(scope, vmId);
    if (!REMOVABLE_FROM.has(rel.state)) {
      throw new ReplicationError(
        'REPLICATION_BUSY',
        `Replication of ${rel.vmName} is ${rel.state}; wait for it to end`,
      );
    }
    return this.startJob(
      rel,
      actor,
      'removing',
      REPLICATION_JOB_KINDS.remove,
      `Removing replication of ${rel.vmName}`,
      REMOVE_STEPS,
      (jobId) => this.deps.workflows.start(this.removeWf, { jobId, relationshipId: rel.id }, { workflowId: jobId }),
    );
  }

  /**
   * The replicated VM was deleted (its host confirmed vm.delete): its replica goes too, whatever the
   * relationship was doing. Null when it was not replicated or is being removed already.
   */
  async removeAfterVmDeleted(vmId: string): Promise<{ taskId: string } | null> {
    const rel = await this.repo.findRelationshipByVm({ kind: 'provider' }, vmId);
    if (!rel || rel.state === 'removing') return null;
    return this.startJob(
      rel,
      SYSTEM_ACTOR,
      'removing',
      REPLICATION_JOB_KINDS.remove,
      `Removing the replica of ${rel.vmName} (the VM was deleted)`,
      REMOVE_STEPS,
      (jobId) => this.deps.workflows.start(this.removeWf, { jobId, relationshipId: rel.id }, { workflowId: jobId }),
    );
  }

  /**
   * The sweep (at the API's start and every minute): what a crash between two writes left behind.
   * - A relationship whose VM is gone: the VM's delete committed, but the API died before it started the
   *   replica's removal (removeAfterVmDeleted): the removal starts now.
   * - A relationship in `removing` whose removal job is open: the API died after writing the job but before
   *   starting its workflow; the workflow is started with the job's id (a start of a workflow that exists
   *   runs nothing, so a removal in progress is not disturbed).
   */
  async sweep(limit = 200): Promise<{ removalsStarted: number; removalsResumed: number }> {
    let removalsStarted = 0;
    for (const rel of await this.repo.withoutVm(limit)) {
      try {
        if (await this.removeAfterVmDeleted(rel.vmId)) removalsStarted++;
      } catch (error) {
        // Another process swept it first (its state moved): nothing to do here.
        if (!(error instanceof ReplicationError && error.code === 'REPLICATION_BUSY')) throw error;
      }
    }
    let removalsResumed = 0;
    const removing = await this.repo.removing(limit);
    if (removing.length > 0) {
      const jobs = new Map(
        (await this.deps.uow.repos.jobs.activeTasks(REPLICATION_JOB_KINDS.remove)).map((j) => [j.targetId, j.id]),
      );
      for (const rel of removing) {
        const jobId = jobs.get(rel.vmId);
        if (!jobId) continue;
        await this.deps.workflows.start(this.removeWf, { jobId, relationshipId: rel.id }, { workflowId: jobId });
        removalsResumed++;
      }
    }
    return { removalsStarted, removalsResumed };
  }

  async pause(scope: TenantScope, vmId: string): Promise<void> {
    const rel = await this.requireRelationship(scope, vmId);
    if (
      !(await this.repo.updateRelationship(
        rel.id,
        { state: 'paused', health: 'critical', healthDueAt: null },
        'replicating',
      ))
    ) {
      throw new ReplicationError(
        'REPLICATION_INVALID_STATE',
        `Only a replicating VM can be paused (${rel.vmName} is ${rel.state})`,
      );
    }
  }

  async resume(scope: TenantScope, vmId: string): Promise<void> {
    const rel = await this.requireRelationship(scope, vmId);
    const ok = await this.repo.updateRelationship(
      rel.id,
      { state: 'replicating', nextDueAt: this.deps.clock.now(), healthDueAt: this.deps.clock.now() },
      'paused',
    );
    if (!ok)
      throw new ReplicationError(
        'REPLICATION_INVALID_STATE',
        `Only a paused replication can resume (${rel.vmName} is ${rel.state})`,
      );
  }

  /**
   * The checks a failover of `kind` makes for one VM, and the recovery point it would start from (the
   * point `pointId` names: an id, or a choice such as the latest application-consistent one; the latest
   * when absent); nothing written. The single procedures and the pattern form's preview both
   * call it, so a preview refuses exactly what the action would.
   */
  async checkFailover(
    scope: TenantScope,
    kind: FailoverKind,
    vmId: string,
    pointId?: PointRef,
  ): Promise<{ rel: Relationship; point: RecoveryPoint | null }> {
    if (kind === 'planned') {
      const rel = await this.requireFailoverable(scope, vmId);
      if (rel.state !== 'replicating') {
        throw new ReplicationError(
          'REPLICATION_INVALID_STATE',
          `A planned failover needs ${rel.vmName} replicating (it is ${rel.state})`,
        );
      }
      return { rel, point: null };
    }
    if (kind === 'unplanned') {
      const rel = await this.requireFailoverable(scope, vmId);
      return { rel, point: await this.requirePoint(scope, rel, pointId) };
    }
    const rel = await this.requireRelationship(scope, vmId);
    if (rel.state !== 'replicating') {
      throw new ReplicationError(
        rel.state === 'test-failover' ? 'REPLICATION_BUSY' : 'REPLICATION_INVALID_STATE',
        rel.state === 'test-failover'
          ? `${rel.vmName} already has a test failover running; stop it first`
          : `A test failover needs ${rel.vmName} replicating (it is ${rel.state})`,
      );
    }
    return { rel, point: await this.requirePoint(scope, rel, pointId) };
  }

  async testFailover(scope: TenantScope, actor: Actor, vmId: string, pointId?: PointRef) {
    const { rel, point } = await this.checkFailover(scope, 'test', vmId, pointId);
    if (!point) throw new ReplicationError('RECOVERY_POINT_NOT_FOUND', `${rel.vmName} has no recovery point yet`);
    const testVmId = this.deps.newId();
    return this.startJob(
      rel,
      actor,
      'test-failover',
      REPLICATION_JOB_KINDS.testFailover,
      `Test failover of ${rel.vmName}`,
      [{ key: 'start', label: 'Start the test VM from the recovery point' }],
      (jobId) =>
        this.deps.workflows.start(
          this.testWf,
          { jobId, relationshipId: rel.id, pointId: point.id, testVmId },
          { workflowId: jobId },
        ),
    );
  }

  async stopTest(scope: TenantScope, actor: Actor, vmId: string) {
    const rel = await this.requireRelationship(scope, vmId);
    if (rel.state !== 'test-failover') {
      throw new ReplicationError('REPLICATION_INVALID_STATE', `${rel.vmName} has no test failover running`);
    }
    const jobId = this.deps.newId();
    await this.deps.uow.run(async ({ jobs }) => {
      await this.createJob(
        jobs,
        jobId,
        REPLICATION_JOB_KINDS.stopTest,
        rel,
        actor,
        `Stopping the test failover of ${rel.vmName}`,
        [{ key: 'stop', label: 'Remove the test VM' }],
      );
    });
    await this.deps.workflows.start(this.stopTestWf, { jobId, relationshipId: rel.id }, { workflowId: jobId });
    return { taskId: jobId };
  }

  async plannedFailover(scope: TenantScope, actor: Actor, vmId: string) {
    const { rel } = await this.checkFailover(scope, 'planned', vmId);
    return this.startJob(
      rel,
      actor,
      'failing-over',
      REPLICATION_JOB_KINDS.planned,
      `Planned failover of ${rel.vmName}`,
      [
        { key: 'shutdown', label: 'Shut down the primary VM' },
        { key: 'final', label: 'Send the last changes' },
        { key: 'start', label: 'Start the replica and compare checksums' },
        { key: 'reverse', label: 'Reverse the direction of replication' },
      ],
      (jobId) => this.deps.workflows.start(this.plannedWf, { jobId, relationshipId: rel.id }, { workflowId: jobId }),
    );
  }

  async failover(scope: TenantScope, actor: Actor, vmId: string, pointId?: PointRef) {
    const { rel, point } = await this.checkFailover(scope, 'unplanned', vmId, pointId);
    if (!point) throw new ReplicationError('RECOVERY_POINT_NOT_FOUND', `${rel.vmName} has no recovery point yet`);
    return this.startJob(
      rel,
      actor,
      'failing-over',
      REPLICATION_JOB_KINDS.unplanned,
      `Failover of ${rel.vmName}`,
      [
        { key: 'start', label: 'Start the replica from the recovery point' },
        { key: 'owner', label: 'Move the VM to the replica host' },
      ],
      (jobId) =>
        this.deps.workflows.start(
          this.unplannedWf,
          { jobId, relationshipId: rel.id, pointId: point.id },
          { workflowId: jobId },
        ),
    );
  }

  async completeFailover(scope: TenantScope, actor: Actor, vmId: string) {
    const rel = await this.requireRelationship(scope, vmId);
    if (rel.state !== 'failover-pending') {
      throw new ReplicationError('REPLICATION_INVALID_STATE', `${rel.vmName} has no failover waiting to be completed`);
    }
    return this.startJob(
      rel,
      actor,
      'failing-over',
      REPLICATION_JOB_KINDS.complete,
      `Completing the failover of ${rel.vmName}`,
      [{ key: 'commit', label: 'Keep the chosen point, drop the others' }],
      (jobId) => this.deps.workflows.start(this.completeWf, { jobId, relationshipId: rel.id }, { workflowId: jobId }),
      'failover-pending',
    );
  }

  async cancelFailover(scope: TenantScope, actor: Actor, vmId: string) {
    const rel = await this.requireRelationship(scope, vmId);
    if (rel.state !== 'failover-pending') {
      throw new ReplicationError('REPLICATION_INVALID_STATE', `${rel.vmName} has no failover waiting to be cancelled`);
    }
    return this.startJob(
      rel,
      actor,
      'failing-over',
      REPLICATION_JOB_KINDS.cancel,
      `Cancelling the failover of ${rel.vmName}`,
      [{ key: 'revert', label: 'Turn the replica off and return to replicating' }],
      (jobId) => this.deps.workflows.start(this.cancelWf, { jobId, relationshipId: rel.id }, { workflowId: jobId }),
      'failover-pending',
    );
  }

  /** After an unplanned failover, when the old primary is back: replicate the other way, resyncing only differing blocks. */
  async reverse(scope: TenantScope, actor: Actor, vmId: string) {
    const rel = await this.requireRelationship(scope, vmId);
    if (rel.state !== 'failed-over') {
      throw new ReplicationError(
        'REPLICATION_INVALID_STATE',
        `Reverse replication needs a completed failover (${rel.vmName} is ${rel.state})`,
      );
    }
    const old = await this.repo.findHost(rel.primaryHostId);
    if (old?.state !== 'connected') {
      throw new ReplicationError(
        'REPLICATION_INVALID_STATE',
        'The old primary host is not connected yet; reverse replication once it is back',
      );
    }
    return this.startJob(
      rel,
      actor,
      'failing-over',
      REPLICATION_JOB_KINDS.reverse,
      `Reverse replication of ${rel.vmName}`,
      [
        { key: 'accept', label: 'Prepare the old primary as the replica' },
        { key: 'resync', label: 'Resynchronize the differing blocks' },
      ],
      (jobId) => this.deps.workflows.start(this.reverseWf, { jobId, relationshipId: rel.id }, { workflowId: jobId }),
      'failed-over',
    );
  }

  // ------------------------------------------------------- authorizations

  listAuthorizations() {
    return this.repo.listAuthorizations();
  }

  async authorize(actor: Actor, input: AuthorizationInput) {
    if (!(await this.repo.clusterExists(input.replicaClusterId))) {
      throw new ReplicationError('REPLICA_TARGET_NOT_FOUND', 'Replica cluster not found');
    }
    if (input.replicaHostId) {
      const host = await this.repo.findHost(input.replicaHostId);
      if (!host || host.clusterId !== input.replicaClusterId) {
        throw new ReplicationError('REPLICA_TARGET_NOT_FOUND', 'Replica host not found in that cluster');
      }
    }
    if (input.primaryClusterId === input.replicaClusterId) {
      throw new ReplicationError('REPLICA_TARGET_IS_PRIMARY', 'A cluster cannot be authorized to replicate to itself');
    }
    const existing = await this.repo.listAuthorizations({ replicaClusterId: input.replicaClusterId });
    if (existing.length >= REPLICATION_LIMITS.authorizationsPerCluster) {
      throw new ReplicationError(
        'REPLICATION_INVALID_STATE',
        `A cluster holds at most ${REPLICATION_LIMITS.authorizationsPerCluster} replica authorizations`,
      );
    }
    return this.repo.createAuthorization({ id: this.deps.newId(), ...input, createdBy: actor.label });
  }

  async revokeAuthorization(id: string) {
    if (!(await this.repo.deleteAuthorization(id))) {
      throw new ReplicationError('REPLICA_AUTHORIZATION_NOT_FOUND', 'Authorization not found');
    }
  }

  // ---------------------------------------------------------- background

  /**
   * The cycle scheduler's tick: starts one workflow per due relationship
   * (index on next_due_at: cost per due relationship, not per relationship).
   * The workflow id is (relationship, generation, seq): a tick repeated
   * after a crash starts nothing twice, and the seq advances only after the
   * start, so no cycle is skipped either.
   */
  async tickCycles(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await this.repo.dueForCycle(now, this.deps.cyclesPerTick ?? 1000);
    let started = 0;
    for (const rel of due) {
      if (!CYCLING.has(rel.state) || !rel.nextDueAt) continue;
      const seq = rel.nextCycleSeq;
      const dueAt = rel.nextDueAt;
      await this.deps.workflows.start(
        this.cycleWf,
        { relationshipId: rel.id, generation: rel.generation, seq, dueAt: dueAt.toISOString() },
        { workflowId: cycleWorkflowId(rel.id, rel.generation, seq) },
      );
      const freq = rel.frequencySeconds * 1000;
      // Slots the scheduler was away for are not made up (lag shows them): the next one after now.
      const periods = Math.max(1, Math.ceil((now.getTime() - dueAt.getTime() + 1) / freq));
      await this.repo.updateRelationship(rel.id, {
        nextCycleSeq: seq + 1,
        nextDueAt: new Date(dueAt.getTime() + periods * freq),
      });
      started++;
    }
    return started;
  }

  /** Health of the relationships that are due (index on health_due_at); returns how many changed. */
  async tickHealth(limit = 5000): Promise<{ evaluated: number; changed: number }> {
    const now = this.deps.clock.now();
    const due = await this.repo.dueForHealth(now, limit);
    if (due.length === 0) return { evaluated: 0, changed: 0 };
    const misses = await this.repo.missesSince(
      due.map((r) => r.id),
      new Date(now.getTime() - 3_600_000),
    );
    let changed = 0;
    for (const rel of due) {
      if (await this.refreshHealth(rel, misses.get(rel.id) ?? [], now)) changed++;
    }
    return { evaluated: due.length, changed };
  }

  private async refreshHealth(rel: Relationship, misses: number[], now: Date): Promise<boolean> {
    const replicaHost = await this.repo.findHost(rel.replicaHostId);
    const verdict = evaluateHealth(
      {
        id: rel.id,
        tenantId: rel.tenantId,
        replicaClusterId: rel.replicaClusterId,
        state: rel.state,
        frequencySeconds: rel.frequencySeconds,
        lastSuccessAt: rel.lastSuccessAt?.getTime() ?? null,
        misses,
        replicaHostDown: replicaHostDownReason(replicaHost, true),
      },
      now.getTime(),
    );
    await this.repo.updateRelationship(rel.id, {
      health: verdict.health,
      healthDueAt: verdict.changesAt === null ? null : new Date(verdict.changesAt),
    });
    return verdict.health !== rel.health;
  }

  // ------------------------------------------------------------ workflows

  private async runEnable(ctx: WorkflowContext, input: JobInput) {
    const { tracker, clock } = this.deps;
    let current: string | null = 'accept';
    try {
      await tracker.started(ctx, input.jobId, 'Preparing the replica host');
      const rel0 = await this.load(input.relationshipId);
      await tracker.step(ctx, input.jobId, 'accept', async () => {
        await this.accept(ctx, rel0, rel0.replicaHostId, 'accept');
        return { value: null, progress: 20, detail: 'Replica storage ready' };
      });
      current = 'initial';
      if (rel0.initialMode === 'scheduled' && rel0.initialAt) {
        const at = rel0.initialAt;
        await tracker.step(ctx, input.jobId, 'initial', async () => {
          await this.repo.updateRelationship(rel0.id, { nextDueAt: at }, 'initial-pending');
          return { value: null, progress: 100, detail: `Starts ${at.toISOString()}` };
        });
        await tracker.succeeded(ctx, input.jobId, `Initial replication scheduled for ${at.toISOString()}`, {});
        return;
      }
      await ctx.step('initial-running', async () => {
        await this.repo.updateRelationship(rel0.id, { state: 'initial-running' }, 'initial-pending');
      });
      const dueAt = (await ctx.step('initial-due', async () => clock.now().toISOString())) as string;
      const outcome = await this.cycle(
        ctx,
        { relationshipId: rel0.id, generation: rel0.generation, seq: 1, dueAt },
        'initial-',
      );
      if (!outcome.ok)
        throw new ReplicationError('REPLICA_AGENT_FAILED', `The initial replication failed: ${outcome.message}`);
      await tracker.step(ctx, input.jobId, 'initial', async () => ({
        value: null,
        progress: 100,
        detail: `${formatBytes(outcome.result.bytesSent)} sent in ${Math.round(outcome.result.durationMs)} ms`,
      }));
      await tracker.succeeded(ctx, input.jobId, 'Replicating', {
        pointId: outcome.result.pointId,
        bytesSent: outcome.result.bytesSent,
      });
    } catch (error) {
      await ctx.step('enable-error-state', async () => {
        await this.repo.updateRelationship(input.relationshipId, {
          state: 'error',
          stateReason: messageOf(error),
          health: 'critical',
        });
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }

  private async runScheduledCycle(ctx: WorkflowContext, input: CycleInput) {
    await this.cycle(ctx, input, '');
  }

  /**
   * One replication cycle: record it (or record it missed when the previous
   * one is still running), ship (the primary's agent sends the changed blocks
   * agent to agent), then apply the outcome: the point, retention, state and
   * health. Each part is a step, so a resumed cycle neither ships twice nor
   * loses its report.
   */
  private async cycle(
    ctx: WorkflowContext,
    input: CycleInput,
    prefix: string,
  ): Promise<ShipOutcome | { ok: false; code: 'SKIPPED'; message: string }> {
    const { clock, newId } = this.deps;
    const plan = (await ctx.step(`${prefix}cycle-record`, async (): Promise<CyclePlan> => {
      const rel = await this.repo.findRelationship({ kind: 'provider' }, input.relationshipId);
      if (!rel || rel.generation !== input.generation) return { skip: true, reason: 'replication changed' };
      const initial = input.seq === 1;
      if (!initial && !CYCLING.has(rel.state) && rel.state !== 'failing-over')
        return { skip: true, reason: `state ${rel.state}` };
      const now = clock.now();
      const running = await this.repo.runningCycle(rel.id);
      const base = {
        id: newId(),
        relationshipId: rel.id,
        tenantId: rel.tenantId,
        generation: rel.generation,
        seq: input.seq,
        dueAt: new Date(input.dueAt),
        startedAt: now,
        latenessMs: Math.max(0, now.getTime() - Date.parse(input.dueAt)),
      };
      if (running && running.generation === rel.generation && running.seq !== input.seq) {
        await this.repo.createCycle({ ...base, mode: 'delta', state: 'missed' });
        return { skip: true, reason: 'previous cycle still running' };
      }
      // The VM moved since the last cycle (an HA restart, a migration): its cycles follow it. The new host
      // has no change log of it, so the cycle compares checksums (resync) and sends only the differences.
      let primaryHostId = rel.primaryHostId;
      let followed = false;
      if (prefix !== 'final-' && rel.state !== 'failing-over') {
        const vm = await this.repo.findVm({ kind: 'provider' }, rel.vmId);
        if (vm?.hostId && vm.hostId !== rel.primaryHostId && vm.hostId !== rel.replicaHostId) {
          await this.repo.updateRelationship(rel.id, {
            primaryHostId: vm.hostId,
            ...(vm.clusterId ? { primaryClusterId: vm.clusterId } : {}),
          });
          primaryHostId = vm.hostId;
          followed = true;
        }
      }
      const primary = await this.repo.findHost(primaryHostId);
      const replica = await this.repo.findHost(rel.replicaHostId);
      const mode: CycleMode =
        prefix === 'final-'
          ? 'final'
          : followed && !initial
            ? 'resync'
            : initial
              ? rel.generation === 1 && rel.initialMode !== 'existing-copy'
                ? 'initial'
                : 'resync'
              : rel.state === 'resync-needed'
                ? 'resync'
                : 'delta';
      const appConsistent =
        rel.appConsistentHours !== null &&
        (rel.lastAppConsistentAt === null ||
          now.getTime() - rel.lastAppConsistentAt.getTime() >= rel.appConsistentHours * 3_600_000);
      const stored = await this.repo.createCycle({ ...base, mode, state: 'running' });
      // A replica host whose heartbeats stopped cannot take the cycle: failed now, not after the agent's timeout.
      const silent = replica !== null && SILENT_HOST_STATES.has(replica.state);
      if (!primary || !replica?.peerUrl || silent) {
        await this.repo.updateCycle(stored.id, {
          state: 'failed',
          finishedAt: now,
          errorCode: 'REPLICA_HOST_UNREACHABLE',
          errorMessage: !replica
            ? 'The replica host is gone'
            : silent
              ? `Replica host ${replica.name} is not answering (${replica.state})`
              : 'The replica host has not reported its peer address',
        });
        // Health is judged again now (the replica host's silence turns it warning within this cycle).
        await this.repo.updateRelationship(rel.id, { healthDueAt: now });
        return { skip: true, reason: 'replica host unreachable' };
      }
      return {
        skip: false,
        cycleId: stored.id,
        pointId: newId(),
        taskId: newId(),
        mode,
        primaryHostId,
        replicaHostId: rel.replicaHostId,
        vmId: rel.vmId,
        peerUrl: replica.peerUrl,
        appConsistent,
        compression: rel.compression,
        generation: rel.generation,
      };
    })) as CyclePlan;
    if (plan.skip) return { ok: false, code: 'SKIPPED', message: plan.reason };
    const outcome = (await ctx.step(`${prefix}cycle-ship`, async (): Promise<ShipOutcome> => {
      try {
        const result = await this.deps.agents.run({
          taskId: plan.taskId,
          hostId: plan.primaryHostId,
          vmId: plan.vmId,
          kind: 'replica.cycle',
          params: {
            relationshipId: input.relationshipId,
            pointId: plan.pointId,
            mode: plan.mode,
            peerUrl: plan.peerUrl,
            credential: this.deps.credentialFor(input.relationshipId, plan.generation),
            compression: plan.compression,
            appConsistent: plan.appConsistent,
          },
          timeoutMs: this.timeoutMs,
        });
        return { ok: true, result: cycleResultOf(result, plan.pointId) };
      } catch (error) {
        if (error instanceof ReplicaTaskFailed) return { ok: false, code: error.code, message: error.message };
        throw error;
      }
    })) as ShipOutcome;
    const keep = (await ctx.step(`${prefix}cycle-apply`, async () => {
      const now = clock.now();
      return this.deps.uow.run(async ({ replication }) => {
        const rel = await replication.findRelationship({ kind: 'provider' }, input.relationshipId);
        if (!rel) return null;
        if (!outcome.ok) {
          await replication.updateCycle(plan.cycleId, {
            state: 'failed',
            finishedAt: now,
            errorCode: outcome.code,
            errorMessage: outcome.message.slice(0, 500),
          });
          if (outcome.code === 'CHANGE_TRACKING_LOST') {
            await replication.updateRelationship(rel.id, {
              state: 'resync-needed',
              stateReason: 'Change tracking was lost on the primary: the next cycle compares block checksums',
              health: 'critical',
              healthDueAt: null,
            });
          } else {
            await replication.updateRelationship(rel.id, { healthDueAt: now });
          }
          return null;
        }
        const r = outcome.result;
        const sizeBytes = r.bytesLogical;
        await replication.updateCycle(plan.cycleId, {
          state: 'succeeded',
          finishedAt: now,
          durationMs: Math.round(r.durationMs),
          bytesSent: r.bytesSent,
          bytesLogical: r.bytesLogical,
          pointId: plan.pointId,
          checksums: r.disks,
        });
        await replication.createPoint({
          id: plan.pointId,
          relationshipId: rel.id,
          tenantId: rel.tenantId,
          generation: plan.generation,
          takenAt: now,
          // Application-consistent only when the guest really quiesced; a failed quiesce left a standard point.
          kind: r.appConsistent ? 'app-consistent' : 'standard',
          checksums: r.disks,
          sizeBytes,
          guestWriteSeq: r.guestWriteSeq,
          quiesce: plan.appConsistent ? (r.quiesce ?? { status: 'failed', message: 'the host did not say' }) : null,
        });
        const points = await replication.listPoints({ kind: 'provider' }, rel.id);
        const { keep, drop } = pointsToKeep(points, rel.additionalPoints);
        if (drop.length) await replication.removePoints(drop, now);
        const firstCycle =
          rel.state === 'initial-running' || rel.state === 'initial-pending' || rel.state === 'resync-needed';
        await replication.updateRelationship(rel.id, {
          lastSuccessAt: now,
          lastPointAt: now,
          // A quiesce that failed is asked again at the next cycle, as Hyper-V retries its VSS snapshot.
          ...(r.appConsistent ? { lastAppConsistentAt: now } : {}),
          ...(firstCycle
            ? {
                state: 'replicating' as const,
                stateReason: '',
                nextCycleSeq: Math.max(rel.nextCycleSeq, input.seq + 1),
                nextDueAt: new Date(now.getTime() + rel.frequencySeconds * 1000),
              }
            : {}),
          health: firstCycle ? 'normal' : rel.health,
          healthDueAt: now,
        });
        return keep;
      });
    })) as string[] | null;
    if (keep) {
      await ctx.step(`${prefix}cycle-retain`, async () => {
        try {
          await this.deps.agents.run({
            taskId: stableId(ctx.workflowId, `${prefix}retain`),
            hostId: plan.replicaHostId,
            vmId: plan.vmId,
            kind: 'replica.retain',
            params: { relationshipId: input.relationshipId, keepPointIds: keep },
            timeoutMs: this.timeoutMs,
          });
        } catch (error) {
          if (!(error instanceof ReplicaTaskFailed)) throw error;
          // Points beyond retention stay on disk until the next cycle's retain.
        }
      });
    }
    return outcome;
  }

  private async runTest(ctx: WorkflowContext, input: PointJobInput & { testVmId: string }) {
    const { tracker } = this.deps;
    try {
      await tracker.started(ctx, input.jobId, 'Starting a test VM');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      const result = await tracker.step(ctx, input.jobId, 'start', async () => {
        const out = await this.task(ctx, 'test', rel.replicaHostId, rel.vmId, 'replica.test-failover', {
          relationshipId: rel.id,
          pointId: input.pointId,
          testVmId: input.testVmId,
          name: `${rel.vmName} - Test`,
        });
        const point = await this.repo.findPoint({ kind: 'provider' }, rel.id, input.pointId);
        const disks = disksOf(out);
        if (point && point.checksums.length > 0 && !sameChecksums(point.checksums, disks)) {
          throw new ReplicationError(
            'REPLICA_CHECKSUM_MISMATCH',
            "The test VM's disks differ from the recovery point (checksums)",
          );
        }
        await this.repo.updateRelationship(rel.id, { testVmId: input.testVmId });
        return {
          value: disks,
          progress: 100,
          detail: `Test VM "${rel.vmName} - Test" running on an isolated network; its disks equal the recovery point (checksums)`,
        };
      });
      await tracker.succeeded(ctx, input.jobId, `Test VM "${rel.vmName} - Test" is running`, {
        testVmId: input.testVmId,
        disks: result,
      });
    } catch (error) {
      await ctx.step('test-back', async () => {
        await this.repo.updateRelationship(
          input.relationshipId,
          { state: 'replicating', testVmId: null },
          'test-failover',
        );
      });
      await tracker.failed(ctx, input.jobId, 'start', error);
      throw error;
    }
  }

  private async runStopTest(ctx: WorkflowContext, input: JobInput) {
    const { tracker } = this.deps;
    try {
      await tracker.started(ctx, input.jobId, 'Removing the test VM');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      await tracker.step(ctx, input.jobId, 'stop', async () => {
        await this.task(ctx, 'stop', rel.replicaHostId, rel.vmId, 'replica.stop-test', {
          relationshipId: rel.id,
          testVmId: rel.testVmId,
        });
        await this.repo.updateRelationship(rel.id, { state: 'replicating', testVmId: null }, 'test-failover');
        return { value: null, progress: 100 };
      });
      await tracker.succeeded(ctx, input.jobId, 'Test VM removed', {});
    } catch (error) {
      await tracker.failed(ctx, input.jobId, 'stop', error);
      throw error;
    }
  }

  private async runPlanned(ctx: WorkflowContext, input: JobInput) {
    const { tracker, ownership } = this.deps;
    let current: string | null = 'shutdown';
    try {
      await tracker.started(ctx, input.jobId, 'Planned failover');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      await tracker.step(ctx, input.jobId, 'shutdown', async () => {
        await this.task(ctx, 'shutdown', rel.primaryHostId, rel.vmId, 'vm.stop', {});
        await ownership.setState(rel.vmId, 'off', 'Planned failover: shut down on the primary');
        return { value: null, progress: 25 };
      });
      current = 'final';
      const dueAt = (await ctx.step('final-due', async () => this.deps.clock.now().toISOString())) as string;
      const seq = (await ctx.step('final-seq', async () => {
        const r = await this.load(rel.id);
        await this.repo.updateRelationship(rel.id, { nextCycleSeq: r.nextCycleSeq + 1 });
        return r.nextCycleSeq;
      })) as number;
      const final = await this.cycle(ctx, { relationshipId: rel.id, generation: rel.generation, seq, dueAt }, 'final-');
      if (!final.ok)
        throw new ReplicationError('REPLICA_AGENT_FAILED', `The last changes could not be sent: ${final.message}`);
      await tracker.step(ctx, input.jobId, 'final', async () => ({
        value: null,
        progress: 50,
        detail: `${formatBytes(final.result.bytesSent)} sent`,
      }));
      current = 'start';
      const started = await tracker.step(ctx, input.jobId, 'start', async () => {
        const out = await this.task(ctx, 'failover', rel.replicaHostId, rel.vmId, 'replica.failover', {
          relationshipId: rel.id,
          pointId: final.result.pointId,
          spec: await ownership.spec(rel.vmId),
        });
        const replicaDisks = disksOf(out);
        if (!sameChecksums(final.result.disks, replicaDisks)) {
          throw new ReplicationError(
            'REPLICA_CHECKSUM_MISMATCH',
            'The replica does not equal the primary after the last cycle (checksums differ); the primary stays the primary',
          );
        }
        const epoch = await ownership.epochOf(rel.vmId);
        await ownership.transfer(rel.vmId, { hostId: rel.replicaHostId, clusterId: rel.replicaClusterId }, epoch);
        await ownership.setState(rel.vmId, 'running', 'Planned failover: running on the former replica');
        return { value: replicaDisks, progress: 80, detail: 'Checksums equal: no data lost' };
      });
      current = 'reverse';
      await tracker.step(ctx, input.jobId, 'reverse', async () => {
        // Not due until the old primary accepted: a resync started before its credential is granted is refused
        // (401), and the new direction would go on with deltas without the resync that compares every block.
        const reversed = await this.swap(rel, 'replicating', { due: false });
        await this.accept(ctx, reversed, reversed.replicaHostId, 'reverse-accept');
        await this.repo.updateRelationship(rel.id, { nextDueAt: this.deps.clock.now() });
        return { value: null, progress: 100, detail: 'The old primary is now the replica' };
      });
      await tracker.succeeded(ctx, input.jobId, 'Failed over with no data lost; replication reversed', {
        pointId: final.result.pointId,
        disks: started,
      });
    } catch (error) {
      await ctx.step('planned-failed', async () => {
        // Nothing moved unless the start step finished: back to replicating (the primary is restarted by the operator).
        await this.repo.updateRelationship(
          input.relationshipId,
          { state: 'error', stateReason: messageOf(error), health: 'critical' },
          'failing-over',
        );
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }

  private async runUnplanned(ctx: WorkflowContext, input: PointJobInput) {
    const { tracker, ownership } = this.deps;
    let current: string | null = 'start';
    try {
      await tracker.started(ctx, input.jobId, 'Failover');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      const disks = await tracker.step(ctx, input.jobId, 'start', async () => {
        const out = await this.task(ctx, 'failover', rel.replicaHostId, rel.vmId, 'replica.failover', {
          relationshipId: rel.id,
          pointId: input.pointId,
          spec: await ownership.spec(rel.vmId),
        });
        return { value: disksOf(out), progress: 60 };
      });
      current = 'owner';
      await tracker.step(ctx, input.jobId, 'owner', async () => {
        const epoch = await ownership.epochOf(rel.vmId);
        await ownership.transfer(rel.vmId, { hostId: rel.replicaHostId, clusterId: rel.replicaClusterId }, epoch);
        await ownership.setState(rel.vmId, 'running', 'Failover: running on the replica host');
        await this.repo.updateRelationship(rel.id, {
          state: 'failover-pending',
          failoverPointId: input.pointId,
          healthDueAt: null,
          health: 'warning',
        });
        return { value: null, progress: 100 };
      });
      await tracker.succeeded(
        ctx,
        input.jobId,
        'Running on the replica: complete the failover to keep it, or cancel it',
        {
          pointId: input.pointId,
          disks,
        },
      );
    } catch (error) {
      await ctx.step('failover-failed', async () => {
        await this.repo.updateRelationship(
          input.relationshipId,
          { state: 'error', stateReason: messageOf(error), health: 'critical' },
          'failing-over',
        );
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }

  private async runComplete(ctx: WorkflowContext, input: JobInput) {
    const { tracker } = this.deps;
    try {
      await tracker.started(ctx, input.jobId, 'Completing the failover');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      await tracker.step(ctx, input.jobId, 'commit', async () => {
        await this.task(ctx, 'commit', rel.replicaHostId, rel.vmId, 'replica.commit', {
          relationshipId: rel.id,
          pointId: rel.failoverPointId,
        });
        const points = await this.repo.listPoints({ kind: 'provider' }, rel.id);
        await this.repo.removePoints(
          points.map((p) => p.id),
          this.deps.clock.now(),
        );
        await this.repo.updateRelationship(rel.id, {
          state: 'failed-over',
          stateReason: 'Reverse replication when the old primary is back',
          health: 'normal',
        });
        return { value: null, progress: 100 };
      });
      await tracker.succeeded(ctx, input.jobId, 'Failover completed', {});
    } catch (error) {
      await ctx.step('complete-failed', async () => {
        await this.repo.updateRelationship(input.relationshipId, { state: 'failover-pending' }, 'failing-over');
      });
      await tracker.failed(ctx, input.jobId, 'commit', error);
      throw error;
    }
  }

  private async runCancel(ctx: WorkflowContext, input: JobInput) {
    const { tracker, ownership } = this.deps;
    try {
      await tracker.started(ctx, input.jobId, 'Cancelling the failover');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      await tracker.step(ctx, input.jobId, 'revert', async () => {
        await this.task(ctx, 'revert', rel.replicaHostId, rel.vmId, 'replica.revert', { relationshipId: rel.id });
        const epoch = await ownership.epochOf(rel.vmId);
        await ownership.transfer(rel.vmId, { hostId: rel.primaryHostId, clusterId: rel.primaryClusterId }, epoch);
        await ownership.setState(rel.vmId, 'off', 'Failover cancelled: the replica is off again');
        await this.repo.updateRelationship(rel.id, {
          state: 'replicating',
          failoverPointId: null,
          stateReason: '',
          nextDueAt: this.deps.clock.now(),
          healthDueAt: this.deps.clock.now(),
        });
        return { value: null, progress: 100 };
      });
      await tracker.succeeded(ctx, input.jobId, 'Failover cancelled; replicating again', {});
    } catch (error) {
      await ctx.step('cancel-failed', async () => {
        await this.repo.updateRelationship(input.relationshipId, { state: 'failover-pending' }, 'failing-over');
      });
      await tracker.failed(ctx, input.jobId, 'revert', error);
      throw error;
    }
  }

  private async runReverse(ctx: WorkflowContext, input: JobInput) {
    const { tracker } = this.deps;
    let current: string | null = 'accept';
    try {
      await tracker.started(ctx, input.jobId, 'Reverse replication');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      const reversed = await tracker
        .step(ctx, input.jobId, 'accept', async () => {
          const r = await this.swap(rel, 'initial-running');
          await this.accept(ctx, r, r.replicaHostId, 'reverse-accept');
          return { value: r, progress: 30 };
        })
        .then(reviveRel);
      current = 'resync';
      const dueAt = (await ctx.step('resync-due', async () => this.deps.clock.now().toISOString())) as string;
      const outcome = await this.cycle(
        ctx,
        { relationshipId: rel.id, generation: reversed.generation, seq: 1, dueAt },
        'resync-',
      );
      if (!outcome.ok)
        throw new ReplicationError('REPLICA_AGENT_FAILED', `The resynchronization failed: ${outcome.message}`);
      await tracker.step(ctx, input.jobId, 'resync', async () => ({
        value: null,
        progress: 100,
        detail: `${formatBytes(outcome.result.bytesSent)} of differing blocks sent`,
      }));
      await tracker.succeeded(ctx, input.jobId, 'Replicating in the reverse direction', {
        bytesSent: outcome.result.bytesSent,
      });
    } catch (error) {
      await ctx.step('reverse-failed', async () => {
        await this.repo.updateRelationship(input.relationshipId, {
          state: 'error',
          stateReason: messageOf(error),
          health: 'critical',
        });
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }

  private async runRemove(ctx: WorkflowContext, input: JobInput) {
    const { tracker } = this.deps;
    let current: string | null = 'replica';
    try {
      await tracker.started(ctx, input.jobId, 'Deleting the replica');
      const rel = await ctx.step('load', async () => this.load(input.relationshipId)).then(reviveRel);
      const removed = await tracker.step(ctx, input.jobId, 'replica', async () => {
        const host = await this.repo.findHost(rel.replicaHostId);
        if (!host) {
          return {
            value: { pointsRemoved: 0, freedBytes: 0 },
            progress: 70,
            detail: 'The replica host was removed from the fabric: nothing is left to delete on it',
          };
        }
        const out = await this.task(
          ctx,
          'remove',
          rel.replicaHostId,
          rel.vmId,
          'replica.remove',
          { relationshipId: rel.id },
          rel.tenantId,
        );
        const pointsRemoved = typeof out.pointsRemoved === 'number' ? out.pointsRemoved : 0;
        const freedBytes = typeof out.freedBytes === 'number' ? out.freedBytes : 0;
        return {
          value: { pointsRemoved, freedBytes },
          progress: 70,
          detail:
            out.existed === false
              ? `${host.name} held no replica of this VM`
              : `${pointsRemoved} recovery point(s) and ${formatBytes(freedBytes)} of replica storage deleted on ${host.name}`,
        };
      });
      current = 'primary';
      await tracker.step(ctx, input.jobId, 'primary', async () => {
        // After a failover the other side keeps files of this relationship: the VM's disks set aside when it
        // was discarded there (they would seed a reverse direction), or the replica copy of an earlier
        // direction. The same replica.remove deletes them there; the VM itself is never touched.
        const host = await this.repo.findHost(rel.primaryHostId);
        if (!host) return { value: null, progress: 85, detail: 'The primary host was removed from the fabric' };
        if (SILENT_HOST_STATES.has(host.state)) {
          return {
            value: null,
            progress: 85,
            detail: `${host.name} is not answering (${host.state}); nothing was deleted there`,
          };
        }
        try {
          const out = await this.task(
            ctx,
            'remove-primary',
            rel.primaryHostId,
            rel.vmId,
            'replica.remove',
            { relationshipId: rel.id },
            rel.tenantId,
          );
          const kept = out.setAsideRemoved === true || out.existed === true;
          return {
            value: null,
            progress: 85,
            detail: kept
              ? `The copy ${host.name} kept for this replication was deleted`
              : `${host.name} kept nothing for this replication`,
          };
        } catch (error) {
          // Not a reason to keep the replication: the replica is gone already.
          if (!(error instanceof ReplicationError)) throw error;
          return { value: null, progress: 85, detail: `${host.name} could not be asked: ${error.message}` };
        }
      });
      current = 'record';
      await tracker.step(ctx, input.jobId, 'record', async () => {
        await this.repo.deleteRelationship(rel.id);
        return { value: null, progress: 100 };
      });
      await tracker.succeeded(
        ctx,
        input.jobId,
        `Replication of ${rel.vmName} removed; its replica is deleted`,
        removed,
      );
    } catch (error) {
      await ctx.step('remove-failed', async () => {
        await this.repo.updateRelationship(
          input.relationshipId,
          {
            state: 'error',
            stateReason: `The replica could not be deleted (${messageOf(error)}); remove replication again`,
            health: 'critical',
          },
          'removing',
        );
      });
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }

  // ------------------------------------------------------------- helpers

  /** Primary and replica swap; a new generation starts at seq 1 (its first cycle resyncs). */
  private async swap(
    rel: Relationship,
    state: ReplicationState = 'replicating',
    options: { due: boolean } = { due: true },
  ): Promise<Relationship> {
    const now = this.deps.clock.now();
    const current = await this.load(rel.id);
    if (current.generation > rel.generation) return current; // already swapped (step re-run)
    await this.repo.updateRelationship(rel.id, {
      primaryHostId: rel.replicaHostId,
      primaryClusterId: rel.replicaClusterId,
      replicaHostId: rel.primaryHostId,
      replicaClusterId: rel.primaryClusterId,
      generation: rel.generation + 1,
      nextCycleSeq: state === 'replicating' ? 1 : 2,
      nextDueAt: state === 'replicating' && options.due ? now : null,
      state,
      stateReason: 'Direction reversed: the first cycle compares block checksums',
      failoverPointId: null,
      lastSuccessAt: null,
      health: 'normal',
      healthDueAt: now,
    });
    return this.load(rel.id);
  }

  private async accept(ctx: WorkflowContext, rel: Relationship, hostId: string, name: string) {
    const vm = await this.repo.findVm({ kind: 'provider' }, rel.vmId);
    await this.task(ctx, name, hostId, rel.vmId, 'replica.accept', {
      relationshipId: rel.id,
      vmId: rel.vmId,
      credential: this.deps.credentialFor(rel.id, rel.generation),
      primaryHostId: rel.primaryHostId,
      storagePool: rel.storagePool,
      disks: (vm?.disks ?? []).map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
    });
  }

  /** Runs one agent task inside the calling step; its id is minted in a step of its own first. */
  private async task(
    ctx: WorkflowContext,
    name: string,
    hostId: string,
    vmId: string,
    kind: ReplicaTaskKind,
    params: Record<string, unknown>,
    tenantId?: string,
  ) {
    // Nested in a tracker step: the id must be stable across a re-run of that step, so derive it from the workflow.
    const taskId = stableId(ctx.workflowId, name);
    try {
      return await this.deps.agents.run({
        taskId,
        hostId,
        vmId,
        kind,
        params,
        timeoutMs: this.timeoutMs,
        ...(tenantId ? { tenantId } : {}),
      });
    } catch (error) {
      if (error instanceof ReplicaTaskFailed) {
        throw new ReplicationError(
          'REPLICA_AGENT_FAILED',
          `The host could not ${kind.replace(/^\w+\./, '').replace('-', ' ')}: ${error.message}`,
        );
      }
      throw error;
    }
  }

  private async load(id: string): Promise<Relationship> {
    const rel = await this.repo.findRelationship({ kind: 'provider' }, id);
    if (!rel) throw new ReplicationError('REPLICATION_NOT_FOUND', 'The replication was removed');
    return rel;
  }

  private async requireRelationship(scope: TenantScope, vmId: string): Promise<Relationship> {
    const vm = await this.repo.findVm(scope, vmId);
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    const rel = await this.repo.findRelationshipByVm(scope, vmId);
    if (!rel) throw new ReplicationError('VM_NOT_REPLICATED', `${vm.name} is not replicated`);
    return rel;
  }

  private async requireFailoverable(scope: TenantScope, vmId: string): Promise<Relationship> {
    const rel = await this.requireRelationship(scope, vmId);
    if (rel.state === 'failing-over' || rel.state === 'failover-pending') {
      throw new ReplicationError('REPLICATION_BUSY', `${rel.vmName} is already failing over`);
    }
    if (!FAILOVER_FROM.has(rel.state)) {
      throw new ReplicationError(
        'REPLICATION_INVALID_STATE',
        `${rel.vmName} cannot fail over while it is ${rel.state}`,
      );
    }
    return rel;
  }

  /** The point a failover starts from: the one named (an id), the one a choice picks, or the latest. */
  private async requirePoint(scope: TenantScope, rel: Relationship, point: PointRef = { choice: 'latest' }) {
    if (typeof point === 'string') {
      const found = await this.repo.findPoint(scope, rel.id, point);
      if (!found || found.removedAt)
        throw new ReplicationError('RECOVERY_POINT_NOT_FOUND', 'That recovery point does not exist');
      return found;
    }
    // Newest first.
    const points = await this.repo.listPoints(scope, rel.id);
    if (points.length === 0)
      throw new ReplicationError('RECOVERY_POINT_NOT_FOUND', `${rel.vmName} has no recovery point yet`);
    if (point.choice === 'latest') return points[0] as RecoveryPoint;
    if (point.choice === 'latest-app-consistent') {
      const found = points.find((p) => p.kind === 'app-consistent');
      if (!found)
        throw new ReplicationError(
          'RECOVERY_POINT_NOT_FOUND',
          `${rel.vmName} has no application-consistent recovery point`,
        );
      return found;
    }
    const at = Date.parse(point.at);
    const found = points.find((p) => p.takenAt.getTime() <= at);
    if (!found)
      throw new ReplicationError(
        'RECOVERY_POINT_NOT_FOUND',
        `${rel.vmName} has no recovery point taken at or before ${new Date(at).toISOString()}`,
      );
    return found;
  }

  /** CAS into `state`, create the job, start the workflow; the state goes back when the job cannot be created. */
  private async startJob(
    rel: Relationship,
    actor: Actor,
    state: ReplicationState,
    kind: string,
    message: string,
    steps: { key: string; label: string }[],
    start: (jobId: string) => Promise<void>,
    from: ReplicationState = rel.state,
  ): Promise<{ taskId: string }> {
    const jobId = this.deps.newId();
    await this.deps.uow.run(async ({ replication, jobs }) => {
      if (!(await replication.updateRelationship(rel.id, { state }, from))) {
        throw new ReplicationError('REPLICATION_BUSY', `${rel.vmName} changed state meanwhile; try again`);
      }
      await this.createJob(jobs, jobId, kind, rel, actor, message, steps);
    });
    await start(jobId);
    return { taskId: jobId };
  }

  private async createJob(
    jobs: JobRepository,
    jobId: string,
    kind: string,
    target: { tenantId: string; vmName?: string; name?: string; vmId?: string; id: string },
    actor: Actor,
    message: string,
    steps: { key: string; label: string }[],
  ) {
    try {
      await jobs.create(
        {
          id: jobId,
          kind,
          targetType: 'vm',
          targetId: target.vmId ?? target.id,
          targetLabel: target.vmName ?? target.name ?? '',
          tenantId: target.tenantId,
          requestedBy: actor.label,
          requestedById: actor.id,
          steps,
          message,
        },
        this.deps.clock.now(),
      );
    } catch (error) {
      if (error instanceof JobError && error.code === 'TASK_ALREADY_ACTIVE') {
        throw new ReplicationError(
          'REPLICATION_BUSY',
          `${target.vmName ?? target.name} has this operation running already`,
        );
      }
      throw error;
    }
  }
}

export function cycleWorkflowId(relationshipId: string, generation: number, seq: number): string {
  return `replica-cycle:${relationshipId}:${generation}:${seq}`;
}

/** A uuid-shaped id derived from a workflow id and a name (FNV-1a, 128 bits): the same inputs give the same id. */
export function stableId(workflowId: string, name: string): string {
  const input = `${workflowId}/${name}`;
  let out = '';
  for (let round = 0; round < 4; round++) {
    let h = 0x811c9dc5 ^ round;
    for (let i = 0; i < input.length; i++) {
      h ^= input.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return `${out.slice(0, 8)}-${out.slice(8, 12)}-4${out.slice(13, 16)}-8${out.slice(17, 20)}-${out.slice(20, 32)}`;
}

function sameChecksums(
  a: readonly { name: string; sha256: string }[],
  b: readonly { name: string; sha256: string }[],
): boolean {
  if (a.length === 0 || a.length !== b.length) return false;
  const byName = new Map(b.map((d) => [d.name, d.sha256]));
  return a.every((d) => byName.get(d.name) === d.sha256);
}

function messageOf(error: unknown): string {
  return error instanceof ReplicationError ? error.message : 'an internal error';
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A relationship read back from a recorded step (dates arrive as strings). */
function reviveRel(r: Relationship): Relationship {
  const d = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    ...r,
    initialAt: d(r.initialAt),
    healthDueAt: d(r.healthDueAt),
    nextDueAt: d(r.nextDueAt),
    lastSuccessAt: d(r.lastSuccessAt),
    lastPointAt: d(r.lastPointAt),
    lastAppConsistentAt: d(r.lastAppConsistentAt),
    createdAt: new Date(r.createdAt as unknown as string),
  };
}
