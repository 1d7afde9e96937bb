import { formatMemory } from '../format';
import { type Filter, PASS, reject } from '../plugin';
import { freeMemoryMiB } from '../snapshot';

/** Memory never overcommits: Dynamic Memory VMs reserve their startup memory, and the host reserve is off limits. */
export const memoryFilter: Filter = {
  name: 'memory',
  check(host, ctx) {
    const { request } = ctx;
    const freeMiB = freeMemoryMiB(host);
    if (request.memoryMiB <= freeMiB) return PASS;
    return reject(
      ctx.explain,
      'MEMORY_SHORT',
      () =>
        `memory short by ${formatMemory(request.memoryMiB - freeMiB)} (needs ${formatMemory(request.memoryMiB)}, ${formatMemory(Math.max(0, freeMiB))} free)`,
      {
        requestMiB: request.memoryMiB,
        freeMiB,
        shortMiB: request.memoryMiB - freeMiB,
        allocatedMiB: host.allocated.memoryMiB,
        reservedMiB: host.reservedMemoryMiB,
        memoryMiB: host.memoryMiB,
      },
    );
  },
};
