import type { AuditRepository } from '../audit/audit-repository';
import type { HaAdmission } from '../ha/admission';
import type { PlacementDecisionRepository } from '../placement/placement-decision-repository';
import type { PlacementStore } from '../placement/placement-store';
import { type Caller, scopeOf } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { TaskQueueRepository } from '../tasks/task-queue-repository';
import { ComputeError } from './compute.errors';
import type { QuotaRepository } from './quota-repository';
import type { VmRepository } from './vm-repository';

/** The repositories compute's use cases work through, bound to one transaction inside `uow.run`. */
export interface ComputeRepos {
  vms: VmRepository;
  quotas: QuotaRepository;
  decisions: PlacementDecisionRepository;
  taskQueue: TaskQueueRepository;
  placement: PlacementStore;
  audit: AuditRepository;
}

export interface ComputeDeps {
  uow: UnitOfWork<ComputeRepos>;
  /** Seeds placement tie-breaks; fixed in tests so decisions replay. */
  seed?: () => number;
  /** HA admission control (ha/admission.ts): absent, nothing is refused for HA's sake. */
  admission?: HaAdmission;
}

/** The tenant a VM is created for: the caller's own (a provider admin creates none). */
export function creatorTenant(caller: Caller): string {
  const scope = scopeOf(caller);
  if (scope.kind !== 'tenant') throw new ComputeError('INVALID_VM_STATE', 'VMs are created by a tenant’s users');
  return scope.tenantId;
}
