import { describe, expect, it } from 'vitest';
import { aContext, aHost, aRequest } from '../testing/builders';
import { memoryFilter } from './memory';

const GiB = 1024;

describe('memory filter', () => {
  it.each<[memoryMiB: number, reservedMiB: number, allocatedMiB: number, requestMiB: number, ok: boolean]>([
    [64 * GiB, 2 * GiB, 0, 62 * GiB, true], // exactly everything but the reserve
    [64 * GiB, 2 * GiB, 0, 62 * GiB + 1, false], // the reserve is never usable
    [64 * GiB, 2 * GiB, 60 * GiB, 2 * GiB, true],
    [64 * GiB, 2 * GiB, 61 * GiB, 2 * GiB, false], // no overcommit
    [64 * GiB, 4 * GiB, 62 * GiB, 1, false], // over-reserved host (reserve raised later): negative free
  ])(
    '%i MiB, %i reserved, %i allocated, VM of %i MiB → ok %s',
    (memoryMiB, reservedMemoryMiB, allocated, request, ok) => {
      const host = aHost({
        id: 'h',
        memoryMiB,
        reservedMemoryMiB,
        allocated: { vcpus: 0, memoryMiB: allocated, vmCount: 1 },
      });
      expect(memoryFilter.check(host, aContext(aRequest({ memoryMiB: request }))).ok).toBe(ok);
    },
  );

  it('says by how much, in GiB', () => {
    // 12.9 GiB free: 256 GiB − 2 GiB reserve − 241.1 GiB allocated
    const allocatedMiB = 256 * GiB - 2 * GiB - Math.round(12.9 * GiB);
    const host = aHost({ id: 'hv-07', allocated: { vcpus: 8, memoryMiB: allocatedMiB, vmCount: 12 } });
    const verdict = memoryFilter.check(host, aContext(aRequest({ memoryMiB: 16 * GiB })));
    expect(verdict).toMatchObject({
      ok: false,
      code: 'MEMORY_SHORT',
      reason: 'memory short by 3.1 GiB (needs 16 GiB, 12.9 GiB free)',
      numbers: { requestMiB: 16 * GiB, freeMiB: Math.round(12.9 * GiB) },
    });
  });
});
