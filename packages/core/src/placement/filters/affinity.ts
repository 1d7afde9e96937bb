import { type Filter, PASS, reject } from '../plugin';
import { groupCount } from '../snapshot';

/**
 * Hard affinity: once a group has a VM anywhere in the cluster, its other VMs
 * go only where one already runs. The first VM of a group goes anywhere.
 */
export const affinityFilter: Filter = {
  name: 'affinity',
  check(host, ctx) {
    const { demand, groupVmCounts } = ctx;
    for (const group of demand.hardAffinity) {
      const inCluster = groupVmCounts.get(group) ?? 0;
      if (inCluster > 0 && groupCount(host, group) === 0) {
        return reject(ctx.explain, 'AFFINITY_ELSEWHERE', () => `affinity group '${group}' runs on other hosts only`, {
          groupVmsInCluster: inCluster,
          groupVmsOnHost: 0,
        });
      }
    }
    return PASS;
  },
};
