/**
 * Invariants over random clusters and requests (STYLE.md rule 7): whatever
 * the engine chooses, a placement never breaks capacity, anti-affinity, NIC
 * QoS admission or dedication; every rejected host names a failing filter;
 * and a decision replays from its seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPlacement, PlacementSession, place, placeBatch } from './place';
import {
  type ClusterSnapshot,
  freeMemoryMiB,
  type GroupMembership,
  type HostSnapshot,
  type PlacementRequest,
  usableMemoryMiB,
  vcpuCapacity,
} from './snapshot';

const GiB = 1024;
const GROUPS = ['web', 'db', 'cache', 'constructor'];
const POOLS = ['fast', 'bulk', 'nvme'];

const hostArb = (index: number): fc.Arbitrary<HostSnapshot> =>
  fc
    .record({
      state: fc.constantFrom('connected', 'connected', 'connected', 'suspect', 'failed', 'maintenance' as const),
      logicalProcessors: fc.integer({ min: 1, max: 64 }),
      // Small hosts and whole-GiB figures, so requests often land exactly on a limit or one GiB past it.
      memoryGiB: fc.integer({ min: 4, max: 64 }),
      numaNodes: fc.integer({ min: 1, max: 4 }),
      reservedGiB: fc.integer({ min: 0, max: 4 }),
      vcpuFill: fc.double({ min: 0, max: 1, noNaN: true }),
      memoryFill: fc.double({ min: 0, max: 1, noNaN: true }),
      vmCount: fc.integer({ min: 0, max: 1024 }),
      pools: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom(...POOLS),
          capacityGiB: fc.integer({ min: 1, max: 4096 }),
          fill: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        { selector: (p) => p.name, maxLength: 3 },
      ),
      nics: fc.array(
        fc.record({ link: fc.constantFrom(1_000, 10_000, 25_000), fill: fc.double({ min: 0, max: 1, noNaN: true }) }),
        { maxLength: 3 },
      ),
      dedicated: fc.option(fc.constantFrom('t1', 't2'), { nil: null }),
      groups: fc.dictionary(fc.constantFrom(...GROUPS), fc.integer({ min: 0, max: 3 }), { maxKeys: 3 }),
    })
    .map((h): HostSnapshot => {
      const memoryMiB = h.memoryGiB * GiB;
      const reservedMemoryMiB = Math.min(h.reservedGiB * GiB, memoryMiB);
      return {
        id: `h${index}`,
        name: `hv-${String(index).padStart(2, '0')}`,
        clusterId: 'c1',
        state: h.state,
        logicalProcessors: h.logicalProcessors,
        memoryMiB,
        numaNodes: h.numaNodes,
        reservedMemoryMiB,
        allocated: {
          // A valid starting point: within capacity at the cluster's ratio of 2 (the generator below).
          vcpus: Math.floor(h.vcpuFill * h.logicalProcessors * 2),
          memoryMiB: Math.floor((h.memoryFill * (memoryMiB - reservedMemoryMiB)) / GiB) * GiB,
          vmCount: h.vmCount,
        },
        storagePools: h.pools.map((p) => ({
          name: p.name,
          capacityBytes: p.capacityGiB * 2 ** 30,
          allocatedBytes: Math.floor(p.fill * p.capacityGiB * 2 ** 30),
        })),
        nics: h.nics.map((n, i) => ({
          name: `nic${i}`,
          linkSpeedMbps: n.link,
          reservedMinMbps: Math.floor(n.fill * n.link),
        })),
        dedicatedTenantId: h.dedicated,
        groups: h.groups,
      };
    });

const clusterArb: fc.Arbitrary<ClusterSnapshot> = fc
  .record({
    hostCount: fc.integer({ min: 0, max: 12 }),
    policy: fc.constantFrom('balance', 'pack' as const),
    maxVms: fc.integer({ min: 1, max: 4000 }),
  })
  .chain(({ hostCount, policy, maxVms }) =>
    fc.tuple(...Array.from({ length: hostCount }, (_, i) => hostArb(i))).chain((hosts) =>
      fc.integer({ min: 0, max: maxVms }).map(
        (vmCount): ClusterSnapshot => ({
          id: 'c1',
          name: 'cluster-1',
          maxVms,
          vmCount,
          cpuOvercommitRatio: 2,
          policy,
          hosts,
        }),
      ),
    ),
  );

const requestArb: fc.Arbitrary<PlacementRequest> = fc.record({
  name: fc.constantFrom('vm-a', 'vm-b'),
  tenantId: fc.constantFrom('t1', 't2', 't3'),
  vcpus: fc.integer({ min: 1, max: 32 }),
  memoryMiB: fc.integer({ min: 1, max: 32 }).map((g) => g * GiB),
  disks: fc
    .array(
      fc.record({
        sizeBytes: fc.integer({ min: 0, max: 2048 }).map((g) => g * 2 ** 30),
        pool: fc.option(fc.constantFrom(...POOLS), { nil: undefined }),
      }),
      { maxLength: 3 },
    )
    .map((disks) => disks.map((d) => (d.pool === undefined ? { sizeBytes: d.sizeBytes } : d))),
  nics: fc
    .array(fc.option(fc.integer({ min: 0, max: 12_000 }), { nil: undefined }), { maxLength: 3 })
    .map((mins) => mins.map((m) => (m === undefined ? {} : { minBandwidthMbps: m }))),
  groups: fc.uniqueArray(
    fc.record({
      name: fc.constantFrom(...GROUPS),
      kind: fc.constantFrom('affinity', 'anti-affinity' as const),
      hard: fc.boolean(),
    }),
    { selector: (g: GroupMembership) => g.name, maxLength: 2 },
  ),
  haPriority: fc.constantFrom('high', 'medium', 'low', 'off' as const),
});

const groupCount = (host: HostSnapshot, name: string) =>
  Object.hasOwn(host.groups, name) ? (host.groups[name] ?? 0) : 0;

/** What must hold on a host after it took `request`, checked from the numbers, not through the filters. */
function assertWithinCapacity(before: HostSnapshot, after: HostSnapshot, request: PlacementRequest, ratio: number) {
  expect(before.state).toBe('connected');
  expect(request.vcpus).toBeLessThanOrEqual(after.logicalProcessors);
  expect(after.allocated.vcpus).toBeLessThanOrEqual(vcpuCapacity(after, ratio));
  expect(after.allocated.memoryMiB).toBeLessThanOrEqual(usableMemoryMiB(after));
  expect(after.allocated.vmCount).toBeLessThanOrEqual(1024);
  for (const pool of after.storagePools) expect(pool.allocatedBytes).toBeLessThanOrEqual(pool.capacityBytes);
  for (const nic of after.nics) expect(nic.reservedMinMbps).toBeLessThanOrEqual(nic.linkSpeedMbps);
  // Every asked minimum was reserved somewhere: the NICs' reservations grew by exactly their sum.
  const sum = (h: HostSnapshot) => h.nics.reduce((s, n) => s + n.reservedMinMbps, 0);
  expect(sum(after) - sum(before)).toBe(request.nics.reduce((s, n) => s + (n.minBandwidthMbps ?? 0), 0));
  const diskBytes = (h: HostSnapshot) => h.storagePools.reduce((s, p) => s + p.allocatedBytes, 0);
  expect(diskBytes(after) - diskBytes(before)).toBe(request.disks.reduce((s, d) => s + d.sizeBytes, 0));
  expect(before.dedicatedTenantId === null || before.dedicatedTenantId === request.tenantId).toBe(true);
  for (const g of request.groups) {
    if (g.hard && g.kind === 'anti-affinity') expect(groupCount(before, g.name)).toBe(0);
  }
}

describe('placement properties', () => {
  it('a placement never breaks capacity, anti-affinity, NIC admission or dedication', () => {
    fc.assert(
      fc.property(clusterArb, requestArb, fc.integer(), (cluster, request, seed) => {
        const decision = place(cluster, request, { seed });
        if (decision.hostId === null) return;
        const before = cluster.hosts.find((h) => h.id === decision.hostId);
        const after = applyPlacement(cluster, request, decision.hostId).hosts.find((h) => h.id === decision.hostId);
        if (!before || !after) throw new Error('chosen host missing');
        assertWithinCapacity(before, after, request, cluster.cpuOvercommitRatio);
        expect(cluster.vmCount).toBeLessThan(cluster.maxVms);
      }),
      { numRuns: 500 },
    );
  });

  it('every host is traced; every rejected host names a failing filter; candidates pass them all', () => {
    fc.assert(
      fc.property(clusterArb, requestArb, fc.integer(), (cluster, request, seed) => {
        const decision = place(cluster, request, { seed });
        expect(decision.trace).toHaveLength(cluster.hosts.length);
        expect(new Set(decision.trace.map((t) => t.hostId)).size).toBe(cluster.hosts.length);
        decision.trace.forEach((t, i) => {
          if (t.rank === null) {
            const failing = t.verdicts.filter((v) => !v.ok);
            expect(failing.length).toBeGreaterThan(0);
            for (const v of failing) expect(v.code && v.reason).toBeTruthy();
          } else {
            expect(t.rank).toBe(i + 1);
            expect(t.verdicts.every((v) => v.ok)).toBe(true);
          }
        });
        expect(decision.rejections.reduce((s, r) => s + r.hosts, 0)).toBe(cluster.hosts.length - decision.candidates);
        expect(decision.hostId).toBe(decision.trace[0]?.rank === 1 ? decision.trace[0].hostId : null);
      }),
      { numRuns: 300 },
    );
  });

  it('feasibility matches a plain reading of the limits (an oracle outside the filters)', () => {
    fc.assert(
      fc.property(clusterArb, requestArb, fc.integer(), (cluster, request, seed) => {
        const decision = place(cluster, request, { seed });
        for (const t of decision.trace) {
          const host = cluster.hosts.find((h) => h.id === t.hostId);
          if (!host) throw new Error('unknown host in trace');
          const simpleOk =
            host.state === 'connected' &&
            (host.dedicatedTenantId === null || host.dedicatedTenantId === request.tenantId) &&
            cluster.vmCount < cluster.maxVms &&
            host.allocated.vmCount < 1024 &&
            request.vcpus <= host.logicalProcessors &&
            host.allocated.vcpus + request.vcpus <= vcpuCapacity(host, cluster.cpuOvercommitRatio) &&
            request.memoryMiB <= freeMemoryMiB(host) &&
            request.groups.every((g) => !(g.hard && g.kind === 'anti-affinity' && groupCount(host, g.name) > 0));
          // The plain limits are necessary; storage, NICs and affinity can only reject more.
          if (t.rank !== null) expect(simpleOk).toBe(true);
          if (!simpleOk) expect(t.rank).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the same seed gives the same decision; host order in the snapshot does not matter', () => {
    fc.assert(
      fc.property(clusterArb, requestArb, fc.integer(), (cluster, request, seed) => {
        const a = place(cluster, request, { seed });
        expect(place(cluster, request, { seed })).toEqual(a);
        const reversed = { ...cluster, hosts: [...cluster.hosts].reverse() };
        expect(place(reversed, request, { seed }).hostId).toBe(a.hostId);
      }),
      { numRuns: 200 },
    );
  });

  it('placeBatch never over-commits, and its decisions replay one by one through applyPlacement', () => {
    fc.assert(
      fc.property(clusterArb, fc.array(requestArb, { maxLength: 12 }), fc.integer(), (cluster, requests, seed) => {
        const decisions = placeBatch(cluster, requests, { seed });
        let working = cluster;
        decisions.forEach((decision, i) => {
          const request = requests[i];
          if (!request) throw new Error('missing request');
          // Each decision is exactly what place() says on the snapshot so far.
          expect(place(working, request, { seed }).hostId).toBe(decision.hostId);
          if (decision.hostId === null) return;
          const before = working.hosts.find((h) => h.id === decision.hostId);
          working = applyPlacement(working, request, decision.hostId);
          const after = working.hosts.find((h) => h.id === decision.hostId);
          if (!before || !after) throw new Error('chosen host missing');
          assertWithinCapacity(before, after, request, cluster.cpuOvercommitRatio);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('a pruned search (candidate limit, free-memory index) refuses exactly when the full search refuses', () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.array(requestArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        (cluster, requests, limit, seed) => {
          const pruned = new PlacementSession(cluster, { seed, trace: 'summary', candidateLimit: limit });
          for (const request of requests) {
            const quick = pruned.place(request);
            const exact = place(pruned.snapshot(), request, { seed });
            expect(quick.hostId === null).toBe(exact.hostId === null);
            if (quick.hostId !== null) {
              // The quick choice is one the full search finds feasible.
              expect(exact.trace.find((t) => t.hostId === quick.hostId)?.rank).not.toBeNull();
              pruned.commit(request, quick.hostId);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('summary traces without a limit choose what full traces choose', () => {
    fc.assert(
      fc.property(clusterArb, requestArb, fc.integer(), (cluster, request, seed) => {
        const summary = place(cluster, request, { seed, trace: 'summary' });
        const full = place(cluster, request, { seed });
        expect(summary.hostId).toBe(full.hostId);
        expect(summary.rejections).toEqual(full.rejections);
      }),
      { numRuns: 200 },
    );
  });
});
