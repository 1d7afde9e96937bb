import type { TenantScope } from '../shared/tenant-scope';
import type { VmSpec } from '../tasks/task-protocol.schema';
import type { ListVmsInput, VmDetail, VmRow, VmState } from './vm.schema';

export interface VmRecord {
  id: string;
  tenantId: string;
  name: string;
  state: VmState;
  hostId: string | null;
  clusterId: string | null;
  vcpus: number;
  memoryMiB: number;
  storageBytes: number;
}

export interface NewVm {
  tenantId: string;
  name: string;
  clusterId: string;
  hostId: string;
  spec: VmSpec;
  storageBytes: number;
  haPriority: 'high' | 'medium' | 'low' | 'off';
  tags: string[];
  groups: { name: string; kind: 'affinity' | 'anti-affinity'; hard: boolean }[];
}

/** What the console's live VM list hears when a VM changes (state, task progress). */
export interface VmChangeEvent {
  vmId: string;
  tenantId: string;
  name: string;
  state: VmState | 'deleted';
  taskId: string | null;
  progress: number | null;
  message: string;
}

/**
 * VM storage. Tenant reads take the scope first. Creating a VM whose name
 * the tenant already uses is `ComputeError('DUPLICATE_VM_NAME')`, whoever
 * decides it (the caller's check or the unique index under a race).
 */
export interface VmRepository {
  findVmByName(tenantId: string, name: string): Promise<{ id: string } | null>;
  findVmNames(tenantId: string, names: string[]): Promise<string[]>;
  createVm(vm: NewVm): Promise<VmRecord>;
  /** Many VMs (ids chosen by the caller) with their disks and NICs, in a few statements. */
  createVms(vms: (NewVm & { id: string })[]): Promise<void>;
  findVm(scope: TenantScope, id: string): Promise<VmRecord | null>;
  /** Locks the VM row until commit. */
  findVmForUpdate(scope: TenantScope, id: string): Promise<VmRecord | null>;
  findVmsByPattern(scope: TenantScope, pattern: RegExp): Promise<VmRecord[]>;
  setVmState(id: string, state: VmState, reason: string): Promise<void>;
  deleteVm(id: string): Promise<void>;
  meteringSince(id: string): Promise<Date | null>;
  resetMetering(id: string, at: Date): Promise<void>;
  vmSpec(id: string): Promise<VmSpec | null>;
  listVms(scope: TenantScope, query: ListVmsInput): Promise<{ rows: VmRow[]; total: number }>;
  getVmDetail(scope: TenantScope, id: string, showHost: boolean): Promise<VmDetail | null>;
  notifyVmChange(event: VmChangeEvent): Promise<void>;
}
