import { describe, expect, it } from 'vitest';
import { GIB } from '../shared/units';
import { applyPlacement, PlacementSession, place, placeBatch } from './place';
import { PlacementError } from './placement.errors';
import { aCluster, aHost, aRequest, hosts } from './testing/builders';

const GiB = 1024;
/** 256 GiB hosts with a 2 GiB reserve: 254 GiB usable. */
const withFreeGiB = (id: string, freeGiB: number) =>
  aHost({ id, allocated: { vcpus: 4, memoryMiB: Math.round((254 - freeGiB) * GiB), vmCount: 2 } });

describe('place: why this host, why not the others', () => {
  const cluster = aCluster([
    withFreeGiB('hv-01', 100),
    withFreeGiB('hv-02', 200),
    withFreeGiB('hv-07', 12.9),
    aHost({ id: 'hv-09', state: 'maintenance' }),
    aHost({ id: 'hv-10', dedicatedTenantId: 't9' }),
  ]);
  const decision = place(cluster, aRequest({ memoryMiB: 16 * GiB }), { seed: 7 });

  it('balances onto the host with the most headroom and says so', () => {
    expect(decision.hostId).toBe('hv-02');
    expect(decision.summary).toMatch(/^Placed on hv-02 \(score \d+\.\d of 100; 2 of 5 hosts fit\)$/);
    expect(decision.policy).toBe('balance');
    expect(decision.assignment).toEqual({ diskPools: ['pool-a'], nicNames: [null] });
  });

  it('traces every host: candidates in rank order, then rejected hosts by name', () => {
    expect(decision.trace.map((t) => [t.hostName, t.rank])).toEqual([
      ['hv-02', 1],
      ['hv-01', 2],
      ['hv-07', null],
      ['hv-09', null],
      ['hv-10', null],
    ]);
    const [first, second] = decision.trace;
    expect(first?.total).toBeGreaterThan(second?.total ?? 100);
    expect(first?.scores.map((s) => s.scorer)).toEqual([
      'memory-headroom',
      'cpu-headroom',
      'soft-affinity',
      'numa-fit',
      'ha-headroom',
    ]);
    for (const score of first?.scores ?? []) expect(score.contribution).toBeCloseTo(score.normalized * score.weight);
  });

  it('why not hv-07: memory short by 3.1 GiB, with the numbers', () => {
    const hv07 = decision.trace.find((t) => t.hostName === 'hv-07');
    expect(hv07?.total).toBeNull();
    expect(hv07?.verdicts.filter((v) => !v.ok)).toEqual([
      {
        filter: 'memory',
        ok: false,
        code: 'MEMORY_SHORT',
        reason: 'memory short by 3.1 GiB (needs 16 GiB, 12.9 GiB free)',
        numbers: expect.objectContaining({ requestMiB: 16 * GiB, shortMiB: 16 * GiB - Math.round(12.9 * GiB) }),
      },
    ]);
    // Every filter's verdict is kept, not only up to the first failure.
    expect(hv07?.verdicts).toHaveLength(10);
  });

  it('counts rejections by first failing filter', () => {
    expect(decision.rejections.map((r) => [r.filter, r.code, r.hosts])).toEqual([
      ['host-state', 'HOST_MAINTENANCE', 1],
      ['memory', 'MEMORY_SHORT', 1],
      ['tenant-dedication', 'TENANT_DEDICATED', 1],
    ]);
  });

  it('a host failing several filters lists them all', () => {
    const c = aCluster([
      aHost({ id: 'hv-01', state: 'failed', allocated: { vcpus: 200, memoryMiB: 254 * GiB, vmCount: 9 } }),
    ]);
    const d = place(c, aRequest(), { seed: 1 });
    expect(d.trace[0]?.verdicts.filter((v) => !v.ok).map((v) => v.code)).toEqual([
      'HOST_FAILED',
      'MEMORY_SHORT',
      'CPU_SHORT',
    ]);
    expect(d.summary).toBe('No host fits: hv-01: host has failed');
  });
});

describe('place: refusals', () => {
  it('summarises by cause, most hosts first', () => {
    const c = aCluster([
      ...hosts(3, { allocated: { vcpus: 0, memoryMiB: 250 * GiB, vmCount: 5 } }),
      aHost({ id: 'hv-08', state: 'maintenance' }),
      aHost({ id: 'hv-09', state: 'maintenance' }),
    ]);
    const d = place(c, aRequest({ memoryMiB: 8 * GiB }), { seed: 1 });
    expect(d.hostId).toBeNull();
    expect(d.assignment).toBeNull();
    expect(d.summary).toBe('No host fits: 3 hosts short of memory, 2 hosts in maintenance');
  });

  it('the cluster VM limit is said once', () => {
    const d = place(aCluster(hosts(4), { vmCount: 4000 }), aRequest(), { seed: 1 });
    expect(d.summary).toBe('No host fits: cluster is at its limit of 4,000 VMs');
  });

  it('an empty cluster', () => {
    expect(place(aCluster([]), aRequest(), { seed: 1 }).summary).toBe('No host fits: the cluster has no hosts');
  });

  it('rejects a malformed request with a typed error', () => {
    expect(() => place(aCluster(hosts(1)), aRequest({ vcpus: 0 }), { seed: 1 })).toThrow(PlacementError);
  });
});

describe('place: policy', () => {
  const cluster = aCluster([withFreeGiB('hv-01', 50), withFreeGiB('hv-02', 200), withFreeGiB('hv-03', 120)]);

  it('balance picks the emptiest, pack the fullest that fits', () => {
    expect(place(cluster, aRequest(), { seed: 1 }).hostId).toBe('hv-02');
    expect(place({ ...cluster, policy: 'pack' }, aRequest(), { seed: 1 }).hostId).toBe('hv-01');
  });

  it('soft anti-affinity steers away from a group member', () => {
    const c = aCluster([
      aHost({ id: 'hv-01', groups: { web: 1 } }),
      aHost({ id: 'hv-02', allocated: { vcpus: 8, memoryMiB: 64 * GiB, vmCount: 3 } }),
    ]);
    const request = aRequest({ groups: [{ name: 'web', kind: 'anti-affinity', hard: false }] });
    expect(place(c, request, { seed: 1 }).hostId).toBe('hv-02');
  });

  it('hard affinity follows the group even against balance', () => {
    const c = aCluster([withFreeGiB('hv-01', 200), { ...withFreeGiB('hv-02', 20), groups: { db: 1 } }]);
    const request = aRequest({ groups: [{ name: 'db', kind: 'affinity', hard: true }] });
    expect(place(c, request, { seed: 1 }).hostId).toBe('hv-02');
  });
});

describe('place: determinism', () => {
  const cluster = aCluster(hosts(8));

  it('the same snapshot, request and seed give the same decision', () => {
    const a = place(cluster, aRequest(), { seed: 42 });
    const b = place(cluster, aRequest(), { seed: 42 });
    expect(b).toEqual(a);
  });

  it('identical hosts tie; different seeds break the tie differently', () => {
    const chosen = new Set(Array.from({ length: 32 }, (_, seed) => place(cluster, aRequest(), { seed }).hostId));
    expect(chosen.size).toBeGreaterThan(1);
  });

  it('snapshot order does not decide', () => {
    const reversed = { ...cluster, hosts: [...cluster.hosts].reverse() };
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(place(reversed, aRequest(), { seed }).hostId).toBe(place(cluster, aRequest(), { seed }).hostId);
    }
  });
});

describe('place: summary traces and candidate limits', () => {
  const cluster = aCluster(
    Array.from({ length: 40 }, (_, i) => withFreeGiB(`hv-${String(i).padStart(2, '0')}`, 5 + i * 6)),
  );

  it('summary keeps the top candidates and counts the rest', () => {
    const d = place(cluster, aRequest({ memoryMiB: 100 * GiB }), { seed: 1, trace: 'summary', topCandidates: 3 });
    const full = place(cluster, aRequest({ memoryMiB: 100 * GiB }), { seed: 1 });
    expect(d.hostId).toBe(full.hostId);
    expect(d.trace.map((t) => t.rank)).toEqual([1, 2, 3]);
    expect(d.candidates).toBe(full.candidates);
    expect(d.rejections).toEqual(full.rejections);
  });

  it('a pruned search never refuses a VM that fits somewhere', () => {
    // Only the emptiest host fits; pack draws candidates fullest first.
    const d = place({ ...cluster, policy: 'pack' }, aRequest({ memoryMiB: 238 * GiB }), {
      seed: 1,
      trace: 'summary',
      candidateLimit: 2,
    });
    expect(d.hostId).toBe('hv-39');
  });

  it('a pruned refusal still counts every host', () => {
    const d = place(cluster, aRequest({ memoryMiB: 250 * GiB }), { seed: 1, trace: 'summary', candidateLimit: 2 });
    expect(d.hostId).toBeNull();
    expect(d.hostsEvaluated).toBe(40);
    expect(d.summary).toBe('No host fits: 40 hosts short of memory');
  });

  it('pack with a limit picks the best fit among the fullest hosts that fit', () => {
    const d = place({ ...cluster, policy: 'pack' }, aRequest({ memoryMiB: 30 * GiB }), {
      seed: 1,
      trace: 'summary',
      candidateLimit: 4,
    });
    expect(d.hostId).toBe('hv-05'); // 35 GiB free: the tightest fit
    expect(d.hostsEvaluated).toBe(4);
  });
});

describe('applyPlacement', () => {
  const cluster = aCluster([
    aHost({
      id: 'hv-01',
      storagePools: [
        { name: 'fast', capacityBytes: 100 * GIB, allocatedBytes: 0 },
        { name: 'bulk', capacityBytes: 1000 * GIB, allocatedBytes: 0 },
      ],
      nics: [
        { name: 'nic0', linkSpeedMbps: 10_000, reservedMinMbps: 2_000 },
        { name: 'nic1', linkSpeedMbps: 10_000, reservedMinMbps: 0 },
      ],
      groups: { web: 1 },
    }),
    aHost({ id: 'hv-02' }),
  ]);
  const request = aRequest({
    vcpus: 4,
    memoryMiB: 8 * GiB,
    disks: [{ sizeBytes: 10 * GIB, pool: 'fast' }, { sizeBytes: 50 * GIB }, { sizeBytes: 20 * GIB }],
    nics: [{ minBandwidthMbps: 1_000 }, { minBandwidthMbps: 9_000 }, {}],
    groups: [
      { name: 'web', kind: 'affinity', hard: false },
      { name: 'db', kind: 'anti-affinity', hard: false },
    ],
  });

  it('adds every part of the reservation to a new snapshot, leaving the input alone', () => {
    const next = applyPlacement(cluster, request, 'hv-01');
    const host = next.hosts[0];
    expect(next.vmCount).toBe(cluster.vmCount + 1);
    expect(host?.allocated).toEqual({ vcpus: 4, memoryMiB: 8 * GiB, vmCount: 1 });
    expect(host?.storagePools.map((p) => p.allocatedBytes)).toEqual([10 * GIB, 70 * GIB]);
    // 9,000 first on the freest NIC (nic1), then 1,000 on the now freer nic0.
    expect(host?.nics.map((n) => n.reservedMinMbps)).toEqual([3_000, 9_000]);
    expect(host?.groups).toEqual({ web: 2, db: 1 });
    expect(next.hosts[1]).toBe(cluster.hosts[1]);
    expect(cluster.hosts[0]?.allocated.vmCount).toBe(0);
  });

  it('refuses a host that does not pass the filters', () => {
    const full = aCluster([aHost({ id: 'hv-01', allocated: { vcpus: 0, memoryMiB: 250 * GiB, vmCount: 1 } })]);
    expect(() => applyPlacement(full, aRequest({ memoryMiB: 8 * GiB }), 'hv-01')).toThrow(/memory short by 4 GiB/);
    expect(() => applyPlacement(full, aRequest(), 'nope')).toThrow(PlacementError);
  });
});

describe('placeBatch', () => {
  it('each VM sees the ones before it; nothing is committed to the input', () => {
    const cluster = aCluster(hosts(2, { memoryMiB: 34 * GiB })); // 32 GiB usable each
    const requests = Array.from({ length: 5 }, (_, i) => aRequest({ name: `vm-${i}`, memoryMiB: 16 * GiB }));
    const decisions = placeBatch(cluster, requests, { seed: 3 });
    expect(decisions.map((d) => d.hostId !== null)).toEqual([true, true, true, true, false]);
    expect(decisions[4]?.summary).toBe('No host fits: 2 hosts short of memory');
    expect(cluster.hosts.every((h) => h.allocated.vmCount === 0)).toBe(true);
  });

  it('hard anti-affinity spreads a group one per host', () => {
    const group = [{ name: 'web', kind: 'anti-affinity' as const, hard: true }];
    const requests = Array.from({ length: 4 }, (_, i) => aRequest({ name: `web-${i}`, groups: group }));
    const decisions = placeBatch(aCluster(hosts(3)), requests, { seed: 1 });
    expect(new Set(decisions.slice(0, 3).map((d) => d.hostId)).size).toBe(3);
    expect(decisions[3]?.summary).toBe('No host fits: 3 hosts running the anti-affinity group');
  });
});

describe('PlacementSession', () => {
  it('commit refuses what place would refuse', () => {
    const session = new PlacementSession(aCluster(hosts(1, { memoryMiB: 10 * GiB })), { seed: 1 });
    session.commit(aRequest({ memoryMiB: 8 * GiB }), 'hv-01');
    expect(() => session.commit(aRequest({ memoryMiB: 1 * GiB }), 'hv-01')).toThrow(/memory short/);
    expect(session.snapshot().hosts[0]?.allocated.memoryMiB).toBe(8 * GiB);
  });
});
