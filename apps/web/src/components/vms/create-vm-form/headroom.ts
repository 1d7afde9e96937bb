import { formatBytes, formatCount, formatMiB } from '@/lib/format';
import type { QuotaAndUsage } from '../quota-strip';
import { type Draft, gibToMiB, num } from './draft';

const GiB = 1024 ** 3;

/** One quota the new VMs draw on: what they need, what is in use, the limit. */
export interface Headroom {
  label: string;
  needs: number;
  used: number;
  max: number;
  format: (n: number) => string;
  unit: string;
}

const finiteOr0 = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);

/**
 * What one VM of the draft takes from the quota, counting what is already
 * readable while the user types: startup memory for Dynamic Memory, as core's
 * demandOf (compute/vm-request.ts) reserves.
 */
function demandOf(d: Draft) {
  const memoryGiB = num(d.memoryMode === 'static' ? d.memoryGiB : d.startupGiB);
  return {
    vcpus: finiteOr0(num(d.vcpus)),
    memoryMiB: gibToMiB(finiteOr0(memoryGiB)),
    storageBytes: d.disks.reduce((sum, disk) => sum + Math.round(finiteOr0(num(disk.sizeGiB)) * GiB), 0),
  };
}

export function headroomOf(q: QuotaAndUsage, d: Draft, count: number): Headroom[] {
  const one = demandOf(d);
  const need = { vcpus: one.vcpus * count, memoryMiB: one.memoryMiB * count, storageBytes: one.storageBytes * count };
  const { quota, usage } = q;
  const rows: Headroom[] = [
    { label: 'VMs', needs: count, used: usage.vms, max: quota.maxVms, format: formatCount, unit: 'VMs' },
    { label: 'vCPUs', needs: need.vcpus, used: usage.vcpus, max: quota.maxVcpus, format: formatCount, unit: 'vCPUs' },
    {
      label: 'Memory',
      needs: need.memoryMiB,
      used: usage.memoryMiB,
      max: quota.maxMemoryMiB,
      format: formatMiB,
      unit: 'memory',
    },
    {
      label: 'Storage',
      needs: need.storageBytes,
      used: usage.storageBytes,
      max: quota.maxStorageBytes,
      format: formatBytes,
      unit: 'storage',
    },
  ];
  // The running quotas count only a VM that starts.
  if (!d.startAfterCreate) return rows;
  return [
    ...rows,
    {
      label: 'Running VMs',
      needs: count,
      used: usage.runningVms,
      max: quota.maxRunningVms,
      format: formatCount,
      unit: 'running VMs',
    },
    {
      label: 'Running vCPUs',
      needs: need.vcpus,
      used: usage.runningVcpus,
      max: quota.maxRunningVcpus,
      format: formatCount,
      unit: 'running vCPUs',
    },
    {
      label: 'Running memory',
      needs: need.memoryMiB,
      used: usage.runningMemoryMiB,
      max: quota.maxRunningMemoryMiB,
      format: formatMiB,
      unit: 'running memory',
    },
  ];
}

export function overQuota(h: Headroom): boolean {
  return h.used + h.needs > h.max;
}

/** "this VM uses 2 of your 62 remaining vCPUs", or what is missing. */
export function headroomSentence(h: Headroom, count: number): string {
  const remaining = Math.max(0, h.max - h.used);
  const subject = count > 1 ? `these ${formatCount(count)} VMs` : 'this VM';
  if (h.unit.endsWith('VMs')) {
    if (count > 1) {
      return overQuota(h)
        ? `${subject} need ${h.format(h.needs)} ${h.unit}, only ${h.format(remaining)} remain`
        : `${subject} take ${h.format(h.needs)} of your ${h.format(remaining)} remaining ${h.unit}`;
    }
    return overQuota(h)
      ? `No ${h.unit} left: ${h.format(h.used)} of ${h.format(h.max)} in use`
      : `this VM is 1 of your ${h.format(remaining)} remaining ${h.unit}`;
  }
  return overQuota(h)
    ? `${subject} ${count > 1 ? 'need' : 'needs'} ${h.format(h.needs)} ${h.unit}, only ${h.format(remaining)} remain`
    : `${subject} ${count > 1 ? 'use' : 'uses'} ${h.format(h.needs)} of your ${h.format(remaining)} remaining ${h.unit}`;
}
