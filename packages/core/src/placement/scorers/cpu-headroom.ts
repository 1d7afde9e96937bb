import type { Scorer } from '../plugin';
import { vcpuCapacity } from '../snapshot';

/** Fraction of the host's vCPU capacity (at the overcommit ratio) still free after this VM. */
export const cpuHeadroomScorer: Scorer = {
  name: 'cpu-headroom',
  raw(host, { request, cluster }) {
    const capacity = vcpuCapacity(host, cluster.cpuOvercommitRatio);
    return capacity > 0 ? (capacity - host.allocated.vcpus - request.vcpus) / capacity : 0;
  },
};
