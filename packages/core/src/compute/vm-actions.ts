import type { Actor, TenantScope } from '../shared/tenant-scope';
import { ComputeError } from './compute.errors';
import type { ComputeDeps } from './compute-deps';
import { quotaMessage, runningQuotaViolations } from './quota';
import type { VmAction } from './vm.schema';
import { vmEvent } from './vm-event';
import { refuseAction, VM_TRANSITIONS, wildcardToRegExp } from './vm-state';

export interface BulkResult {
  vmId: string;
  name: string;
  ok: boolean;
  message: string;
  taskId: string | null;
}

/**
 * Start, stop, turn off, restart, pause, resume, save or delete one VM,
 * through a task for its host. The VM's row is locked, so two actions on one
 * VM are decided one after the other against its current state.
 */
export async function actOnVm(
  deps: Pick<ComputeDeps, 'uow' | 'admission'>,
  actor: Actor,
  scope: TenantScope,
  id: string,
  action: VmAction,
) {
  const transition = VM_TRANSITIONS[action];
  return deps.uow.run(async ({ vms, quotas, taskQueue, placement, audit }) => {
    const vm = await vms.findVmForUpdate(scope, id);
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    const refusal = refuseAction(action, vm.state);
    if (refusal) throw new ComputeError('INVALID_VM_STATE', refusal);
    if (!vm.hostId) throw new ComputeError('INVALID_VM_STATE', `${vm.name} has no host`);
    if (transition.startsRunning) {
      const quota = await quotas.lockQuota(vm.tenantId);
      const problems = runningQuotaViolations(quota, await quotas.usage(vm.tenantId), vm);
      if (problems.length) throw new ComputeError('QUOTA_EXCEEDED', quotaMessage(problems));
      if (deps.admission && vm.clusterId) {
        // Under the cluster's lock, as placement: two starts cannot pass the same last room together.
        await placement.lockCluster(vm.clusterId);
        const refusal = await deps.admission.refusal(placement, vm.clusterId, { kind: 'start', vmId: vm.id });
        if (refusal) throw new ComputeError('HA_ADMISSION_REFUSED', `${vm.name}: ${refusal.message}`);
      }
    }
    if (transition.during) await vms.setVmState(vm.id, transition.during, '');
    const task = await taskQueue.createTask({
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
    await taskQueue.notifyTasksQueued(vm.hostId);
    await vms.notifyVmChange(vmEvent(vm, transition.during ?? vm.state, task.id, 0, `${action} queued`));
    return { taskId: task.id };
  });
}

/** Like `Start-VM -Name web*`: every matching VM in scope, each in its own transaction with its own result. */
export async function actOnPattern(
  deps: Pick<ComputeDeps, 'uow' | 'admission'>,
  actor: Actor,
  scope: TenantScope,
  pattern: string,
  action: VmAction,
): Promise<BulkResult[]> {
  const matching = await deps.uow.repos.vms.findVmsByPattern(scope, wildcardToRegExp(pattern));
  const results: BulkResult[] = [];
  for (const vm of matching) {
    try {
      const { taskId } = await actOnVm(deps, actor, scope, vm.id, action);
      results.push({ vmId: vm.id, name: vm.name, ok: true, message: `${action} queued`, taskId });
    } catch (error) {
      if (!(error instanceof ComputeError)) throw error;
      results.push({ vmId: vm.id, name: vm.name, ok: false, message: error.message, taskId: null });
    }
  }
  return results;
}
