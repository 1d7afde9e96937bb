import type { Scorer } from '../plugin';
import { freeMemoryMiB, usableMemoryMiB } from '../snapshot';

/**
 * Fraction of the host's usable memory still free after this VM. A positive
 * weight balances (most headroom wins); a negative weight packs (best fit).
 */
export const memoryHeadroomScorer: Scorer = {
  name: 'memory-headroom',
  raw(host, { request }) {
    const usableMiB = usableMemoryMiB(host);
    return usableMiB > 0 ? (freeMemoryMiB(host) - request.memoryMiB) / usableMiB : 0;
  },
};
