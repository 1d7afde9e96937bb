import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot } from '../placement/snapshot';
import type { VmOnHost } from '../placement/what-if';
import type { InMemoryVmRepository, StoredVm } from './in-memory-vm-repository';

/**
 * Clusters as the test builds them (`placement/testing/builders.ts`), with
 * what the VMs in the VM repository reserve added to their hosts, so a VM
 * created in a test takes capacity from the next placement, as in Postgres.
 * Storage pools are left as built.
 */
export class InMemoryPlacementStore implements PlacementStore {
  /** Clusters in promise order (the SQL orders by hosts with room; tests choose). */
  clusters: ClusterSnapshot[] = [];
  /** Cluster ids locked, in order: placements in a cluster are decided under its lock. */
  locked: string[] = [];

  constructor(private readonly vms: InMemoryVmRepository) {}

  async vmsInCluster(clusterId: string): Promise<VmOnHost[]> {
    return this.placed()
      .filter((vm) => vm.clusterId === clusterId)
      .map((vm) => ({ currentHostId: vm.hostId ?? '', request: requestOf(vm) }));
  }

  async clusterOfHost(hostId: string) {
    return this.clusters.find((c) => c.hosts.some((h) => h.id === hostId))?.id ?? null;
  }

  async placementClusters() {
    return this.clusters.map(({ id, name }) => ({ id, name }));
  }

  async lockCluster(clusterId: string) {
    this.locked.push(clusterId);
  }

  async clusterSnapshot(clusterId: string): Promise<ClusterSnapshot> {
    const cluster = this.clusters.find((c) => c.id === clusterId);
    if (!cluster) throw new Error(`no cluster ${clusterId}`);
    const vms = this.placed().filter((vm) => vm.clusterId === clusterId);
    return {
      ...cluster,
      vmCount: cluster.vmCount + vms.length,
      hosts: cluster.hosts.map((host) => {
        const on = vms.filter((vm) => vm.hostId === host.id);
        return {
          ...host,
          allocated: {
            vcpus: host.allocated.vcpus + on.reduce((sum, vm) => sum + vm.vcpus, 0),
            memoryMiB: host.allocated.memoryMiB + on.reduce((sum, vm) => sum + vm.memoryMiB, 0),
            vmCount: host.allocated.vmCount + on.length,
          },
        };
      }),
    };
  }

  private placed(): StoredVm[] {
    return [...this.vms.vms.values()].filter((vm) => vm.hostId !== null);
  }
}

function requestOf(vm: StoredVm): VmOnHost['request'] {
  return {
    vmId: vm.id,
    name: vm.name,
    tenantId: vm.tenantId,
    vcpus: vm.vcpus,
    memoryMiB: vm.memoryMiB,
    disks: vm.spec.disks.map((d) => ({ sizeBytes: d.sizeBytes, pool: d.pool })),
    nics: vm.spec.nics.map(() => ({})),
    groups: vm.groups.map((g) => ({ ...g, name: `${vm.tenantId}:${g.name}` })),
    haPriority: vm.haPriority,
  };
}
