import type { Scorer } from '../plugin';
import { freeMemoryMiB } from '../snapshot';

/**
 * A VM whose memory fits in one NUMA node's free memory runs without remote
 * memory access. Per node: the host's free memory split evenly (allocations
 * are assumed spread proportionally; the snapshot does not say per node). A
 * preference, never a rejection: Hyper-V spans nodes when it must.
 */
export const numaFitScorer: Scorer = {
  name: 'numa-fit',
  raw(host, { request }) {
    const nodes = Math.max(1, host.numaNodes);
    return request.memoryMiB <= freeMemoryMiB(host) / nodes ? 1 : 0;
  },
};
