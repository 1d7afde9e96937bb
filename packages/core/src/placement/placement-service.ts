import { ComputeError } from '../compute/compute.errors';
import type { CreateVmInput } from '../compute/vm.schema';
import { requestOf } from '../compute/vm-request';
import type { TenantScope } from '../shared/tenant-scope';
import { placeBatch } from './place';
import type { PlacementDecisionRepository } from './placement-decision-repository';
import type { PlacementStore } from './placement-store';
import { evacuationPlan, nPlusOne } from './what-if';

export interface PlacementServiceDeps {
  store: PlacementStore;
  decisions: PlacementDecisionRepository;
}

/**
 * Placement's questions: why a VM went where it did, and what-ifs (N+1,
 * evacuation, a batch) answered on a working copy of a cluster, committing
 * nothing. What-ifs use a fixed seed so the same question gets the same answer.
 */
export class PlacementService {
  constructor(private readonly deps: PlacementServiceDeps) {}

  async decision(scope: TenantScope, id: string) {
    const decision = await this.deps.decisions.findDecision(scope, id);
    if (!decision) throw new ComputeError('VM_NOT_FOUND', 'Placement decision not found');
    return decision;
  }

  /** "Can this cluster lose a host?": every host's HA VMs re-placed on the survivors, worst host first. */
  async nPlusOne(clusterId: string) {
    const { store } = this.deps;
    await this.requireCluster(clusterId);
    const [snapshot, vms] = await Promise.all([store.clusterSnapshot(clusterId), store.vmsInCluster(clusterId)]);
    const result = nPlusOne(snapshot, vms, { seed: 1, trace: 'summary' });
    return {
      clusterId,
      clusterName: snapshot.name,
      hosts: snapshot.hosts.length,
      ok: result.ok,
      worst: {
        hostId: result.hostId,
        hostName: result.hostName,
        placed: result.placed,
        unplaced: [...result.unplaced],
      },
      perHost: result.perHost.map((h) => ({
        hostId: h.hostId,
        hostName: h.hostName,
        ok: h.ok,
        placed: h.placed,
        unplaced: h.unplaced.length,
      })),
    };
  }

  /** The N+1 status of every cluster, for the overview. */
  async clusterHealth() {
    const clusters = await this.deps.store.placementClusters();
    return Promise.all(clusters.map((c) => this.nPlusOne(c.id)));
  }

  /** "Evacuate this host": where each of its VMs would go, or why it cannot move. Nothing is committed. */
  async evacuation(hostId: string) {
    const { store } = this.deps;
    const clusterId = await store.clusterOfHost(hostId);
    if (!clusterId) throw new ComputeError('HOST_NOT_FOUND', 'Host not found');
    const [snapshot, vms] = await Promise.all([store.clusterSnapshot(clusterId), store.vmsInCluster(clusterId)]);
    const plan = evacuationPlan(snapshot, hostId, vms, { seed: 1, trace: 'summary' });
    return {
      hostId: plan.hostId,
      hostName: plan.hostName,
      ok: plan.ok,
      unmovable: plan.unmovable,
      moves: plan.moves.map((m) => ({
        vmId: m.vmId ?? null,
        name: m.name,
        haPriority: m.haPriority,
        toHostId: m.toHostId,
        toHostName: m.toHostName,
        summary: m.summary,
      })),
    };
  }

  /** "Place these N VMs": a batch on a working copy of the cluster, without committing anything. */
  async whatIfBatch(clusterId: string, tenantId: string, inputs: CreateVmInput[]) {
    await this.requireCluster(clusterId);
    const snapshot = await this.deps.store.clusterSnapshot(clusterId);
    const decisions = placeBatch(
      snapshot,
      inputs.map((input) => requestOf(tenantId, input)),
      { seed: 1, trace: 'summary' },
    );
    return {
      placed: decisions.filter((d) => d.hostId).length,
      results: decisions.map((d, i) => ({
        name: inputs[i]?.name ?? '',
        hostId: d.hostId,
        hostName: d.hostName,
        summary: d.summary,
      })),
    };
  }

  private async requireCluster(clusterId: string) {
    const clusters = await this.deps.store.placementClusters();
    if (!clusters.some((c) => c.id === clusterId)) throw new ComputeError('CLUSTER_NOT_FOUND', 'Cluster not found');
  }
}
