import { randomBytes, randomUUID } from 'node:crypto';
import type { PlacementDecision } from '../placement/place';
import { PlacementSession, place } from '../placement/place';
import type { StoredDecision } from '../placement/placement-decision-repository';
import type { Actor, Caller } from '../shared/tenant-scope';
import { ComputeError } from './compute.errors';
import { type ComputeDeps, type ComputeRepos, creatorTenant } from './compute-deps';
import { allocatedQuotaViolations, quotaMessage, runningQuotaViolations, times, type VmDemand } from './quota';
import type { CreateManyVmsInput, CreateVmInput, Quota } from './vm.schema';
import { vmEvent } from './vm-event';
import { demandOf, requestOf, specOf } from './vm-request';

function newSeed(deps: ComputeDeps): number {
  return deps.seed?.() ?? randomBytes(4).readUInt32BE(0) % 2_147_483_647;
}

/**
 * Refuses what would take the tenant past its quota. The caller holds the
 * tenant's quota lock, so concurrent creates of one tenant pass this one at a time.
 */
async function refuseOverQuota(
  quotas: ComputeRepos['quotas'],
  tenantId: string,
  quota: Quota,
  demand: VmDemand,
  count: number,
  startAfterCreate: boolean,
) {
  const usage = await quotas.usage(tenantId);
  const total = times(demand, count);
  const problems = allocatedQuotaViolations(quota, usage, total, count);
  if (startAfterCreate) problems.push(...runningQuotaViolations(quota, usage, total, count));
  if (problems.length) throw new ComputeError('QUOTA_EXCEEDED', quotaMessage(problems));
}

/**
 * Creates a VM: quota (under the tenant's lock, so concurrent creates cannot
 * pass it together), placement (under each cluster's lock, so two creates
 * never take the last slot of a host), the VM with its reservation, the
 * decision and the host's task, all in one transaction. A refused placement
 * still keeps its decision, so "why did it not fit" has an answer.
 */
export async function createVm(deps: ComputeDeps, actor: Actor, caller: Caller, input: CreateVmInput) {
  const tenantId = creatorTenant(caller);
  const demand = demandOf(input);
  const request = requestOf(tenantId, input);
  const seed = newSeed(deps);
  let refused: StoredDecision | null = null;
  try {
    return await deps.uow.run(async ({ vms, quotas, decisions, taskQueue, placement, audit }) => {
      const quota = await quotas.lockQuota(tenantId);
      if (await vms.findVmByName(tenantId, input.name)) {
        throw new ComputeError('DUPLICATE_VM_NAME', `A VM named "${input.name}" already exists`);
      }
      await refuseOverQuota(quotas, tenantId, quota, demand, 1, input.startAfterCreate);

      const clusters = await placement.placementClusters(demand.memoryMiB);
      if (!clusters.length) throw new ComputeError('NO_CLUSTER', 'There is no cluster to place VMs in yet');
      // The most promising cluster first; the next only when it refuses. A
      // cluster is locked while it is decided on, so its last slot is taken once.
      let best: { decision: PlacementDecision; clusterId: string } | null = null;
      let firstRefusal: { decision: PlacementDecision; clusterId: string } | null = null;
      let admissionRefusal: string | null = null;
      for (const cluster of clusters) {
        await placement.lockCluster(cluster.id);
        const snapshot = await placement.clusterSnapshot(cluster.id);
        const decision = place(snapshot, request, { seed });
        if (decision.hostId) {
          const refusal = await deps.admission?.refusal(
            placement,
            cluster.id,
            { kind: 'create', vms: [{ request, hostId: decision.hostId, live: input.startAfterCreate }] },
            snapshot,
          );
          if (refusal) {
            admissionRefusal ??= `${cluster.name}: ${refusal.message}`;
            continue;
          }
          best = { decision, clusterId: cluster.id };
          break;
        }
        if (!firstRefusal || decision.hostsTotal > firstRefusal.decision.hostsTotal) {
          // The refusal worth showing is the one of the cluster with the most hosts (an empty cluster says little).
          firstRefusal = { decision, clusterId: cluster.id };
        }
      }
      if (!best?.decision.hostId && admissionRefusal) {
        // A host fits, but the cluster's HA promise would not hold: the limit says why.
        throw new ComputeError('HA_ADMISSION_REFUSED', admissionRefusal);
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
      const vm = await vms.createVm({
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
      const decisionId = await decisions.saveDecision({
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
      const task = await taskQueue.createTask({ kind: 'vm.create', vmId: vm.id, hostId, tenantId, requestedBy });
      if (input.startAfterCreate) {
        await taskQueue.createTask({ kind: 'vm.start', vmId: vm.id, hostId, tenantId, requestedBy });
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
      await taskQueue.notifyTasksQueued(hostId);
      await vms.notifyVmChange(vmEvent(vm, 'creating', task.id, 0, 'queued'));
      return { vm, decisionId, taskId: task.id };
    });
  } catch (error) {
    if (refused && error instanceof ComputeError) {
      // Outside the rolled-back transaction: the refusal is kept on its own.
      const decisionId = await deps.uow.repos.decisions.saveDecision(refused);
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
export async function createManyVms(deps: ComputeDeps, actor: Actor, caller: Caller, input: CreateManyVmsInput) {
  const tenantId = creatorTenant(caller);
  const width = Math.max(2, String(input.count).length);
  const names = Array.from({ length: input.count }, (_, i) => `${input.vm.name}-${String(i + 1).padStart(width, '0')}`);
  const demand = demandOf(input.vm);
  const seed = newSeed(deps);
  return deps.uow.run(async ({ vms, quotas, decisions, taskQueue, placement, audit }) => {
    const quota = await quotas.lockQuota(tenantId);
    const taken = await vms.findVmNames(tenantId, names);
    if (taken.length) throw new ComputeError('DUPLICATE_VM_NAME', `These VMs already exist: ${taken.join(', ')}`);
    await refuseOverQuota(quotas, tenantId, quota, demand, input.count, input.vm.startAfterCreate);

    const requests = names.map((name) => ({ ...requestOf(tenantId, input.vm), name }));
    let chosen: { clusterId: string; clusterName: string; decisions: PlacementDecision[] } | null = null;
    let refusal = 'there is no cluster to place VMs in yet';
    let admissionRefused = false;
    for (const cluster of await placement.placementClusters(demand.memoryMiB)) {
      await placement.lockCluster(cluster.id);
      const session = new PlacementSession(await placement.clusterSnapshot(cluster.id), { seed, trace: 'summary' });
      const placed: PlacementDecision[] = [];
      for (const request of requests) {
        const decision = session.place(request);
        if (!decision.hostId) {
          refusal = `${cluster.name} fits ${placed.length} of ${requests.length}: ${decision.summary}`;
          break;
        }
        session.commit(request, decision.hostId);
        placed.push(decision);
      }
      if (placed.length === requests.length) {
        const admission = await deps.admission?.refusal(
          placement,
          cluster.id,
          {
            kind: 'create',
            vms: requests.map((request, i) => ({
              request,
              hostId: placed[i]?.hostId ?? '',
              live: input.vm.startAfterCreate,
            })),
          },
          await placement.clusterSnapshot(cluster.id),
        );
        if (admission) {
          refusal = `${cluster.name}: ${admission.message}`;
          admissionRefused = true;
          continue;
        }
        admissionRefused = false;
        chosen = { clusterId: cluster.id, clusterName: cluster.name, decisions: placed };
        break;
      }
    }
    if (!chosen && admissionRefused) throw new ComputeError('HA_ADMISSION_REFUSED', refusal);
    if (!chosen) throw new ComputeError('NO_HOST_FITS', `No cluster can run all ${input.count} VMs: ${refusal}`);
    const { clusterId } = chosen;
    const tier = chosen.decisions.map((decision, i) => {
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
        decision,
        request: requests[i],
      };
    });
    await vms.createVms(tier);
    await decisions.saveDecisions(
      tier.map((vm) => ({
        tenantId,
        vmId: vm.id,
        vmName: vm.name,
        clusterId,
        hostId: vm.hostId,
        hostName: vm.hostName,
        policy: vm.decision.policy,
        seed,
        summary: vm.decision.summary,
        request: vm.request,
        trace: vm.decision.trace,
      })),
    );
    const requestedBy = actor.label;
    await taskQueue.createTasks(
      tier.flatMap((vm) => [
        { kind: 'vm.create' as const, vmId: vm.id, hostId: vm.hostId, tenantId, requestedBy },
        ...(input.vm.startAfterCreate
          ? [{ kind: 'vm.start' as const, vmId: vm.id, hostId: vm.hostId, tenantId, requestedBy }]
          : []),
      ]),
    );
    await audit.appendMany(
      tier.map((vm) => ({
        actor,
        action: 'vm.create',
        targetType: 'vm',
        targetId: vm.id,
        targetLabel: vm.name,
        tenantId,
        result: 'success' as const,
        message: `${vm.name}: ${vm.decision.summary}`,
        details: { hostId: vm.hostId, clusterId, batch: input.count },
      })),
    );
    for (const hostId of new Set(tier.map((vm) => vm.hostId))) await taskQueue.notifyTasksQueued(hostId);
    return {
      clusterName: chosen.clusterName,
      vms: tier.map((vm) => ({ id: vm.id, name: vm.name, hostName: vm.hostName })),
    };
  });
}
