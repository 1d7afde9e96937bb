import { describe, expect, it } from 'vitest';
import { aContext, aHost, aRequest } from '../testing/builders';
import { cpuFilter } from './cpu';

describe('cpu filter', () => {
  it.each<[lps: number, ratio: number, allocated: number, vcpus: number, code: string | null]>([
    [32, 4, 0, 2, null],
    [32, 4, 126, 2, null], // exactly at 128 = 32 × 4
    [32, 4, 127, 2, 'CPU_SHORT'],
    [32, 1, 30, 2, null], // no overcommit
    [32, 1, 31, 2, 'CPU_SHORT'],
    [3, 1.5, 2, 2, null], // 4.5 capacity: 2 + 2 fits, 2 + 3 does not
    [3, 1.5, 2, 3, 'CPU_SHORT'],
    [8, 4, 0, 16, 'VCPUS_EXCEED_LPS'], // room at 4:1, but a VM never exceeds the host's LPs
    [8, 4, 0, 8, null],
  ])('%i LPs at %f:1 with %i allocated, VM of %i vCPUs → %s', (lps, ratio, allocated, vcpus, code) => {
    const host = aHost({ id: 'h', logicalProcessors: lps, allocated: { vcpus: allocated, memoryMiB: 0, vmCount: 1 } });
    const verdict = cpuFilter.check(host, aContext(aRequest({ vcpus }), { cpuOvercommitRatio: ratio }));
    expect(verdict.ok ? null : verdict.code).toBe(code);
  });

  it('carries the numbers', () => {
    const host = aHost({ id: 'h', logicalProcessors: 16, allocated: { vcpus: 62, memoryMiB: 0, vmCount: 9 } });
    const verdict = cpuFilter.check(host, aContext(aRequest({ vcpus: 4 })));
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'CPU short by 2 vCPUs (needs 4, 2 of 64 free at 4:1)',
      numbers: { requestVcpus: 4, allocatedVcpus: 62, capacityVcpus: 64, freeVcpus: 2 },
    });
  });
});
