import type { Actor } from '../shared/tenant-scope';
import { FabricError } from './fabric.errors';
import type { ClusterView, CreateClusterInput } from './fabric.schema';
import type { FabricServiceDeps } from './fabric-deps';

/** Clusters: creation, listing, and the placement policy placement reads. */
export class Clusters {
  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  async createCluster(actor: Actor, input: CreateClusterInput): Promise<ClusterView> {
    return this.deps.uow.run(async ({ fabric, audit }) => {
      if (await fabric.findClusterByName(input.name)) {
        throw new FabricError('DUPLICATE_CLUSTER_NAME', `A cluster named "${input.name}" already exists`);
      }
      const cluster = await fabric.createCluster(input);
      await audit.append({
        actor,
        action: 'cluster.create',
        targetType: 'cluster',
        targetId: cluster.id,
        targetLabel: cluster.name,
        result: 'success',
        details: { maxHosts: cluster.maxHosts, maxVms: cluster.maxVms },
      });
      return { ...cluster, hostCount: 0 };
    });
  }

  listClusters(): Promise<ClusterView[]> {
    return this.repos.fabric.listClusters();
  }

  async getCluster(id: string): Promise<ClusterView> {
    const cluster = await this.repos.fabric.findClusterById(id);
    if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'Cluster not found');
    return { ...cluster, hostCount: await this.repos.fabric.countHosts(id) };
  }

  /** Balance or pack, and how many vCPUs a logical processor may carry: what placement uses in this cluster. */
  async setPlacementPolicy(actor: Actor, id: string, policy: 'balance' | 'pack', cpuOvercommitRatio: number) {
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const cluster = await fabric.findClusterByIdForUpdate(id);
      if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'Cluster not found');
      await fabric.setPlacementPolicy(id, policy, cpuOvercommitRatio);
      await audit.append({
        actor,
        action: 'cluster.placement',
        targetType: 'cluster',
        targetId: id,
        targetLabel: cluster.name,
        result: 'success',
        message: `${cluster.name}: ${policy}, ${cpuOvercommitRatio} vCPUs per logical processor`,
        details: { policy, cpuOvercommitRatio },
      });
    });
    return this.getCluster(id);
  }
}
