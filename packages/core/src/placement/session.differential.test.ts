/**
 * The optimised session against the straightforward one it replaced
 * (testing/reference-session.ts, kept as the oracle): on random clusters and
 * random sequences of places, commits, releases and moves, every decision is
 * the same object field for field (host, summary, trace, rejections and their
 * reasons, assignment), and every commit, release and move succeeds or throws
 * alike. Fixed seeds: a failure replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlacementSession, type PlaceOptions } from './place';
import { balanceProfile, packProfile } from './profiles';
import { type Assignment, assign, assignStorage, demandOf, releaseFromHost, reserveOnHost } from './reservation';
import type { ClusterSnapshot, GroupMembership, HostSnapshot, PlacementRequest } from './snapshot';
import { aCluster, aHost, aRequest } from './testing/builders';
import {
  assignStorage as referenceAssignStorage,
  demandOf as referenceDemandOf,
  releaseFromHost as referenceRelease,
  reserveOnHost as referenceReserve,
} from './testing/reference-reservation';
import { ReferencePlacementSession } from './testing/reference-session';
import { syntheticWorkload } from './testing/synthetic-workload';

const GiB = 1024;
const GROUPS = ['web', 'db', 'cache', 'constructor'];
const POOLS = ['fast', 'bulk', 'nvme'];

/** Host sizes are drawn from `sizes`: few sizes (as clusters are bought) use the session's shape index. */
const hostArb = (index: number, sizes: readonly { lps: number; memoryGiB: number; reservedGiB: number }[]) =>
  fc
    .record({
      state: fc.constantFrom('connected', 'connected', 'connected', 'connected', 'suspect', 'maintenance' as const),
      size: fc.constantFrom(...sizes),
      vcpuFill: fc.double({ min: 0, max: 1, noNaN: true }),
      memoryFill: fc.double({ min: 0, max: 1, noNaN: true }),
      pools: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom(...POOLS),
          kind: fc.constantFrom(undefined, 'csv', 'smb', 'local'),
          capacityGiB: fc.integer({ min: 50, max: 2048 }),
          fill: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        { selector: (p) => p.name, maxLength: 3 },
      ),
      nics: fc.array(
        fc.record({ link: fc.constantFrom(1_000, 10_000), fill: fc.double({ min: 0, max: 1, noNaN: true }) }),
        { maxLength: 2 },
      ),
      dedicated: fc.option(fc.constantFrom('t1', 't2'), { nil: null, freq: 4 }),
      groups: fc.dictionary(fc.constantFrom(...GROUPS), fc.integer({ min: 1, max: 2 }), { maxKeys: 2 }),
    })
    .map((h): HostSnapshot => {
      const memoryMiB = h.size.memoryGiB * GiB;
      const reservedMemoryMiB = h.size.reservedGiB * GiB;
      const vmCount = Object.values(h.groups).reduce((s, n) => s + n, 0);
      return {
        id: `h${index}`,
        name: `hv-${String(index).padStart(2, '0')}`,
        clusterId: 'c1',
        state: h.state,
        logicalProcessors: h.size.lps,
        memoryMiB,
        numaNodes: 2,
        reservedMemoryMiB,
        allocated: {
          vcpus: Math.floor(h.vcpuFill * h.size.lps * 2),
          memoryMiB: Math.floor((h.memoryFill * (memoryMiB - reservedMemoryMiB)) / GiB) * GiB,
          vmCount,
        },
        storagePools: h.pools.map((p) => ({
          name: p.name,
          capacityBytes: p.capacityGiB * 2 ** 30,
          allocatedBytes: Math.floor(p.fill * p.capacityGiB) * 2 ** 30,
          ...(p.kind === undefined ? {} : { kind: p.kind }),
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

const sizeArb = fc.record({
  lps: fc.constantFrom(2, 4, 8, 16),
  memoryGiB: fc.constantFrom(8, 16, 32, 64),
  reservedGiB: fc.integer({ min: 0, max: 2 }),
});

const clusterArb: fc.Arbitrary<ClusterSnapshot> = fc
  .record({
    hostCount: fc.integer({ min: 0, max: 14 }),
    // One to three sizes (indexed searches) or up to twelve (scans).
    sizes: fc.oneof(
      fc.array(sizeArb, { minLength: 1, maxLength: 3 }),
      fc.array(sizeArb, { minLength: 1, maxLength: 12 }),
    ),
    policy: fc.constantFrom('balance', 'pack' as const),
    // Small limits now and then, so the cluster limit is reached mid-sequence.
    maxVms: fc.constantFrom(4000, 4000, 60, 12),
  })
  .chain(({ hostCount, sizes, policy, maxVms }) =>
    fc.tuple(...Array.from({ length: hostCount }, (_, i) => hostArb(i, sizes))).map(
      (hosts): ClusterSnapshot => ({
        id: 'c1',
        name: 'cluster-1',
        maxVms,
        vmCount: Math.min(
          maxVms,
          hosts.reduce((s, h) => s + h.allocated.vmCount, 0),
        ),
        cpuOvercommitRatio: 2,
        policy,
        hosts,
      }),
    ),
  );

const requestArb: fc.Arbitrary<PlacementRequest> = fc.record({
  name: fc.constantFrom('vm-a', 'vm-b', 'vm-c'),
  tenantId: fc.constantFrom('t1', 't2', 't3'),
  vcpus: fc.constantFrom(1, 1, 2, 4, 8, 20),
  memoryMiB: fc.constantFrom(512, 1024, 2048, 4096, 8192, 24_576),
  disks: fc
    .array(
      fc.record({
        sizeBytes: fc.integer({ min: 0, max: 600 }).map((g) => g * 2 ** 30),
        pool: fc.option(fc.constantFrom(...POOLS), { nil: undefined, freq: 3 }),
      }),
      { maxLength: 2 },
    )
    .map((disks) => disks.map((d) => (d.pool === undefined ? { sizeBytes: d.sizeBytes } : d))),
  nics: fc
    .array(fc.option(fc.constantFrom(0, 100, 500, 2_000), { nil: undefined }), { maxLength: 2 })
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

type Step =
  /** commit 'later': after the next step, when the decision may be stale (the commit checks again). */
  | { kind: 'place'; request: PlacementRequest; commit: 'now' | 'later' | 'no'; overrides: Partial<PlaceOptions> }
  | { kind: 'release'; pick: number }
  | { kind: 'move'; pick: number; to: number };

const overridesArb: fc.Arbitrary<Partial<PlaceOptions>> = fc.constantFrom(
  {},
  {},
  { trace: 'full' as const },
  { trace: 'summary' as const },
  { trace: 'summary' as const, candidateLimit: 1 },
  { trace: 'summary' as const, candidateLimit: 3, topCandidates: 2 },
  { trace: 'summary' as const, candidateLimit: 100 },
  { trace: 'summary' as const, topCandidates: 0 },
  { trace: 'summary' as const, candidateLimit: 4, topCandidates: 20 },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('place' as const),
      request: requestArb,
      commit: fc.constantFrom('now', 'now', 'later', 'no' as const),
      overrides: overridesArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), to: fc.nat() }) },
);

interface Placed {
  request: PlacementRequest;
  hostId: string;
  assignment: Assignment;
}

/** Runs `act` on both sessions: both return equal values, or both throw the same message. */
function same<T>(optimised: () => T, reference: () => T): T | undefined {
  let expected: { value: T } | { error: string };
  try {
    expected = { value: reference() };
  } catch (error) {
    expected = { error: (error as Error).message };
  }
  let actual: { value: T } | { error: string };
  try {
    actual = { value: optimised() };
  } catch (error) {
    actual = { error: (error as Error).message };
  }
  expect(actual).toEqual(expected);
  // Key order too: decisions are stored and shown as JSON.
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  return 'value' in actual ? actual.value : undefined;
}

/** Replays `steps` on both sessions, comparing every answer and, at the end, the books. */
function replay(cluster: ClusterSnapshot, options: PlaceOptions, steps: readonly Step[]): void {
  const session = new PlacementSession(cluster, options);
  const reference = new ReferencePlacementSession(cluster, options);
  const placed: Placed[] = [];
  const commit = (request: PlacementRequest, hostId: string) => {
    const assignment = same(
      () => session.commit(request, hostId),
      () => reference.commit(request, hostId),
    );
    if (assignment) placed.push({ request, hostId, assignment });
  };
  let later: { request: PlacementRequest; hostId: string } | null = null;
  for (const step of steps) {
    const pending = later;
    later = null;
    if (step.kind === 'place') {
      const decision = same(
        () => session.place(step.request, step.overrides),
        () => reference.place(step.request, step.overrides),
      );
      if (decision?.hostId && step.commit === 'now') commit(step.request, decision.hostId);
      if (decision?.hostId && step.commit === 'later') later = { request: step.request, hostId: decision.hostId };
    } else if (placed.length > 0) {
      // Half the releases while a commit is pending take a VM off its host (when it has one).
      const onPending = pending && step.pick % 2 === 0 ? placed.findIndex((p) => p.hostId === pending.hostId) : -1;
      const at = onPending >= 0 ? onPending : step.pick % placed.length;
      const p = placed[at] as Placed;
      if (step.kind === 'release') {
        same(
          () => session.release(p.request, p.hostId, p.assignment),
          () => reference.release(p.request, p.hostId, p.assignment),
        );
        placed.splice(at, 1);
      } else {
        // Half the moves while a commit is pending go to its host, so the commit meets a changed host.
        const to =
          pending && step.to % 2 === 0
            ? pending.hostId
            : (cluster.hosts[step.to % Math.max(1, cluster.hosts.length)]?.id ?? 'nowhere');
        const assignment = same(
          () => session.move(p.request, p.hostId, p.assignment, to),
          () => reference.move(p.request, p.hostId, p.assignment, to),
        );
        if (assignment) placed[at] = { ...p, hostId: to, assignment };
      }
    }
    if (pending) commit(pending.request, pending.hostId);
    expect(session.utilisation()).toEqual(reference.utilisation());
  }
  expect(session.snapshot()).toEqual(reference.snapshot());
}

describe('the rewritten bookkeeping equals the previous code', () => {
  it('demandOf, assignStorage, reserveOnHost and releaseFromHost give the same values on random hosts and requests', () => {
    fc.assert(
      fc.property(hostArb(0, [{ lps: 16, memoryGiB: 64, reservedGiB: 1 }]), requestArb, (host, request) => {
        expect(demandOf(request)).toEqual(referenceDemandOf(request));
        for (const explain of [true, false]) {
          expect(assignStorage(host, request, demandOf(request), explain)).toEqual(
            referenceAssignStorage(host, request, demandOf(request), explain),
          );
        }
        const assignment = assign(host, request, demandOf(request));
        if (!assignment) return;
        expect(reserveOnHost(host, request, assignment)).toEqual(referenceReserve(host, request, assignment));
        expect(releaseFromHost(host, request, assignment)).toEqual(referenceRelease(host, request, assignment));
      }),
      { seed: 56, numRuns: 500 },
    );
  });
});

describe('the optimised session decides exactly as the reference session', () => {
  it('random clusters, both profiles, full and summary traces, places, releases and moves', () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom<Partial<PlaceOptions>>(
          {},
          { trace: 'summary' },
          { trace: 'summary', candidateLimit: 2 },
          { trace: 'summary', candidateLimit: 4, topCandidates: 1 },
          { trace: 'summary', candidateLimit: 4, profile: balanceProfile },
          { trace: 'summary', candidateLimit: 3, profile: packProfile },
        ),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        (cluster, seed, extra, steps) => replay(cluster, { seed, ...extra }, steps),
      ),
      { seed: 12, numRuns: 300 },
    );
  }, 120_000);

  it('a commit after a release on the chosen host books afresh: the roomiest pool may have changed', () => {
    const GIB_BYTES = 2 ** 30;
    const host = aHost({
      id: 'h1',
      storagePools: [
        { name: 'a', capacityBytes: 1000 * GIB_BYTES, allocatedBytes: 0 },
        { name: 'b', capacityBytes: 900 * GIB_BYTES, allocatedBytes: 0 },
      ],
    });
    const big = aRequest({ name: 'big', disks: [{ sizeBytes: 200 * GIB_BYTES }] });
    const small = aRequest({ name: 'small', disks: [{ sizeBytes: 10 * GIB_BYTES }] });
    const steps: Step[] = [
      { kind: 'place', request: big, commit: 'now', overrides: {} }, // on pool a: 800 GiB left there, 900 on b
      { kind: 'place', request: small, commit: 'later', overrides: {} }, // decided for pool b
      { kind: 'release', pick: 0 }, // a has 1,000 GiB free again: small's commit now books it on a
    ];
    replay(aCluster([host]), { seed: 1 }, steps);
    const session = new PlacementSession(aCluster([host]), { seed: 1 });
    const placedBig = session.commit(big, 'h1');
    expect(session.place(small).assignment?.diskPools).toEqual(['b']);
    session.release(big, 'h1', placedBig);
    expect(session.commit(small, 'h1').diskPools).toEqual(['a']);
  });

  it('the benchmark workloads (homogeneous hosts, many ties, pack with a candidate limit): arrivals, departures and moves', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('cpu-bound', 'memory-bound', 'mixed' as const),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 5, maxLength: 30 }),
        fc.constantFrom<Partial<PlaceOptions>>(
          { trace: 'summary', candidateLimit: 8, topCandidates: 1, profile: packProfile },
          { trace: 'summary', candidateLimit: 8, profile: balanceProfile },
          { trace: 'summary', candidateLimit: 1 },
        ),
        (shape, seed, moves, extra) => {
          const w = syntheticWorkload({ shape, seed, hosts: 40, population: 500, arrivals: 900 });
          const steps: Step[] = [];
          let m = 0;
          for (const e of w.events) {
            // Departures take a VM picked by its number (any VM alive: the sessions only see a release).
            if (e.type === 'arrive') steps.push({ kind: 'place', request: e.request, commit: 'now', overrides: {} });
            else steps.push({ kind: 'release', pick: e.vm });
            const move = moves[m++ % moves.length];
            if (move && m % 7 === 0) steps.push({ kind: 'move', pick: move[0], to: move[1] });
          }
          replay(w.cluster, { seed, ...extra }, steps);
        },
      ),
      { seed: 34, numRuns: 12 },
    );
  }, 240_000);
});
