import { formatCount } from '../format';
import { type Filter, PASS, reject } from '../plugin';
import { PLACEMENT_DEFAULTS } from '../snapshot';

/**
 * Hyper-V 2012 scale limits: the cluster's VM limit (4,000 by default) and
 * 1,024 running VMs per host. The cluster limit fails on every host alike;
 * the summary reports it once.
 */
export const vmLimitsFilter: Filter = {
  name: 'vm-limits',
  check(host, ctx) {
    const { cluster } = ctx;
    if (cluster.vmCount >= cluster.maxVms) {
      return reject(
        ctx.explain,
        'CLUSTER_VM_LIMIT',
        () => `cluster is at its limit of ${formatCount(cluster.maxVms)} VMs`,
        {
          clusterVmCount: cluster.vmCount,
          clusterMaxVms: cluster.maxVms,
        },
      );
    }
    const max = PLACEMENT_DEFAULTS.maxVmsPerHost;
    if (host.allocated.vmCount >= max) {
      return reject(ctx.explain, 'HOST_VM_LIMIT', () => `host is at its limit of ${formatCount(max)} VMs`, {
        hostVmCount: host.allocated.vmCount,
        hostMaxVms: max,
      });
    }
    return PASS;
  },
};
