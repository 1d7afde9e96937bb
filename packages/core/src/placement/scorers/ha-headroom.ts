import type { Scorer } from '../plugin';
import { freeMemoryMiB } from '../snapshot';

/**
 * Prefers hosts whose loss is easiest to absorb: the memory the host would
 * carry after this VM, over the free memory of every other connected host.
 * Lower load ratio, higher raw. Only for HA VMs: an HA-off VM is not
 * restarted elsewhere, so it does not care (every host scores the same).
 */
export const haHeadroomScorer: Scorer = {
  name: 'ha-headroom',
  raw(host, { request, clusterFreeMemoryMiB }) {
    if (request.haPriority === 'off') return 0;
    const survivorsFreeMiB = clusterFreeMemoryMiB - Math.max(0, freeMemoryMiB(host));
    return -(host.allocated.memoryMiB + request.memoryMiB) / Math.max(1, survivorsFreeMiB);
  },
};
