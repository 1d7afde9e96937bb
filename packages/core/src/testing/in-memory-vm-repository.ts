import { randomUUID } from 'node:crypto';
import { ComputeError } from '../compute/compute.errors';
import type { ListVmsInput, VmDetail, VmRow, VmState } from '../compute/vm.schema';
import type { NewVm, VmChangeEvent, VmRecord, VmRepository } from '../compute/vm-repository';
import type { TenantScope } from '../shared/tenant-scope';
import type { VmSpec } from '../tasks/task-protocol.schema';
import type { Snapshottable } from './in-memory-unit-of-work';

export interface StoredVm extends VmRecord {
  spec: VmSpec;
  stateReason: string;
  haPriority: NewVm['haPriority'];
  tags: string[];
  groups: NewVm['groups'];
  meteringSince: Date | null;
  createdAt: Date;
}

const visible = (scope: TenantScope, vm: StoredVm) => scope.kind === 'provider' || vm.tenantId === scope.tenantId;
const record = ({ id, tenantId, name, state, hostId, clusterId, vcpus, memoryMiB, storageBytes }: StoredVm) => ({
  id,
  tenantId,
  name,
  state,
  hostId,
  clusterId,
  vcpus,
  memoryMiB,
  storageBytes,
});

/** VMs in a map; names are unique per tenant regardless of case, like the unique index. */
export class InMemoryVmRepository implements VmRepository, Snapshottable {
  vms = new Map<string, StoredVm>();
  /** What `notifyVmChange` published, in order. */
  events: VmChangeEvent[] = [];

  /** A VM already there, for tests that start from some state. */
  seed(vm: Partial<StoredVm> & Pick<StoredVm, 'tenantId' | 'name'>): StoredVm {
    const stored: StoredVm = {
      id: randomUUID(),
      state: 'off',
      hostId: null,
      clusterId: null,
      vcpus: 2,
      memoryMiB: 4096,
      storageBytes: 0,
      spec: { vmId: '', name: vm.name, vcpus: 2, memory: memory(4096), disks: [], nics: [] },
      stateReason: '',
      haPriority: 'medium',
      tags: [],
      groups: [],
      meteringSince: null,
      createdAt: new Date(0),
      ...vm,
    };
    this.vms.set(stored.id, stored);
    return stored;
  }

  async findVmByName(tenantId: string, name: string) {
    const vm = [...this.vms.values()].find((v) => v.tenantId === tenantId && sameName(v.name, name));
    return vm ? { id: vm.id } : null;
  }

  async findVmNames(tenantId: string, names: string[]) {
    return [...this.vms.values()]
      .filter((v) => v.tenantId === tenantId && names.some((n) => sameName(v.name, n)))
      .map((v) => v.name);
  }

  async createVm(vm: NewVm) {
    return record(this.insert({ ...vm, id: randomUUID() }));
  }

  async createVms(vms: (NewVm & { id: string })[]) {
    for (const vm of vms) this.insert(vm);
  }

  private insert(vm: NewVm & { id: string }): StoredVm {
    if ([...this.vms.values()].some((v) => v.tenantId === vm.tenantId && sameName(v.name, vm.name))) {
      throw new ComputeError('DUPLICATE_VM_NAME', `A VM named "${vm.name}" already exists`);
    }
    return this.seed({
      ...vm,
      state: 'creating',
      vcpus: vm.spec.vcpus,
      memoryMiB: vm.spec.memory.startupMiB,
      spec: { ...vm.spec, vmId: vm.id },
    });
  }

  async findVm(scope: TenantScope, id: string) {
    const vm = this.vms.get(id);
    return vm && visible(scope, vm) ? record(vm) : null;
  }

  findVmForUpdate(scope: TenantScope, id: string) {
    return this.findVm(scope, id);
  }

  async findVmsByPattern(scope: TenantScope, pattern: RegExp) {
    return this.sorted()
      .filter((vm) => visible(scope, vm) && pattern.test(vm.name))
      .map(record);
  }

  async setVmState(id: string, state: VmState, reason: string) {
    const vm = this.vms.get(id);
    if (vm) this.vms.set(id, { ...vm, state, stateReason: reason });
  }

  async deleteVm(id: string) {
    this.vms.delete(id);
  }

  async meteringSince(id: string) {
    return this.vms.get(id)?.meteringSince ?? null;
  }

  async resetMetering(id: string, at: Date) {
    const vm = this.vms.get(id);
    if (vm) this.vms.set(id, { ...vm, meteringSince: at });
  }

  async vmSpec(id: string) {
    return this.vms.get(id)?.spec ?? null;
  }

  async listVms(scope: TenantScope, query: ListVmsInput) {
    const all = this.sorted().filter((vm) => visible(scope, vm) && (!query.state || vm.state === query.state));
    const page = all.slice((query.page - 1) * query.pageSize, query.page * query.pageSize);
    const rows: VmRow[] = page.map((vm) => ({
      ...record(vm),
      stateReason: vm.stateReason,
      tenantName: vm.tenantId,
      hostId: scope.kind === 'provider' ? vm.hostId : null,
      hostName: scope.kind === 'provider' ? vm.hostId : null,
      dynamicMemory: vm.spec.memory.dynamic,
      haPriority: vm.haPriority,
      tags: vm.tags,
      createdAt: vm.createdAt,
    }));
    return { rows, total: all.length };
  }

  async getVmDetail(scope: TenantScope, id: string, showHost: boolean): Promise<VmDetail | null> {
    const vm = this.vms.get(id);
    if (!vm || !visible(scope, vm)) return null;
    return {
      ...record(vm),
      stateReason: vm.stateReason,
      tenantName: vm.tenantId,
      hostId: showHost ? vm.hostId : null,
      hostName: showHost ? vm.hostId : null,
      clusterName: showHost ? vm.clusterId : null,
      memory: vm.spec.memory,
      haPriority: vm.haPriority,
      tags: vm.tags,
      groups: vm.groups,
      createdAt: vm.createdAt,
      disks: vm.spec.disks.map((d) => ({ ...d, pool: showHost ? d.pool : null })),
      nics: vm.spec.nics,
      tasks: [],
      decision: null,
    };
  }

  async notifyVmChange(event: VmChangeEvent) {
    this.events.push(event);
  }

  snapshot() {
    const vms = new Map(this.vms);
    const events = [...this.events];
    return () => {
      this.vms = vms;
      this.events = events;
    };
  }

  private sorted() {
    return [...this.vms.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

function sameName(a: string, b: string) {
  return a.toLowerCase() === b.toLowerCase();
}

function memory(mib: number): VmSpec['memory'] {
  return { dynamic: false, startupMiB: mib, minimumMiB: mib, maximumMiB: mib, bufferPercent: 20, weight: 5000 };
}
