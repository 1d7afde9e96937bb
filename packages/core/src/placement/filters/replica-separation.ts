import { type Filter, PASS, reject } from '../plugin';

/**
 * A replicated VM never runs on the host that holds its replica, nor in that host's cluster (snapshot.ts
 * ReplicaPlacement): replication would go on reporting normal health while one failure takes both copies.
 * The reasons name no host: the rejected host is the trace's own.
 */
export const replicaSeparationFilter: Filter = {
  name: 'replica-separation',
  check(host, ctx) {
    const replica = ctx.request.replica;
    if (replica === undefined) return PASS;
    if (host.id === replica.hostId) {
      return reject(
        ctx.explain,
        'REPLICA_HOST',
        () => "host holds this VM's replica: fail over to it instead of migrating there",
        {},
      );
    }
    if (host.clusterId === replica.clusterId && replica.primaryClusterId !== replica.clusterId) {
      return reject(
        ctx.explain,
        'REPLICA_CLUSTER',
        () =>
          "host is in the cluster that holds this VM's replica: the VM would lose its protection against losing that cluster; fail over instead of migrating there",
        {},
      );
    }
    return PASS;
  },
};
