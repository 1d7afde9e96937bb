import type { VmChangeEvent, VmRecord } from './vm-repository';

export function vmEvent(
  vm: VmRecord,
  state: VmChangeEvent['state'],
  taskId: string | null,
  progress: number | null,
  message: string,
): VmChangeEvent {
  return { vmId: vm.id, tenantId: vm.tenantId, name: vm.name, state, taskId, progress, message };
}
