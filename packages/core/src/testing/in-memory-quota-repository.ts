import { DEFAULT_QUOTA } from '../compute/quota';
import type { QuotaRepository } from '../compute/quota-repository';
import type { Quota, Usage } from '../compute/vm.schema';
import type { Snapshottable } from './in-memory-unit-of-work';
import type { InMemoryVmRepository } from './in-memory-vm-repository';

/** States that hold running resources, plus `creating` (a new VM may start right after): as the SQL counts them. */
const COUNTED_AS_RUNNING = new Set(['creating', 'starting', 'running', 'paused', 'stopping']);

/** Quotas per tenant; usage is read from the VM repository, so it always matches the VMs there. */
export class InMemoryQuotaRepository implements QuotaRepository, Snapshottable {
  quotas = new Map<string, Quota>();
  tenants = new Set<string>();

  constructor(private readonly vms: InMemoryVmRepository) {}

  async lockQuota(tenantId: string) {
    if (!this.quotas.has(tenantId)) this.quotas.set(tenantId, DEFAULT_QUOTA);
    return this.getQuota(tenantId);
  }

  async getQuota(tenantId: string) {
    return this.quotas.get(tenantId) ?? DEFAULT_QUOTA;
  }

  async tenantExists(tenantId: string) {
    return this.tenants.has(tenantId);
  }

  async setQuota(tenantId: string, quota: Quota) {
    this.quotas.set(tenantId, quota);
  }

  async usage(tenantId: string): Promise<Usage> {
    const usage = {
      vms: 0,
      vcpus: 0,
      memoryMiB: 0,
      storageBytes: 0,
      runningVms: 0,
      runningVcpus: 0,
      runningMemoryMiB: 0,
    };
    for (const vm of this.vms.vms.values()) {
      if (vm.tenantId !== tenantId) continue;
      usage.vms += 1;
      usage.vcpus += vm.vcpus;
      usage.memoryMiB += vm.memoryMiB;
      usage.storageBytes += vm.storageBytes;
      if (COUNTED_AS_RUNNING.has(vm.state)) {
        usage.runningVms += 1;
        usage.runningVcpus += vm.vcpus;
        usage.runningMemoryMiB += vm.memoryMiB;
      }
    }
    return usage;
  }

  snapshot() {
    const quotas = new Map(this.quotas);
    return () => {
      this.quotas = quotas;
    };
  }
}
