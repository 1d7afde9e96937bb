import type { Quota, Usage } from './vm.schema';

export interface VmDemand {
  vcpus: number;
  memoryMiB: number;
  storageBytes: number;
}

const GiB = 1024 ** 3;
const fmtGiB = (bytes: number) => `${(bytes / GiB).toLocaleString('en-US', { maximumFractionDigits: 1 })} GiB`;
const fmtMiB = (mib: number) => fmtGiB(mib * 1024 * 1024);

/**
 * Every quota the new VM would exceed, each naming the limit, the use and the
 * demand: "vCPUs: 62 of 64 in use, this VM needs 4". Empty when it fits.
 */
export function allocatedQuotaViolations(quota: Quota, usage: Usage, vm: VmDemand, count = 1): string[] {
  const problems: string[] = [];
  if (usage.vms + count > quota.maxVms) {
    problems.push(`VMs: ${usage.vms} of ${quota.maxVms} defined${count > 1 ? `, ${count} more requested` : ''}`);
  }
  if (usage.vcpus + vm.vcpus > quota.maxVcpus) {
    problems.push(`vCPUs: ${usage.vcpus} of ${quota.maxVcpus} in use, this VM needs ${vm.vcpus}`);
  }
  if (usage.memoryMiB + vm.memoryMiB > quota.maxMemoryMiB) {
    problems.push(
      `memory: ${fmtMiB(usage.memoryMiB)} of ${fmtMiB(quota.maxMemoryMiB)} in use, this VM needs ${fmtMiB(vm.memoryMiB)}`,
    );
  }
  if (usage.storageBytes + vm.storageBytes > quota.maxStorageBytes) {
    problems.push(
      `storage: ${fmtGiB(usage.storageBytes)} of ${fmtGiB(quota.maxStorageBytes)} in use, this VM needs ${fmtGiB(vm.storageBytes)}`,
    );
  }
  return problems;
}

/** `count` identical VMs as one demand (a batch is admitted whole or not at all). */
export function times(vm: VmDemand, count: number): VmDemand {
  return { vcpus: vm.vcpus * count, memoryMiB: vm.memoryMiB * count, storageBytes: vm.storageBytes * count };
}

/** The same for starting a VM, against the running quotas. */
export function runningQuotaViolations(quota: Quota, usage: Usage, vm: VmDemand, count = 1): string[] {
  const problems: string[] = [];
  if (usage.runningVms + count > quota.maxRunningVms) {
    problems.push(`running VMs: ${usage.runningVms} of ${quota.maxRunningVms} running`);
  }
  if (usage.runningVcpus + vm.vcpus > quota.maxRunningVcpus) {
    problems.push(`running vCPUs: ${usage.runningVcpus} of ${quota.maxRunningVcpus} in use, this VM needs ${vm.vcpus}`);
  }
  if (usage.runningMemoryMiB + vm.memoryMiB > quota.maxRunningMemoryMiB) {
    problems.push(
      `running memory: ${fmtMiB(usage.runningMemoryMiB)} of ${fmtMiB(quota.maxRunningMemoryMiB)} in use, this VM needs ${fmtMiB(vm.memoryMiB)}`,
    );
  }
  return problems;
}

export function quotaMessage(problems: string[]): string {
  return `Quota exceeded: ${problems.join('; ')}`;
}

export const DEFAULT_QUOTA: Quota = {
  maxVms: 20,
  maxVcpus: 64,
  maxMemoryMiB: 256 * 1024,
  maxStorageBytes: 10 * 1024 * GiB,
  maxRunningVms: 20,
  maxRunningVcpus: 64,
  maxRunningMemoryMiB: 256 * 1024,
};
