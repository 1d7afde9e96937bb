/**
 * Kept while metering (`metering-service.ts`) and the console's live list
 * (`live-vms.tsx`) still import the names of the repository that was split
 * into `vm-repository.ts`, `quota-repository.ts`,
 * `placement/placement-decision-repository.ts` and
 * `tasks/task-queue-repository.ts`. Metering reads VMs only, so its
 * `ComputeRepository` is the VM repository.
 */
import type { VmRepository } from './vm-repository';

export type { VmChangeEvent, VmRecord } from './vm-repository';
export type ComputeRepository = VmRepository;
