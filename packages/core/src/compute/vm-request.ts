import { randomBytes } from 'node:crypto';
import type { PlacementRequest } from '../placement/snapshot';
import type { VmSpec } from '../tasks/task-protocol.schema';
import type { CreateVmInput } from './vm.schema';

const GiB = 1024 ** 3;

/** Hyper-V's MAC prefix (00:15:5D) with three random octets. */
function newMacAddress(): string {
  const bytes = randomBytes(3);
  return ['00', '15', '5D', ...[...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase())].join(':');
}

/** What the host needs to create the VM; `pools` are the storage pools placement chose per disk name. */
export function specOf(vmId: string, input: CreateVmInput, pools: Map<string, string>): VmSpec {
  const m = input.memory;
  return {
    vmId,
    name: input.name,
    vcpus: input.vcpus,
    memory:
      m.mode === 'static'
        ? {
            dynamic: false,
            startupMiB: m.sizeMiB,
            minimumMiB: m.sizeMiB,
            maximumMiB: m.sizeMiB,
            bufferPercent: 20,
            weight: 5000,
          }
        : {
            dynamic: true,
            startupMiB: m.startupMiB,
            minimumMiB: m.minimumMiB,
            maximumMiB: m.maximumMiB,
            bufferPercent: m.bufferPercent,
            weight: m.weight,
          },
    disks: input.disks.map((d) => ({
      name: d.name,
      pool: d.pool ?? pools.get(d.name) ?? 'local',
      sizeBytes: Math.round(d.sizeGiB * GiB),
      logicalSectorBytes: d.logicalSectorBytes,
      kind: d.kind,
      parent: d.parent ?? null,
    })),
    nics: input.nics.map((n) => ({
      name: n.name,
      macAddress: newMacAddress(),
      network: n.network,
      minimumBandwidthMbps: n.minimumBandwidthMbps ?? null,
      minimumBandwidthWeight: n.minimumBandwidthWeight ?? null,
      maximumBandwidthMbps: n.maximumBandwidthMbps ?? null,
    })),
  };
}

/** What placement reserves: startup memory for Dynamic Memory (the whitepaper's rule). */
export function demandOf(input: CreateVmInput) {
  return {
    vcpus: input.vcpus,
    memoryMiB: input.memory.mode === 'static' ? input.memory.sizeMiB : input.memory.startupMiB,
    storageBytes: input.disks.reduce((sum, d) => sum + Math.round(d.sizeGiB * GiB), 0),
  };
}

/** The VM as placement sees it. */
export function requestOf(tenantId: string, input: CreateVmInput): PlacementRequest {
  const demand = demandOf(input);
  return {
    name: input.name,
    tenantId,
    vcpus: demand.vcpus,
    memoryMiB: demand.memoryMiB,
    disks: input.disks.map((d) => ({ sizeBytes: Math.round(d.sizeGiB * GiB), ...(d.pool ? { pool: d.pool } : {}) })),
    nics: input.nics.map((n) => (n.minimumBandwidthMbps ? { minBandwidthMbps: n.minimumBandwidthMbps } : {})),
    // Groups are per tenant: Blue's "web" and Yellow's "web" are different groups.
    groups: input.groups.map((g) => ({ ...g, name: `${tenantId}:${g.name}` })),
    haPriority: input.haPriority,
  };
}
