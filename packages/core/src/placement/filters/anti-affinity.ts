import { type Filter, PASS, reject } from '../plugin';
import { groupCount } from '../snapshot';

/** Hard anti-affinity: never two VMs of the group on one host. */
export const antiAffinityFilter: Filter = {
  name: 'anti-affinity',
  check(host, ctx) {
    const { demand } = ctx;
    for (const group of demand.hardAntiAffinity) {
      const onHost = groupCount(host, group);
      if (onHost > 0) {
        return reject(
          ctx.explain,
          'ANTI_AFFINITY_CONFLICT',
          () => `host already runs ${onHost === 1 ? 'a VM' : `${onHost} VMs`} of anti-affinity group '${group}'`,
          { groupVmsOnHost: onHost },
        );
      }
    }
    return PASS;
  },
};
