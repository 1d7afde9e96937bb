/** Builders for placement snapshots in tests and benchmarks: sensible defaults, override what the case is about. */
import { GIB } from '../../shared/units';
import type { PlacementContext } from '../plugin';
import { demandOf } from '../reservation';
import type { ClusterSnapshot, HostSnapshot, PlacementRequest } from '../snapshot';

type Overrides<T> = { -readonly [K in keyof T]?: T[K] };

export function aHost(overrides: Overrides<HostSnapshot> & { id: string }): HostSnapshot {
  return {
    name: overrides.id,
    clusterId: 'c1',
    state: 'connected',
    logicalProcessors: 32,
    memoryMiB: 256 * 1024,
    numaNodes: 2,
    reservedMemoryMiB: 2048,
    allocated: { vcpus: 0, memoryMiB: 0, vmCount: 0 },
    storagePools: [{ name: 'pool-a', capacityBytes: 10 * 1024 * GIB, allocatedBytes: 0 }],
    nics: [
      { name: 'nic0', linkSpeedMbps: 10_000, reservedMinMbps: 0 },
      { name: 'nic1', linkSpeedMbps: 10_000, reservedMinMbps: 0 },
    ],
    dedicatedTenantId: null,
    groups: {},
    ...overrides,
  };
}

export function aCluster(hosts: readonly HostSnapshot[], overrides: Overrides<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    id: 'c1',
    name: 'cluster-1',
    maxVms: 4000,
    vmCount: hosts.reduce((sum, h) => sum + h.allocated.vmCount, 0),
    cpuOvercommitRatio: 4,
    policy: 'balance',
    hosts,
    ...overrides,
  };
}

export function aRequest(overrides: Overrides<PlacementRequest> = {}): PlacementRequest {
  return {
    name: 'vm-1',
    tenantId: 't1',
    vcpus: 2,
    memoryMiB: 4096,
    disks: [{ sizeBytes: 40 * GIB }],
    nics: [{}],
    groups: [],
    haPriority: 'medium',
    ...overrides,
  };
}

/** `count` identical hosts hv-01, hv-02, … */
export function hosts(count: number, overrides: Overrides<HostSnapshot> = {}): HostSnapshot[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `hv-${String(i + 1).padStart(2, '0')}`;
    return aHost({ ...overrides, id, name: id });
  });
}

/** The context a filter or scorer sees for `request`, with cluster figures overridable per case. */
export function aContext(
  request: PlacementRequest,
  overrides: {
    vmCount?: number;
    maxVms?: number;
    cpuOvercommitRatio?: number;
    groupVmCounts?: Record<string, number>;
    clusterFreeMemoryMiB?: number;
  } = {},
): PlacementContext {
  return {
    cluster: {
      id: 'c1',
      maxVms: overrides.maxVms ?? 4000,
      vmCount: overrides.vmCount ?? 0,
      cpuOvercommitRatio: overrides.cpuOvercommitRatio ?? 4,
    },
    request,
    demand: demandOf(request),
    groupVmCounts: new Map(Object.entries(overrides.groupVmCounts ?? {})),
    clusterFreeMemoryMiB: overrides.clusterFreeMemoryMiB ?? 0,
    explain: true,
  };
}
