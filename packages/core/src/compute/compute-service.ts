import { tenantTaskText } from '../jobs/tenant-task-text';
import type { Actor, Caller, TenantScope } from '../shared/tenant-scope';
import { ComputeError } from './compute.errors';
import { type ComputeDeps, creatorTenant } from './compute-deps';
import { createManyVms, createVm } from './create-vms';
import { getQuotaAndUsage, setQuota } from './set-quota';
import type { CreateManyVmsInput, CreateVmInput, ListVmsInput, Quota, VmAction } from './vm.schema';
import { actOnPattern, actOnVm } from './vm-actions';

/**
 * VMs and quotas, as the routers call them. Each use case lives in its own
 * file (`create-vms.ts`, `vm-actions.ts`, `set-quota.ts`); this class only
 * binds them to the dependencies built once in composition. Placement
 * questions are `placement/placement-service.ts`; agents' tasks are
 * `tasks/agent-task-queue.ts`.
 */
export class ComputeService {
  constructor(private readonly deps: ComputeDeps) {}

  createVm(actor: Actor, caller: Caller, input: CreateVmInput) {
    return createVm(this.deps, actor, caller, input);
  }

  createMany(actor: Actor, caller: Caller, input: CreateManyVmsInput) {
    return createManyVms(this.deps, actor, caller, input);
  }

  act(actor: Actor, scope: TenantScope, id: string, action: VmAction) {
    return actOnVm(this.deps, actor, scope, id, action);
  }

  actOnPattern(actor: Actor, scope: TenantScope, pattern: string, action: VmAction) {
    return actOnPattern(this.deps, actor, scope, pattern, action);
  }

  listVms(scope: TenantScope, query: ListVmsInput) {
    return this.deps.uow.repos.vms.listVms(scope, query);
  }

  async getVm(scope: TenantScope, id: string) {
    // Only the provider sees where a VM runs.
    const vm = await this.deps.uow.repos.vms.getVmDetail(scope, id, scope.kind === 'provider');
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    // Its task history without the host's file paths (a storage move's cleanup names them).
    return scope.kind === 'provider' ? vm : { ...vm, tasks: vm.tasks.map(tenantTaskText) };
  }

  quotaAndUsage(tenantId: string) {
    return getQuotaAndUsage(this.deps, tenantId);
  }

  myQuota(caller: Caller) {
    return getQuotaAndUsage(this.deps, creatorTenant(caller));
  }

  setQuota(actor: Actor, tenantId: string, quota: Quota) {
    return setQuota(this.deps, actor, tenantId, quota);
  }
}
