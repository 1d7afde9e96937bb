import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditRepository } from '../audit/audit-repository';
import type { PlacementDecision } from '../placement/place';
import { PlacementSession, place, placeBatch } from '../placement/place';
import type { ClusterSnapshot, PlacementRequest } from '../placement/snapshot';
import { evacuationPlan, nPlusOne, type VmOnHost } from '../placement/what-if';
import type { Clock } from '../shared/clock';
import { type Actor, type Caller, scopeOf, type TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type {
  AgentTask,
  NextTasksRequest,
  TaskReport,
  TaskReportResponse,
  VmSpec,
} from '../tasks/task-protocol.schema';
import { ComputeError } from './compute.errors';
import type { ComputeRepository, StoredDecision, VmChangeEvent, VmRecord } from './compute-repository';
import { allocatedQuotaViolations, quotaMessage, runningQuotaViolations, times } from './quota';
import type { CreateManyVmsInput, CreateVmInput, ListVmsInput, Quota, VmAction } from './vm.schema';
import { refuseAction, stateAfterFailure, stateAfterSuccess, VM_TRANSITIONS, wildcardToRegExp } from './vm-state';

export interface PlacementStore {
  /** Every VM placed in the cluster, as the request that would place it again. */
  vmsInCluster(clusterId: string): Promise<VmOnHost[]>;
  /** The cluster a host belongs to. */
  clusterOfHost(hostId: string): Promise<string | null>;
  /** Every cluster VMs may be placed in, the most promising for `memoryMiB` first. */
  placementClusters(memoryMiB?: number): Promise<{ id: string; name: string }[]>;
  /** Locks the cluster until commit: placements in one cluster happen one at a time. */
  lockCluster(clusterId: string): Promise<void>;
  clusterSnapshot(clusterId: string): Promise<ClusterSnapshot>;
}

type Repos = { compute: ComputeRepository; placement: PlacementStore; audit: AuditRepository };

export interface ComputeServiceDeps {
  uow: UnitOfWork<Repos>;
  clock: Clock;
  /** How long a handed-out task is the host's before it is handed out again. */
  taskLeaseMs: number;
  /** Seeds placement tie-breaks; fixed in tests so decisions replay. */
  seed?: () => number;
}

const GiB = 1024 ** 3;

/** Hyper-V's MAC prefix (00:15:5D) with three random octets. */
function newMacAddress(): string {
  const bytes = randomBytes(3);
  return ['00', '15', '5D', ...[...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase())].join(':');
}

function specOf(vmId: string, input: CreateVmInput, pools: Map<string, string>): VmSpec {
  const m = input.memory;
  return {
    vmId,
    name: input.name,
    vcpus: input.vcpus,
    memory:
      m.mode === 'static'
        ? {
            dynamic: false,
            startupMiB: m.sizeMiB,
            minimumMiB: m.sizeMiB,
            maximumMiB: m.sizeMiB,
            bufferPercent: 20,
            weight: 5000,
          }
        : {
            dynamic: true,
            startupMiB: m.startupMiB,
            minimumMiB: m.minimumMiB,
            maximumMiB: m.maximumMiB,
            bufferPercent: m.bufferPercent,
            weight: m.weight,
          },
    disks: input.disks.map((d) => ({
      name: d.name,
      pool: d.pool ?? pools.get(d.name) ?? 'local',
      sizeBytes: Math.round(d.sizeGiB * GiB),
      logicalSectorBytes: d.logicalSectorBytes,
      kind: d.kind,
      parent: d.parent ?? null,
    })),
    nics: input.nics.map((n) => ({
      name: n.name,
      macAddress: newMacAddress(),
      network: n.network,
      minimumBandwidthMbps: n.minimumBandwidthMbps ?? null,
      minimumBandwidthWeight: n.minimumBandwidthWeight ?? null,
      maximumBandwidthMbps: n.maximumBandwidthMbps ?? null,
    })),
  };
}

/** What placement reserves: startup memory for Dynamic Memory (the whitepaper's rule). */
export function demandOf(input: CreateVmInput) {
  return {
    vcpus: input.vcpus,
    memoryMiB: input.memory.mode === 'static' ? input.memory.sizeMiB : input.memory.startupMiB,
    storageBytes: input.disks.reduce((sum, d) => sum + Math.round(d.sizeGiB * GiB), 0),
  };
}

function requestOf(tenantId: string, input: CreateVmInput): PlacementRequest {
  const demand = demandOf(input);
  return {
    name: input.name,
    tenantId,
    vcpus: demand.vcpus,
    memoryMiB: demand.memoryMiB,
    disks: input.disks.map((d) => ({ sizeBytes: Math.round(d.sizeGiB * GiB), ...(d.pool ? { pool: d.pool } : {}) })),
    nics: input.nics.map((n) => (n.minimumBandwidthMbps ? { minBandwidthMbps: n.minimumBandwidthMbps } : {})),
    // Groups are per tenant: Blue's "web" and Yellow's "web" are different groups.
    groups: input.groups.map((g) => ({ ...g, name: `${tenantId}:${g.name}` })),
    haPriority: input.haPriority,
  };
}

export interface BulkResult {
  vmId: string;
  name: string;
  ok: boolean;
  message: string;
  taskId: string | null;
}

export class ComputeService {
  constructor(private readonly deps: ComputeServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  private tenantOf(caller: Caller): string {
    const scope = scopeOf(caller);
    if (scope.kind !== 'tenant') throw new ComputeError('INVALID_VM_STATE', 'VMs are created by a tenant’s users');
    return scope.tenantId;
  }

  /**
   * Creates a VM: quota (under the tenant's lock, so concurrent creates cannot
   * pass it together), placement (under each cluster's lock, so two creates
   * never take the last slot of a host), the VM with its reservation, the
   * decision and the host's task, all in one transaction. A refused placement
   * still keeps its decision, so "why did it not fit" has an answer.
   */
  async createVm(actor: Actor, caller: Caller, input: CreateVmInput) {
    const tenantId = this.tenantOf(caller);
    const demand = demandOf(input);
    const request = requestOf(tenantId, input);
    const seed = this.deps.seed?.() ?? randomBytes(4).readUInt32BE(0) % 2_147_483_647;
    let refused: StoredDecision | null = null;
    try {
      return await this.deps.uow.run(async ({ compute, placement, audit }) => {
        const quota = await compute.lockQuota(tenantId);
        if (await compute.findVmByName(tenantId, input.name)) {
          throw new ComputeError('DUPLICATE_VM_NAME', `A VM named "${input.name}" already exists`);
        }
        const usage = await compute.usage(tenantId);
        const problems = allocatedQuotaViolations(quota, usage, demand);
        if (input.startAfterCreate) problems.push(...runningQuotaViolations(quota, usage, demand));
        if (problems.length) throw new ComputeError('QUOTA_EXCEEDED', quotaMessage(problems));

        const clusters = await placement.placementClusters(demand.memoryMiB);
        if (!clusters.length) throw new ComputeError('NO_CLUSTER', 'There is no cluster to place VMs in yet');
        // The most promising cluster first; the next only when it refuses. A
        // cluster is locked while it is decided on, so its last slot is taken once.
        let best: { decision: PlacementDecision; clusterId: string } | null = null;
        let firstRefusal: { decision: PlacementDecision; clusterId: string } | null = null;
        for (const cluster of clusters) {
          await placement.lockCluster(cluster.id);
          const snapshot = await placement.clusterSnapshot(cluster.id);
          const decision = place(snapshot, request, { seed });
          if (decision.hostId) {
            best = { decision, clusterId: cluster.id };
            break;
          }
          if (!firstRefusal || decision.hostsTotal > firstRefusal.decision.hostsTotal) {
            // The refusal worth showing is the one of the cluster with the most hosts (an empty cluster says little).
            firstRefusal = { decision, clusterId: cluster.id };
          }
        }
        if (!best?.decision.hostId) {
          const refusal = firstRefusal ?? { decision: null, clusterId: clusters[0]?.id ?? '' };
          refused = {
            tenantId,
            vmId: null,
            vmName: input.name,
            clusterId: refusal.clusterId,
            hostId: null,
            hostName: null,
            policy: refusal.decision?.policy ?? 'balance',
            seed,
            summary: refusal.decision?.summary ?? 'No host fits',
            request,
            trace: refusal.decision?.trace ?? [],
          };
          throw new ComputeError('NO_HOST_FITS', `No host can run this VM: ${refused.summary}`);
        }
        const { decision, clusterId } = best;
        const hostId = best.decision.hostId;
        // The pools placement chose for disks the user left to it.
        const chosenPools = decision.assignment?.diskPools ?? [];
        const pools = new Map(input.disks.map((d, i) => [d.name, chosenPools[i] || d.pool || 'local']));
        const vm = await compute.createVm({
          tenantId,
          name: input.name,
          clusterId,
          hostId,
          spec: specOf('00000000-0000-0000-0000-000000000000', input, pools),
          storageBytes: demand.storageBytes,
          haPriority: input.haPriority,
          tags: input.tags,
          groups: input.groups,
        });
        const decisionId = await compute.saveDecision({
          tenantId,
          vmId: vm.id,
          vmName: vm.name,
          clusterId,
          hostId,
          hostName: decision.hostName,
          policy: decision.policy,
          seed,
          summary: decision.summary,
          request,
          trace: decision.trace,
        });
        const requestedBy = actor.label;
        const task = await compute.createTask({ kind: 'vm.create', vmId: vm.id, hostId, tenantId, requestedBy });
        if (input.startAfterCreate) {
          await compute.createTask({ kind: 'vm.start', vmId: vm.id, hostId, tenantId, requestedBy });
        }
        await audit.append({
          actor,
          action: 'vm.create',
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId,
          result: 'success',
          message: `${vm.name}: ${decision.summary}`,
          details: { decisionId, hostId, clusterId, vcpus: vm.vcpus, memoryMiB: vm.memoryMiB },
        });
        await compute.notifyTasksQueued(hostId);
        await compute.notifyVmChange(vmEvent(vm, 'creating', task.id, 0, 'queued'));
        return { vm, decisionId, taskId: task.id };
      });
    } catch (error) {
      if (refused && error instanceof ComputeError) {
        const decisionId = await this.repos.compute.saveDecision(refused);
        throw new ComputeError(error.code, error.message, decisionId);
      }
      throw error;
    }
  }

  /**
   * A tier of identical VMs (`web-01` … `web-NN`): admitted against the quota
   * and placed in one cluster as a whole, or not at all, in one transaction.
   * Each VM still gets its own decision (summary trace) and task.
   */
  async createMany(actor: Actor, caller: Caller, input: CreateManyVmsInput) {
    const tenantId = this.tenantOf(caller);
    const width = Math.max(2, String(input.count).length);
    const names = Array.from(
      { length: input.count },
      (_, i) => `${input.vm.name}-${String(i + 1).padStart(width, '0')}`,
    );
    const demand = demandOf(input.vm);
    const seed = this.deps.seed?.() ?? randomBytes(4).readUInt32BE(0) % 2_147_483_647;
    return this.deps.uow.run(async ({ compute, placement, audit }) => {
      const quota = await compute.lockQuota(tenantId);
      const taken = await compute.findVmNames(tenantId, names);
      if (taken.length) throw new ComputeError('DUPLICATE_VM_NAME', `These VMs already exist: ${taken.join(', ')}`);
      const usage = await compute.usage(tenantId);
      const total = times(demand, input.count);
      const problems = allocatedQuotaViolations(quota, usage, total, input.count);
      if (input.vm.startAfterCreate) problems.push(...runningQuotaViolations(quota, usage, total, input.count));
      if (problems.length) throw new ComputeError('QUOTA_EXCEEDED', quotaMessage(problems));

      const requests = names.map((name) => ({ ...requestOf(tenantId, input.vm), name }));
      let chosen: { clusterId: string; clusterName: string; decisions: PlacementDecision[] } | null = null;
      let refusal = 'there is no cluster to place VMs in yet';
      for (const cluster of await placement.placementClusters(demand.memoryMiB)) {
        await placement.lockCluster(cluster.id);
        const session = new PlacementSession(await placement.clusterSnapshot(cluster.id), { seed, trace: 'summary' });
        const decisions: PlacementDecision[] = [];
        for (const request of requests) {
          const decision = session.place(request);
          if (!decision.hostId) {
            refusal = `${cluster.name} fits ${decisions.length} of ${requests.length}: ${decision.summary}`;
            break;
          }
          session.commit(request, decision.hostId);
          decisions.push(decision);
        }
        if (decisions.length === requests.length) {
          chosen = { clusterId: cluster.id, clusterName: cluster.name, decisions };
          break;
        }
      }
      if (!chosen) throw new ComputeError('NO_HOST_FITS', `No cluster can run all ${input.count} VMs: ${refusal}`);
      const { clusterId, decisions } = chosen;
      const vms = decisions.map((decision, i) => {
        const name = names[i] ?? '';
        const pools = new Map(
          input.vm.disks.map((d, j) => [d.name, decision.assignment?.diskPools[j] || d.pool || 'local']),
        );
        const id = randomUUID();
        return {
          id,
          tenantId,
          name,
          clusterId,
          hostId: decision.hostId ?? '',
          hostName: decision.hostName,
          spec: specOf(id, { ...input.vm, name }, pools),
          storageBytes: demand.storageBytes,
          haPriority: input.vm.haPriority,
          tags: input.vm.tags,
          groups: input.vm.groups,
        };
      });
      await compute.createVms(vms);
      await compute.saveDecisions(
        vms.map((vm, i) => ({
          tenantId,
          vmId: vm.id,
          vmName: vm.name,
          clusterId,
          hostId: vm.hostId,
          hostName: vm.hostName,
          policy: decisions[i]?.policy ?? 'balance',
          seed,
          summary: decisions[i]?.summary ?? '',
          request: requests[i],
          trace: decisions[i]?.trace ?? [],
        })),
      );
      await compute.createTasks(
        vms.flatMap((vm) => [
          { kind: 'vm.create' as const, vmId: vm.id, hostId: vm.hostId, tenantId, requestedBy: actor.label },
          ...(input.vm.startAfterCreate
            ? [{ kind: 'vm.start' as const, vmId: vm.id, hostId: vm.hostId, tenantId, requestedBy: actor.label }]
            : []),
        ]),
      );
      await audit.appendMany(
        vms.map((vm, i) => ({
          actor,
          action: 'vm.create',
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId,
          result: 'success' as const,
          message: `${vm.name}: ${decisions[i]?.summary ?? ''}`,
          details: { hostId: vm.hostId, clusterId, batch: input.count },
        })),
      );
      for (const hostId of new Set(vms.map((vm) => vm.hostId))) await compute.notifyTasksQueued(hostId);
      return {
        clusterName: chosen.clusterName,
        vms: vms.map((vm) => ({ id: vm.id, name: vm.name, hostName: vm.hostName })),
      };
    });
  }

  /** Start, stop, turn off, restart, pause, resume, save or delete one VM, through a task for its host. */
  async act(actor: Actor, scope: TenantScope, id: string, action: VmAction) {
    const transition = VM_TRANSITIONS[action];
    return this.deps.uow.run(async ({ compute, audit }) => {
      const vm = await compute.findVmForUpdate(scope, id);
      if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
      const refusal = refuseAction(action, vm.state);
      if (refusal) throw new ComputeError('INVALID_VM_STATE', refusal);
      if (!vm.hostId) throw new ComputeError('INVALID_VM_STATE', `${vm.name} has no host`);
      if (transition.startsRunning) {
        const quota = await compute.lockQuota(vm.tenantId);
        const problems = runningQuotaViolations(quota, await compute.usage(vm.tenantId), vm);
        if (problems.length) throw new ComputeError('QUOTA_EXCEEDED', quotaMessage(problems));
      }
      if (transition.during) await compute.setVmState(vm.id, transition.during, '');
      const task = await compute.createTask({
        kind: transition.task,
        vmId: vm.id,
        hostId: vm.hostId,
        tenantId: vm.tenantId,
        requestedBy: actor.label,
      });
      await audit.append({
        actor,
        action: `vm.${action}`,
        targetType: 'vm',
        targetId: vm.id,
        targetLabel: vm.name,
        tenantId: vm.tenantId,
        result: 'success',
        message: `${vm.name}: ${action} requested`,
        details: { taskId: task.id },
      });
      await compute.notifyTasksQueued(vm.hostId);
      await compute.notifyVmChange(vmEvent(vm, transition.during ?? vm.state, task.id, 0, `${action} queued`));
      return { taskId: task.id };
    });
  }

  /** Like `Start-VM -Name web*`: every matching VM in scope, each with its own result. */
  async actOnPattern(actor: Actor, scope: TenantScope, pattern: string, action: VmAction): Promise<BulkResult[]> {
    const vms = await this.repos.compute.findVmsByPattern(scope, wildcardToRegExp(pattern));
    const results: BulkResult[] = [];
    for (const vm of vms) {
      try {
        const { taskId } = await this.act(actor, scope, vm.id, action);
        results.push({ vmId: vm.id, name: vm.name, ok: true, message: `${action} queued`, taskId });
      } catch (error) {
        if (!(error instanceof ComputeError)) throw error;
        results.push({ vmId: vm.id, name: vm.name, ok: false, message: error.message, taskId: null });
      }
    }
    return results;
  }

  listVms(scope: TenantScope, query: ListVmsInput) {
    return this.repos.compute.listVms(scope, query);
  }

  async getVm(scope: TenantScope, id: string) {
    const vm = await this.repos.compute.getVmDetail(scope, id, scope.kind === 'provider');
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    return vm;
  }

  async quotaAndUsage(tenantId: string) {
    if (!(await this.repos.compute.tenantExists(tenantId)))
      throw new ComputeError('TENANT_NOT_FOUND', 'Tenant not found');
    const [quota, usage] = await Promise.all([
      this.repos.compute.getQuota(tenantId),
      this.repos.compute.usage(tenantId),
    ]);
    return { quota, usage };
  }

  myQuota(caller: Caller) {
    return this.quotaAndUsage(this.tenantOf(caller));
  }

  async setQuota(actor: Actor, tenantId: string, quota: Quota) {
    if (!(await this.repos.compute.tenantExists(tenantId)))
      throw new ComputeError('TENANT_NOT_FOUND', 'Tenant not found');
    await this.deps.uow.run(async ({ compute, audit }) => {
      await compute.lockQuota(tenantId);
      await compute.setQuota(tenantId, quota);
      await audit.append({
        actor,
        action: 'quota.set',
        targetType: 'tenant',
        targetId: tenantId,
        tenantId,
        result: 'success',
        details: { ...quota },
      });
    });
    return this.quotaAndUsage(tenantId);
  }

  async decision(scope: TenantScope, id: string) {
    const decision = await this.repos.compute.findDecision(scope, id);
    if (!decision) throw new ComputeError('VM_NOT_FOUND', 'Placement decision not found');
    return decision;
  }

  // --------------------------------------------------------------- what-if

  /** "Can this cluster lose a host?": every host's HA VMs re-placed on the survivors, worst host first. */
  async nPlusOne(clusterId: string) {
    const { placement } = this.repos;
    await this.requireCluster(clusterId);
    const [snapshot, vms] = await Promise.all([
      placement.clusterSnapshot(clusterId),
      placement.vmsInCluster(clusterId),
    ]);
    const result = nPlusOne(snapshot, vms, { seed: 1, trace: 'summary' });
    return {
      clusterId,
      clusterName: snapshot.name,
      hosts: snapshot.hosts.length,
      ok: result.ok,
      worst: {
        hostId: result.hostId,
        hostName: result.hostName,
        placed: result.placed,
        unplaced: [...result.unplaced],
      },
      perHost: result.perHost.map((h) => ({
        hostId: h.hostId,
        hostName: h.hostName,
        ok: h.ok,
        placed: h.placed,
        unplaced: h.unplaced.length,
      })),
    };
  }

  /** The N+1 status of every cluster, for the overview. */
  async clusterHealth() {
    const clusters = await this.repos.placement.placementClusters();
    return Promise.all(clusters.map((c) => this.nPlusOne(c.id)));
  }

  /** "Evacuate this host": where each of its VMs would go, or why it cannot move. Nothing is committed. */
  async evacuation(hostId: string) {
    const clusterId = await this.repos.placement.clusterOfHost(hostId);
    if (!clusterId) throw new ComputeError('HOST_NOT_FOUND', 'Host not found');
    const [snapshot, vms] = await Promise.all([
      this.repos.placement.clusterSnapshot(clusterId),
      this.repos.placement.vmsInCluster(clusterId),
    ]);
    const plan = evacuationPlan(snapshot, hostId, vms, { seed: 1, trace: 'summary' });
    return {
      hostId: plan.hostId,
      hostName: plan.hostName,
      ok: plan.ok,
      unmovable: plan.unmovable,
      moves: plan.moves.map((m) => ({
        vmId: m.vmId ?? null,
        name: m.name,
        haPriority: m.haPriority,
        toHostId: m.toHostId,
        toHostName: m.toHostName,
        summary: m.summary,
      })),
    };
  }

  /** "Place these N VMs": a batch on a working copy of the cluster, without committing anything. */
  private async requireCluster(clusterId: string) {
    const clusters = await this.repos.placement.placementClusters();
    if (!clusters.some((c) => c.id === clusterId)) throw new ComputeError('CLUSTER_NOT_FOUND', 'Cluster not found');
  }

  async whatIfBatch(clusterId: string, tenantId: string, inputs: CreateVmInput[]) {
    await this.requireCluster(clusterId);
    const snapshot = await this.repos.placement.clusterSnapshot(clusterId);
    const decisions = placeBatch(
      snapshot,
      inputs.map((input) => requestOf(tenantId, input)),
      { seed: 1, trace: 'summary' },
    );
    return {
      placed: decisions.filter((d) => d.hostId).length,
      results: decisions.map((d, i) => ({
        name: inputs[i]?.name ?? '',
        hostId: d.hostId,
        hostName: d.hostName,
        summary: d.summary,
      })),
    };
  }

  // ------------------------------------------------------------ agent side

  /** Hands the host its queued tasks (leased), with the VM spec for creates. */
  async claimTasks(hostId: string, request: Pick<NextTasksRequest, 'max'>): Promise<AgentTask[]> {
    const now = this.deps.clock.now();
    const leaseUntil = new Date(now.getTime() + this.deps.taskLeaseMs);
    const claimed = await this.repos.compute.claimTasks(hostId, request.max, now, leaseUntil);
    const tasks: AgentTask[] = [];
    for (const task of claimed) {
      if (!task.vmId) continue;
      const spec = task.kind === 'vm.create' ? await this.repos.compute.vmSpec(task.vmId) : null;
      tasks.push({ taskId: task.id, kind: task.kind, vmId: task.vmId, spec, attempt: task.attempt });
    }
    return tasks;
  }

  /**
   * A host's report on its task. Reports are idempotent: a repeated final
   * report changes nothing, so an agent may resend until it hears back.
   */
  async reportTask(
    host: { id: string; name: string },
    taskId: string,
    report: TaskReport,
  ): Promise<TaskReportResponse> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async ({ compute, audit }) => {
      const task = await compute.findTaskForUpdate(host.id, taskId);
      if (!task) throw new ComputeError('TASK_NOT_FOUND', 'No such task for this host');
      if (task.state === 'succeeded' || task.state === 'failed') {
        return { accepted: report.status === task.state, cancel: false };
      }
      const vm = task.vmId ? await compute.findVmForUpdate({ kind: 'provider' }, task.vmId) : null;
      if (report.status === 'running') {
        await compute.updateTaskProgress(
          taskId,
          report.progress,
          report.message,
          new Date(now.getTime() + this.deps.taskLeaseMs),
        );
        const during = Object.values(VM_TRANSITIONS).find((t) => t.task === task.kind)?.during ?? null;
        if (vm && during && vm.state !== during && vm.state !== 'creating') await compute.setVmState(vm.id, during, '');
        if (vm)
          await compute.notifyVmChange(
            vmEvent(vm, during && vm.state !== 'creating' ? during : vm.state, taskId, report.progress, report.message),
          );
        return { accepted: true, cancel: false };
      }
      const ok = report.status === 'succeeded';
      await compute.finishTask(taskId, ok ? 'succeeded' : 'failed', report.message, ok ? null : report.code, now);
      if (vm) {
        const next = ok ? stateAfterSuccess(task.kind, report.vmState) : stateAfterFailure(task.kind, report.vmState);
        if (next === null) await compute.deleteVm(vm.id);
        else await compute.setVmState(vm.id, next, ok ? '' : `${task.kind} failed: ${report.message}`);
        await audit.append({
          actor: { type: 'agent', id: host.id, label: host.name },
          action: task.kind,
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId: vm.tenantId,
          result: ok ? 'success' : 'failure',
          message: ok
            ? `${vm.name}: ${task.kind} done`
            : `${vm.name}: ${task.kind} failed (${report.status === 'failed' ? report.code : ''}): ${report.message}`,
          details: { taskId },
        });
        await compute.notifyVmChange(vmEvent(vm, next ?? 'deleted', taskId, 100, report.message));
      }
      return { accepted: true, cancel: false };
    });
  }
}

function vmEvent(
  vm: VmRecord,
  state: VmChangeEvent['state'],
  taskId: string | null,
  progress: number | null,
  message: string,
): VmChangeEvent {
  return { vmId: vm.id, tenantId: vm.tenantId, name: vm.name, state, taskId, progress, message };
}
