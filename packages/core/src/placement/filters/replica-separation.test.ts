import { describe, expect, it } from 'vitest';
import { place } from '../place';
import { aCluster, aContext, aHost, aRequest } from '../testing/builders';
import { replicaSeparationFilter } from './replica-separation';

// The VM runs in 'prod'; its replica is on hv-dev-02 of 'dev'.
const replica = { hostId: 'hv-dev-02', clusterId: 'dev', primaryClusterId: 'prod' };

describe('replica-separation filter', () => {
  it.each<[string, string, string | null]>([
    ['hv-dev-02', 'dev', 'REPLICA_HOST'],
    ['hv-dev-03', 'dev', 'REPLICA_CLUSTER'],
    ['hv-prod-02', 'prod', null],
  ])('%s of %s → %s', (id, clusterId, code) => {
    const verdict = replicaSeparationFilter.check(aHost({ id, clusterId }), aContext(aRequest({ replica })));
    expect(verdict.ok ? null : verdict.code).toBe(code);
  });

  it('says why, and what to do instead', () => {
    const onReplica = replicaSeparationFilter.check(
      aHost({ id: 'hv-dev-02', clusterId: 'dev' }),
      aContext(aRequest({ replica })),
    );
    expect(onReplica).toMatchObject({ ok: false, reason: expect.stringMatching(/holds this VM's replica: fail over/) });
    const inCluster = replicaSeparationFilter.check(
      aHost({ id: 'hv-dev-03', clusterId: 'dev' }),
      aContext(aRequest({ replica })),
    );
    expect(inCluster).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/cluster that holds this VM's replica.*fail over instead/),
    });
  });

  it('a VM without a replica passes everywhere', () => {
    expect(replicaSeparationFilter.check(aHost({ id: 'hv-dev-02', clusterId: 'dev' }), aContext(aRequest())).ok).toBe(
      true,
    );
  });

  it("a VM already in its replica's cluster may move within it, never onto the replica's host", () => {
    const inside = { hostId: 'hv-02', clusterId: 'c1', primaryClusterId: 'c1' };
    const check = (id: string) => replicaSeparationFilter.check(aHost({ id }), aContext(aRequest({ replica: inside })));
    expect(check('hv-03').ok).toBe(true);
    expect(check('hv-02')).toMatchObject({ ok: false, code: 'REPLICA_HOST' });
  });
});

describe('placement of a replicated VM', () => {
  it("never chooses the replica's host, even the emptiest, and counts it in a refusal", () => {
    // hv-02 is the emptiest: balance would choose it if the replica were not there.
    const busy = { vcpus: 8, memoryMiB: 200 * 1024, vmCount: 4 };
    const cluster = aCluster([aHost({ id: 'hv-01', allocated: busy }), aHost({ id: 'hv-02' })]);
    const request = aRequest({ replica: { hostId: 'hv-02', clusterId: 'c1', primaryClusterId: 'c1' } });
    expect(place(cluster, aRequest(), { seed: 1 }).hostId).toBe('hv-02');
    expect(place(cluster, request, { seed: 1 }).hostId).toBe('hv-01');
    const refused = place(aCluster([aHost({ id: 'hv-02' })]), request, { seed: 1, trace: 'summary' });
    expect(refused.hostId).toBeNull();
    expect(refused.summary).toContain("holds this VM's replica");
  });
});
