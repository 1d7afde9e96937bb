import type { VmDetail } from '@fabric/core/compute/vm.schema';
import type { NewVm, VmRecord } from '@fabric/core/compute/vm-repository';
import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';

/** Row ⇄ domain mapping for VMs, shared by the VM repository's reads and writes. */
export const vmRecordSelect = {
  id: true,
  tenantId: true,
  name: true,
  state: true,
  hostId: true,
  clusterId: true,
  vcpus: true,
  memoryMiB: true,
  storageBytes: true,
} satisfies Prisma.VmSelect;

export function toVmRecord(vm: Prisma.VmGetPayload<{ select: typeof vmRecordSelect }>): VmRecord {
  return { ...vm, storageBytes: Number(vm.storageBytes) };
}

/** A new VM's own columns (its disks and NICs are rows of their own). */
export function vmColumns(vm: NewVm) {
  const m = vm.spec.memory;
  return {
    tenantId: vm.tenantId,
    name: vm.name,
    state: 'creating' as const,
    clusterId: vm.clusterId,
    hostId: vm.hostId,
    vcpus: vm.spec.vcpus,
    dynamicMemory: m.dynamic,
    memoryMiB: m.startupMiB,
    minimumMemoryMiB: m.minimumMiB,
    maximumMemoryMiB: m.maximumMiB,
    memoryBufferPercent: m.bufferPercent,
    memoryWeight: m.weight,
    storageBytes: BigInt(vm.storageBytes),
    haPriority: vm.haPriority,
    tags: vm.tags,
    groups: vm.groups,
  };
}

export function diskRows(vm: NewVm) {
  return vm.spec.disks.map((d) => ({
    name: d.name,
    pool: d.pool,
    sizeBytes: BigInt(d.sizeBytes),
    logicalSectorBytes: d.logicalSectorBytes,
    kind: d.kind,
  }));
}

export function nicRows(vm: NewVm) {
  return vm.spec.nics.map((n) => ({
    name: n.name,
    macAddress: n.macAddress,
    network: n.network,
    minimumBandwidthMbps: n.minimumBandwidthMbps,
    minimumBandwidthWeight: n.minimumBandwidthWeight,
    maximumBandwidthMbps: n.maximumBandwidthMbps,
  }));
}

type VmWithDevices = Prisma.VmGetPayload<{ include: { disks: true; nics: true } }>;

function memoryOf(vm: VmWithDevices) {
  return {
    dynamic: vm.dynamicMemory,
    startupMiB: vm.memoryMiB,
    minimumMiB: vm.minimumMemoryMiB,
    maximumMiB: vm.maximumMemoryMiB,
    bufferPercent: vm.memoryBufferPercent,
    weight: vm.memoryWeight,
  };
}

function nicsOf(vm: VmWithDevices) {
  return vm.nics.map((n) => ({
    name: n.name,
    macAddress: n.macAddress,
    network: n.network,
    minimumBandwidthMbps: n.minimumBandwidthMbps,
    minimumBandwidthWeight: n.minimumBandwidthWeight,
    maximumBandwidthMbps: n.maximumBandwidthMbps,
  }));
}

/** The VM as its host needs it to create it. */
export function toVmSpec(vm: VmWithDevices): VmSpec {
  const byId = new Map(vm.disks.map((d) => [d.id, d.name]));
  return {
    vmId: vm.id,
    name: vm.name,
    vcpus: vm.vcpus,
    memory: memoryOf(vm),
    disks: vm.disks.map((d) => ({
      name: d.name,
      pool: d.pool,
      sizeBytes: Number(d.sizeBytes),
      logicalSectorBytes: d.logicalSectorBytes === 512 ? 512 : 4096,
      kind: d.kind === 'fixed' || d.kind === 'differencing' ? d.kind : 'dynamic',
      parent: d.parentDiskId ? (byId.get(d.parentDiskId) ?? null) : null,
    })),
    nics: nicsOf(vm),
  };
}

type VmDetailRow = VmWithDevices & {
  tenant: { name: string };
  host: { name: string } | null;
  cluster: { name: string } | null;
};

/** The VM's page; where it runs (host, cluster, pools, decision) only when `showHost`. */
export function toVmDetail(
  vm: VmDetailRow,
  tasks: Prisma.TaskGetPayload<object>[],
  decision: VmDetail['decision'],
  showHost: boolean,
): VmDetail {
  return {
    id: vm.id,
    name: vm.name,
    state: vm.state,
    stateReason: vm.stateReason,
    tenantId: vm.tenantId,
    tenantName: vm.tenant.name,
    hostId: showHost ? vm.hostId : null,
    hostName: showHost ? (vm.host?.name ?? null) : null,
    clusterName: showHost ? (vm.cluster?.name ?? null) : null,
    vcpus: vm.vcpus,
    memory: memoryOf(vm),
    storageBytes: Number(vm.storageBytes),
    haPriority: vm.haPriority,
    tags: vm.tags,
    groups: vm.groups,
    createdAt: vm.createdAt,
    disks: vm.disks.map((d) => ({
      name: d.name,
      pool: showHost ? d.pool : null,
      sizeBytes: Number(d.sizeBytes),
      logicalSectorBytes: d.logicalSectorBytes,
      kind: d.kind,
    })),
    nics: nicsOf(vm),
    tasks: tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      state: t.state,
      progress: t.progress,
      message: t.message,
      errorCode: t.errorCode,
      requestedBy: t.requestedBy,
      createdAt: t.createdAt,
      finishedAt: t.finishedAt,
    })),
    decision: showHost ? decision : null,
  };
}
