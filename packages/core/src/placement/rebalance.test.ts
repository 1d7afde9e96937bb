import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIB } from '../shared/units';
import { PlacementSession } from './place';
import { imbalanceOf, planRebalance, type RebalanceInput, type RebalanceVm } from './rebalance';
import {
  DEFAULT_REBALANCE_SETTINGS,
  type RebalanceSettings,
  rebalanceSettingsPatchSchema,
} from './rebalance-settings.schema';
import type { GroupMembership, HostSnapshot } from './snapshot';
import { aCluster, aHost, aRequest } from './testing/builders';

/** Hosts of 16 LPs at 2,000 MHz (32,000 MHz) and 66 GiB (64 GiB usable after the 2 GiB reserve). */
const HOST_MHZ = 2000;
const CPU_CAP = 16 * HOST_MHZ;
const MEM_CAP = 64 * 1024;

interface VmSpec {
  name: string;
  host: string;
  /** Measured CPU as a share of the host (0–1); memory load follows `mem` (share of the host) or 0. */
  cpu: number;
  mem?: number;
  vcpus?: number;
  memoryMiB?: number;
  groups?: GroupMembership[];
  state?: string;
  unmeasured?: boolean;
}

/** A cluster whose allocations are exactly its VMs' (committed through a session, as the API's snapshot is). */
function scenario(hostNames: string[], specs: VmSpec[], settings: Partial<RebalanceSettings> = {}, rounds = 99) {
  const empty = aCluster(hostNames.map((id) => aHost({ id, name: id, logicalProcessors: 16, memoryMiB: 66 * 1024 })));
  const session = new PlacementSession(empty, { seed: 1 });
  const vms: RebalanceVm[] = specs.map((s) => {
    const request = aRequest({
      vmId: s.name,
      name: s.name,
      vcpus: s.vcpus ?? 2,
      memoryMiB: s.memoryMiB ?? 2048,
      groups: s.groups ?? [],
    });
    session.commit(request, s.host);
    return {
      request,
      hostId: s.host,
      state: s.state ?? 'running',
      load: s.unmeasured ? null : { cpuMhz: s.cpu * CPU_CAP, memoryMiB: (s.mem ?? 0) * MEM_CAP },
    };
  });
  const input: RebalanceInput = {
    cluster: session.snapshot(),
    vms,
    hostCpuMhz: Object.fromEntries(hostNames.map((h) => [h, HOST_MHZ])),
    settings: { ...DEFAULT_REBALANCE_SETTINGS, holdRounds: 1, ...settings },
    roundsTriggered: rounds,
  };
  return input;
}

/** n VMs of `each` CPU share on `host`. */
function many(host: string, n: number, each: number, prefix = host): VmSpec[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}-vm${i}`, host, cpu: each }));
}

describe('planRebalance: hysteresis', () => {
  it('moves nothing while the imbalance is not above the threshold, and moves once it is', () => {
    // Loads 0.40 / 0.35 / 0.25: imbalance 0.187.
    const calm = scenario(['a', 'b', 'c'], [...many('a', 8, 0.05), ...many('b', 7, 0.05), ...many('c', 5, 0.05)], {
      threshold: 0.2,
    });
    const plan = planRebalance(calm);
    expect(plan.imbalanceBefore).toBeCloseTo(0.187, 3);
    expect(plan).toMatchObject({ triggered: false, acting: false, roundsTriggered: 0, moves: [] });
    expect(plan.summary).toMatch(/not above the threshold 0\.20/);
    // The same cluster under a lower threshold: it acts, a → c, and 0.35 / 0.35 / 0.30 leaves no move worth it.
    const acting = planRebalance({ ...calm, settings: { ...calm.settings, threshold: 0.15 } });
    expect(acting.moves).toHaveLength(1);
    expect(acting.moves[0]).toMatchObject({ fromHostId: 'a', toHostId: 'c' });
    expect(acting.imbalanceAfter).toBeCloseTo(0.071, 3);
    expect(acting.imbalanceAfter).toBeLessThan(acting.imbalanceBefore);
  });

  it('holds for holdRounds rounds in a row before proposing, and a calm round resets the count', () => {
    const base = scenario(['a', 'b'], [...many('a', 6, 0.1), ...many('b', 1, 0.1)], { holdRounds: 3 }, 0);
    const r1 = planRebalance(base);
    expect(r1).toMatchObject({ triggered: true, acting: false, roundsTriggered: 1, moves: [] });
    expect(r1.summary).toMatch(/Holding: .* for 1 of 3 rounds/);
    const r2 = planRebalance({ ...base, roundsTriggered: r1.roundsTriggered });
    expect(r2).toMatchObject({ acting: false, roundsTriggered: 2, moves: [] });
    const r3 = planRebalance({ ...base, roundsTriggered: r2.roundsTriggered });
    expect(r3).toMatchObject({ acting: true, roundsTriggered: 3 });
    expect(r3.moves.length).toBeGreaterThan(0);
    // A round under the threshold puts the counter back to 0, whatever it was.
    const calm = scenario(['a', 'b'], [...many('a', 3, 0.1), ...many('b', 3, 0.1)], { holdRounds: 3 }, 2);
    expect(planRebalance(calm)).toMatchObject({ triggered: false, roundsTriggered: 0, moves: [] });
    // "Plan now" previews ignore the hold.
    expect(planRebalance({ ...base, ignoreHold: true }).moves.length).toBeGreaterThan(0);
  });

  it('proposes only moves that close at least minImprovement of the load gap between their two hosts', () => {
    // a: 0.45 in three VMs, b: 0.30, c: 0.25; moves are worth different amounts.
    const specs: VmSpec[] = [
      { name: 'big', host: 'a', cpu: 0.25 },
      { name: 'mid', host: 'a', cpu: 0.15 },
      { name: 'tiny', host: 'a', cpu: 0.05 },
      ...many('b', 3, 0.1),
      ...many('c', 5, 0.05),
    ];
    for (const minImprovement of [0, 0.02, 0.1, 0.3]) {
      const plan = planRebalance(scenario(['a', 'b', 'c'], specs, { threshold: 0.05, minImprovement }));
      for (const m of plan.moves) {
        const gap = m.fromLoadBefore - m.toLoadBefore;
        const closed = (gap - Math.abs(m.fromLoadAfter - m.toLoadAfter)) / gap;
        expect(closed).toBeGreaterThanOrEqual(minImprovement - 1e-9);
        expect(m.imbalanceAfter).toBeLessThan(m.imbalanceBefore);
      }
    }
    // A margin no move can meet: nothing moves, and the summary says why.
    const strict = planRebalance(scenario(['a', 'b', 'c'], specs, { threshold: 0.05, minImprovement: 0.9 }));
    expect(strict).toMatchObject({ triggered: true, acting: false, moves: [] });
    expect(strict.summary).toMatch(/no move lowers the imbalance while closing 90 % of the gap/);
    const lenient = planRebalance(scenario(['a', 'b', 'c'], specs, { threshold: 0.05, minImprovement: 0.02 }));
    expect(lenient.moves.length).toBeGreaterThan(0);
  });

  it('stops at the cap of moves per round and says so', () => {
    const input = scenario(['a', 'b', 'c', 'd'], many('a', 20, 0.04), { maxMovesPerRound: 3, minImprovement: 0 });
    const plan = planRebalance(input);
    expect(plan.moves).toHaveLength(3);
    expect(plan.summary).toMatch(/cap of 3 moves per round/);
    expect(new Set(plan.moves.map((m) => m.vmId)).size).toBe(3);
    const more = planRebalance({ ...input, settings: { ...input.settings, maxMovesPerRound: 100 } });
    expect(more.moves.length).toBeGreaterThan(3);
    expect(more.imbalanceAfter).toBeLessThan(plan.imbalanceAfter);
  });
});

describe('planRebalance: measured load, not allocation', () => {
  it('moves from the host that is busy, though both reserve the same', () => {
    // Same VMs reserved on each host (4 × 2 vCPU / 2 GiB); only a's are busy.
    const plan = planRebalance(
      scenario(['a', 'b'], [...many('a', 4, 0.2), ...many('b', 4, 0.01)], { threshold: 0.05, minImprovement: 0 }),
    );
    expect(plan.hostsBefore.map((h) => h.load)).toEqual([expect.closeTo(0.8, 5), expect.closeTo(0.04, 5)]);
    expect(plan.moves.length).toBeGreaterThan(0);
    expect(plan.moves[0]).toMatchObject({ fromHostId: 'a', toHostId: 'b' });
    // The busy VMs only ever go a → b (b's idle ones may go the other way to even the last few percent).
    const busyMoves = plan.moves.filter((m) => m.vmName.startsWith('a-'));
    expect(busyMoves.every((m) => m.fromHostId === 'a' && m.toHostId === 'b')).toBe(true);
    expect(plan.imbalanceAfter).toBeLessThan(0.1);
  });

  it('leaves alone hosts whose reservations differ but whose measured load is even', () => {
    const plan = planRebalance(
      scenario(['a', 'b'], [...many('a', 8, 0.05), { name: 'b-vm0', host: 'b', cpu: 0.4, vcpus: 4 }]),
    );
    expect(plan.imbalanceBefore).toBeCloseTo(0, 5);
    expect(plan.moves).toEqual([]);
  });

  it('leaves a nearly idle cluster alone, however uneven (the imbalance of near-zero loads is noise)', () => {
    const idle = planRebalance(scenario(['a', 'b', 'c'], [...many('a', 2, 0.005)]));
    // The spread of 1 % / 0 % / 0 % is √2, but an idle cluster reads as balanced: not "imbalance 1.41".
    expect(idle).toMatchObject({ triggered: false, moves: [], imbalanceBefore: 0, imbalanceAfter: 0 });
    expect(idle.summary).toMatch(/Idle enough: the busiest host is at 1 % measured load \(under 2 %\)/);
    const busy = planRebalance(scenario(['a', 'b', 'c'], [...many('a', 2, 0.05)]));
    expect(busy.triggered).toBe(true);
    expect(busy.moves.length).toBeGreaterThan(0);
  });

  it('reads a cluster with no measured load as balanced, not "imbalance 2.00 → 2.00"', () => {
    // Five hosts, one VM idling at 0.1 %: every host shows 0 %, the raw spread is 2.0.
    const whisper = planRebalance(
      scenario(['a', 'b', 'c', 'd', 'e'], [{ name: 'v', host: 'a', cpu: 0.001 }], { threshold: 0.3 }),
    );
    expect(whisper).toMatchObject({ imbalanceBefore: 0, imbalanceAfter: 0, triggered: false, moves: [] });
    const none = planRebalance(scenario(['a', 'b', 'c'], [{ name: 'v', host: 'a', cpu: 0 }]));
    expect(none).toMatchObject({ imbalanceBefore: 0, imbalanceAfter: 0, moves: [] });
    expect(none.summary).toBe('No load measured yet: every host is at 0 % measured load; balanced, nothing moves');
  });

  it('counts unmeasured VMs as no load and reports them', () => {
    const plan = planRebalance(
      scenario(['a', 'b'], [...many('a', 2, 0.2), { name: 'new', host: 'b', cpu: 0, unmeasured: true }]),
    );
    expect(plan.unmeasuredVms).toBe(1);
    expect(plan.moves.map((m) => m.vmName)).not.toContain('new');
  });
});

describe('planRebalance: never breaks placement rules', () => {
  const anti = (name: string): GroupMembership => ({ name, kind: 'anti-affinity', hard: true });
  const affinity = (name: string, hard = true): GroupMembership => ({ name, kind: 'affinity', hard });

  it('never puts two VMs of a hard anti-affinity group on one host', () => {
    // a is hot; its web VMs are the only ones worth moving, and b already runs web.
    const plan = planRebalance(
      scenario(
        ['a', 'b'],
        [
          { name: 'web-1', host: 'a', cpu: 0.4, groups: [anti('web')] },
          { name: 'web-2', host: 'b', cpu: 0.05, groups: [anti('web')] },
          { name: 'db-1', host: 'a', cpu: 0.3 },
        ],
      ),
    );
    expect(plan.moves.map((m) => m.vmName)).not.toContain('web-1');
    expect(plan.moves.map((m) => m.vmName)).toContain('db-1');
  });

  it('never splits a hard affinity group, and keeps soft groups too', () => {
    const plan = planRebalance(
      scenario(
        ['a', 'b'],
        [
          { name: 'app-1', host: 'a', cpu: 0.3, groups: [affinity('app')] },
          { name: 'app-2', host: 'a', cpu: 0.3, groups: [affinity('app')] },
          { name: 'cache-1', host: 'a', cpu: 0.2, groups: [affinity('cache', false)] },
          { name: 'cache-2', host: 'a', cpu: 0.1, groups: [affinity('cache', false)] },
        ],
      ),
    );
    expect(plan.triggered).toBe(true);
    expect(plan.moves).toEqual([]);
    expect(plan.summary).toMatch(/refused by placement/);
  });

  it('never over-commits a target: a host without room for the VM is not chosen', () => {
    // b is idle but its memory is fully reserved by a VM that measures almost nothing.
    const plan = planRebalance(
      scenario(
        ['a', 'b', 'c'],
        [
          { name: 'busy', host: 'a', cpu: 0.5, memoryMiB: 8192 },
          { name: 'quiet', host: 'a', cpu: 0.3 },
          { name: 'hog', host: 'b', cpu: 0.01, memoryMiB: 62 * 1024 },
          { name: 'c-vm', host: 'c', cpu: 0.2 },
        ],
      ),
    );
    expect(plan.moves.length).toBeGreaterThan(0);
    expect(plan.moves.some((m) => m.vmName === 'busy' && m.toHostId === 'b')).toBe(false);
  });

  it('for any cluster and groups, the planned moves commit on a fresh session and keep every hard group', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            host: fc.constantFrom('a', 'b', 'c', 'd'),
            cpu: fc.double({ min: 0, max: 0.3, noNaN: true }),
            memoryMiB: fc.constantFrom(1024, 4096, 16384),
            group: fc.constantFrom(null, 'x', 'y'),
            kind: fc.constantFrom<'affinity' | 'anti-affinity'>('affinity', 'anti-affinity'),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (rows, minImprovement) => {
          // Build only what placement admits (a generated row that breaks a group or capacity is skipped).
          const empty = aCluster(
            ['a', 'b', 'c', 'd'].map((id) => aHost({ id, logicalProcessors: 16, memoryMiB: 66 * 1024 })),
          );
          const session = new PlacementSession(empty, { seed: 1 });
          const specs: VmSpec[] = [];
          rows.forEach((r, i) => {
            const groups = r.group ? [{ name: `${r.kind}-${r.group}`, kind: r.kind, hard: true }] : [];
            const request = aRequest({ vmId: `v${i}`, name: `v${i}`, memoryMiB: r.memoryMiB, groups });
            try {
              session.commit(request, r.host);
              specs.push({ name: `v${i}`, host: r.host, cpu: r.cpu, memoryMiB: r.memoryMiB, groups });
            } catch {
              // not admitted
            }
          });
          const input = scenario(['a', 'b', 'c', 'd'], specs, { threshold: 0.01, minImprovement });
          const plan = planRebalance(input);
          // Replay: every move commits in order on a fresh session of the starting cluster.
          const replay = new PlacementSession(input.cluster, { seed: 2 });
          const where = new Map(specs.map((s) => [s.name, s.host]));
          for (const m of plan.moves) {
            const vm = input.vms.find((v) => v.request.vmId === m.vmId);
            if (!vm) throw new Error('unknown VM');
            expect(where.get(m.vmName)).toBe(m.fromHostId);
            const host = replay.host(m.fromHostId) as HostSnapshot;
            replay.release(vm.request, m.fromHostId, {
              diskPools: vm.request.disks.map(() => host.storagePools[0]?.name ?? ''),
              nicNames: vm.request.nics.map(() => null),
            });
            replay.commit(vm.request, m.toHostId);
            where.set(m.vmName, m.toHostId);
          }
          for (const group of ['anti-affinity-x', 'anti-affinity-y']) {
            const members = specs.filter((s) => s.groups?.some((g) => g.name === group));
            const hostsUsed = members.map((s) => where.get(s.name));
            expect(new Set(hostsUsed).size).toBe(hostsUsed.length);
          }
          for (const group of ['affinity-x', 'affinity-y']) {
            const members = specs.filter((s) => s.groups?.some((g) => g.name === group));
            expect(new Set(members.map((s) => where.get(s.name))).size).toBeLessThanOrEqual(1);
          }
          // Every move helps by the margin, and no VM moves twice.
          expect(new Set(plan.moves.map((m) => m.vmId)).size).toBe(plan.moves.length);
          for (const m of plan.moves) expect(m.imbalanceAfter).toBeLessThan(m.imbalanceBefore);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('planRebalance: consolidation', () => {
  it('empties the least-loaded host when the others can take its VMs, and lists it for power-off', () => {
    const plan = planRebalance(
      scenario(['a', 'b', 'c'], [...many('a', 5, 0.1), ...many('b', 4, 0.1), ...many('c', 2, 0.05)], {
        goal: 'consolidate',
      }),
    );
    expect(plan.acting).toBe(true);
    expect(plan.moves.map((m) => m.fromHostId)).toEqual(['c', 'c']);
    expect(plan.powerOffCandidates).toEqual([{ hostId: 'c', hostName: 'c' }]);
    const after = new Map(plan.hostsAfter.map((h) => [h.hostId, h]));
    expect(after.get('c')?.vmCount).toBe(0);
    // Under the ceiling (80 %) everywhere.
    for (const h of plan.hostsAfter) expect(h.load).toBeLessThanOrEqual(0.8 + 1e-9);
    // Said once, by powerOffCandidates (the page's own line), not again in the summary above it.
    expect(plan.summary).not.toMatch(/powered off/i);
  });

  it('empties nothing when the others cannot take the load under the ceiling, and says which VM does not fit', () => {
    const plan = planRebalance(
      scenario(['a', 'b', 'c'], [...many('a', 7, 0.1), ...many('b', 7, 0.1), ...many('c', 3, 0.1)], {
        goal: 'consolidate',
      }),
    );
    expect(plan).toMatchObject({ triggered: false, acting: false, moves: [], powerOffCandidates: [] });
    expect(plan.summary).toMatch(/no host can be emptied .*fits on no other host under 80 % measured load/);
    // The same load with a ceiling of 100 %: c empties.
    const full = planRebalance(
      scenario(['a', 'b', 'c'], [...many('a', 7, 0.1), ...many('b', 7, 0.1), ...many('c', 3, 0.1)], {
        goal: 'consolidate',
        consolidationMaxLoadPercent: 100,
      }),
    );
    expect(full.powerOffCandidates.map((h) => h.hostId)).toEqual(['c']);
  });

  it('a host with a VM that cannot move is skipped for the next one', () => {
    const plan = planRebalance(
      scenario(
        ['a', 'b', 'c'],
        [...many('a', 7, 0.1), { name: 'stuck', host: 'b', cpu: 0.01, state: 'creating' }, ...many('c', 2, 0.05)],
        { goal: 'consolidate' },
      ),
    );
    expect(plan.powerOffCandidates.map((h) => h.hostId)).toEqual(['c']);
  });

  it('under the cap, empties a host over several rounds and says how many VMs are left', () => {
    // a cannot be emptied (a VM being created), so b, which needs 5 moves, starts under a cap of 3.
    const plan = planRebalance(
      scenario(
        ['a', 'b'],
        [...many('a', 2, 0.1), { name: 'a-new', host: 'a', cpu: 0.01, state: 'creating' }, ...many('b', 5, 0.01)],
        { goal: 'consolidate', maxMovesPerRound: 3 },
      ),
    );
    expect(plan.moves).toHaveLength(3);
    expect(plan.draining).toEqual({ hostId: 'b', hostName: 'b', vmsLeft: 2 });
    expect(plan.powerOffCandidates).toEqual([]);
  });

  it('under the cap, first empties the hosts that fit in the round, then drains a larger one with the moves left', () => {
    // b is the least loaded but needs 5 moves; a, more loaded, needs 2: a cap of 3 empties a and nothing is drained
    // (b took a's VMs, and a host that took VMs this round stays on).
    const two = planRebalance(
      scenario(['a', 'b'], [...many('a', 2, 0.1), ...many('b', 5, 0.01)], { goal: 'consolidate', maxMovesPerRound: 3 }),
    );
    expect(two.moves.map((m) => `${m.fromHostId}→${m.toHostId}`)).toEqual(['a→b', 'a→b']);
    expect(two.powerOffCandidates).toEqual([{ hostId: 'a', hostName: 'a' }]);
    expect(two.draining).toBeNull();
    // a (5 moves) waits while b (2 moves) is emptied onto c; a then takes the 2 moves left of the cap of 4.
    const three = planRebalance(
      scenario(['a', 'b', 'c'], [...many('a', 5, 0.005), ...many('b', 2, 0.02), ...many('c', 7, 0.1)], {
        goal: 'consolidate',
        maxMovesPerRound: 4,
      }),
    );
    expect(three.moves.map((m) => `${m.fromHostId}→${m.toHostId}`)).toEqual(['b→c', 'b→c', 'a→c', 'a→c']);
    expect(three.powerOffCandidates).toEqual([{ hostId: 'b', hostName: 'b' }]);
    expect(three.draining).toEqual({ hostId: 'a', hostName: 'a', vmsLeft: 3 });
  });
});

describe('planRebalance: consolidation reads in hosts in use', () => {
  it('an idle cluster consolidates with the summary and the rows on one measure: hosts in use, and the same imbalance', () => {
    // Two VMs idling at 0.5 % on a and b: the raw spread of the rows was 0.707 → 1.414 under a summary of 0.00 → 0.00.
    const plan = planRebalance(
      scenario(
        ['a', 'b', 'c'],
        [
          { name: 'v1', host: 'a', cpu: 0.005 },
          { name: 'v2', host: 'b', cpu: 0.005 },
        ],
        {
          goal: 'consolidate',
        },
      ),
    );
    expect(plan.acting).toBe(true);
    expect(plan).toMatchObject({ hostsInUseBefore: 2, hostsInUseAfter: 1 });
    expect(plan.summary).toBe('1 move: hosts in use 2 → 1, 1 freed');
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0]).toMatchObject({ hostsInUseBefore: 2, hostsInUseAfter: 1 });
    // The rows' imbalance is the round's: an idle cluster is 0 both ways, not 0.707 → 1.414.
    expect(plan.moves[0]?.imbalanceBefore).toBe(plan.imbalanceBefore);
    expect(plan.moves[0]?.imbalanceAfter).toBe(plan.imbalanceAfter);
  });

  it('rows chain their hosts in use, and a busy round keeps its imbalance in the rows equal to the summary', () => {
    const plan = planRebalance(
      scenario(['a', 'b', 'c'], [...many('a', 5, 0.1), ...many('b', 2, 0.05), ...many('c', 2, 0.05)], {
        goal: 'consolidate',
      }),
    );
    expect(plan.moves.length).toBeGreaterThan(1);
    plan.moves.forEach((m, i) => {
      if (i > 0) expect(m.hostsInUseBefore).toBe(plan.moves[i - 1]?.hostsInUseAfter);
    });
    expect(plan.moves[0]?.hostsInUseBefore).toBe(plan.hostsInUseBefore);
    expect(plan.moves.at(-1)?.hostsInUseAfter).toBe(plan.hostsInUseAfter);
    expect(plan.moves[0]?.imbalanceBefore).toBeCloseTo(plan.imbalanceBefore, 9);
    expect(plan.moves.at(-1)?.imbalanceAfter).toBeCloseTo(plan.imbalanceAfter, 9);
    expect(plan.summary).toMatch(/^\d+ moves: hosts in use 3 → \d, \d freed$/);
  });

  it('says a VM stays because every other host is already empty, not that it fits nowhere under the ceiling', () => {
    const plan = planRebalance(
      scenario(['hv-1', 'hv-2', 'hv-3', 'hv-4', 'hv-5'], [{ name: 'dr-web-01', host: 'hv-5', cpu: 0.1 }], {
        goal: 'consolidate',
      }),
    );
    expect(plan).toMatchObject({ triggered: false, moves: [] });
    expect(plan.summary).toContain(
      'hv-5: every other connected host is already empty, and consolidation never moves a VM onto an empty host',
    );
    expect(plan.summary).not.toMatch(/fits on no other host/);
    expect(plan.summary).toMatch(/already empty: hv-1, hv-2, hv-3, hv-4$/);
  });

  it('shows each host with its state: only connected hosts take part', () => {
    const input = scenario(['a', 'b', 'c'], [...many('a', 2, 0.1)], { goal: 'consolidate' });
    const cluster = {
      ...input.cluster,
      hosts: input.cluster.hosts.map((h) =>
        h.id === 'b' ? { ...h, state: 'maintenance' as const } : h.id === 'c' ? { ...h, state: 'failed' as const } : h,
      ),
    };
    const plan = planRebalance({ ...input, cluster });
    expect(plan.hostsBefore.map((h) => [h.hostId, h.state])).toEqual([
      ['a', 'connected'],
      ['b', 'maintenance'],
      ['c', 'failed'],
    ]);
    expect(plan.moves).toEqual([]);
    expect(plan.summary).toContain('a: it is the only connected host');
  });
});

describe("planRebalance: each move's what-if", () => {
  it('carries the imbalance before and after in sequence, the bytes to send and the predicted time', () => {
    const plan = planRebalance(
      scenario(
        ['a', 'b', 'c'],
        [
          ...many('a', 6, 0.12),
          { name: 'cold', host: 'a', cpu: 0.2, state: 'off' },
          { name: 'b-vm', host: 'b', cpu: 0.1 },
        ],
        { minImprovement: 0 },
      ),
    );
    expect(plan.moves.length).toBeGreaterThan(1);
    plan.moves.forEach((m, i) => {
      expect(m.imbalanceAfter).toBeLessThan(m.imbalanceBefore);
      if (i > 0) expect(m.imbalanceBefore).toBeCloseTo(plan.moves[i - 1]?.imbalanceAfter ?? -1, 9);
      expect(m.predictedSeconds).toBeGreaterThan(0);
      if (m.live) {
        // Pre-copy sends all memory at least once, plus the dirtied pages and the device state.
        expect(m.bytesToMove).toBeGreaterThan(2048 * MIB);
        expect(m.predictedBlackoutMs).toBeGreaterThan(0);
      }
    });
    expect(plan.moves[0]?.imbalanceBefore).toBeCloseTo(plan.imbalanceBefore, 9);
    expect(plan.moves.at(-1)?.imbalanceAfter).toBeCloseTo(plan.imbalanceAfter, 9);
    expect(plan.imbalanceAfter).toBeCloseTo(imbalanceOf(plan.hostsAfter.map((h) => h.load)), 9);
    // The idle-on-paper VM that is off moves cold and sends no memory (CPU load of an off VM is stale, yet counted).
    const cold = plan.moves.find((m) => m.vmName === 'cold');
    if (cold) expect(cold).toMatchObject({ live: false, bytesToMove: 0, predictedBlackoutMs: null });
    expect(plan.totalBytesToMove).toBe(plan.moves.reduce((s, m) => s + m.bytesToMove, 0));
  });
});

describe('rebalance settings', () => {
  it('refuse out-of-range values with messages that name the limit', () => {
    const r = rebalanceSettingsPatchSchema.safeParse({ intervalMinutes: 0, holdRounds: 2.5, mode: 'sometimes' });
    expect(r.success).toBe(false);
    const messages = r.success ? [] : r.error.issues.map((i) => i.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'the interval must be at least 1 minute',
        'hold rounds must be a whole number',
        "mode must be 'off', 'recommend' or 'automatic'",
      ]),
    );
    expect(rebalanceSettingsPatchSchema.safeParse({ surprise: 1 }).success).toBe(false);
    expect(DEFAULT_REBALANCE_SETTINGS).toMatchObject({
      mode: 'off',
      intervalMinutes: 10,
      holdRounds: 3,
      threshold: 0.3,
    });
  });
});
