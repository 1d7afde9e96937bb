import { describe, expect, it } from 'vitest';
import { aContext, aHost, aRequest } from '../testing/builders';
import { vmLimitsFilter } from './vm-limits';

describe('vm-limits filter', () => {
  it.each<[clusterVms: number, maxVms: number, hostVms: number, code: string | null]>([
    [0, 4000, 0, null],
    [3999, 4000, 1023, null],
    [4000, 4000, 0, 'CLUSTER_VM_LIMIT'],
    [10, 10, 0, 'CLUSTER_VM_LIMIT'],
    [100, 4000, 1024, 'HOST_VM_LIMIT'],
  ])('cluster %i/%i, host %i VMs → %s', (vmCount, maxVms, hostVms, code) => {
    const host = aHost({ id: 'h', allocated: { vcpus: 0, memoryMiB: 0, vmCount: hostVms } });
    const verdict = vmLimitsFilter.check(host, aContext(aRequest(), { vmCount, maxVms }));
    expect(verdict.ok ? null : verdict.code).toBe(code);
  });

  it('names the limit', () => {
    const verdict = vmLimitsFilter.check(aHost({ id: 'h' }), aContext(aRequest(), { vmCount: 4000, maxVms: 4000 }));
    expect(verdict.ok ? '' : verdict.reason).toBe('cluster is at its limit of 4,000 VMs');
  });
});
