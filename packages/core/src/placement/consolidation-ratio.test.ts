/**
 * Issue 12: "with consolidation by migration stay within 1.03× of the lower
 * bound after a rebalance round". The synthetic workloads (arrivals and
 * departures, CPU-bound, memory-bound, mixed; seeds 1–3) are replayed on 100
 * hosts with the engine's pack, and every 200 events of the steady state a
 * consolidation round is planned on the current state and applied
 * (testing/consolidation-replay.ts). Counts of hosts: deterministic.
 *
 * At 100 hosts (20–55 in use) one host is 2–5 % of the lower bound, so pack
 * alone is above 1.03× at some instants (departures leave holes); at 300 hosts
 * and more it stays under 1.03× without migration (packing.test.ts,
 * bench/migration.bench.ts), which tests nothing here.
 *
 * On 64 hosts (a cluster's default limit) the same rounds of 100 moves leave
 * one instant of 234 at 21 hosts for a lower bound of 20 (mixed, seed 3): no
 * single host can be emptied onto the others without first moving VMs between
 * the hosts that stay, which the rebalancer does not try; `npm run bench --
 * rebalance` prints both sizes.
 *
 * The ceiling is 100 %: measured memory is the VM's size (static memory, as
 * the agent reports it), so under the default 80 % consolidation fills no host
 * past 80 % of its memory: on its own it cannot bring a memory-bound cluster
 * nearer than 1.25× the lower bound, and on hosts pack filled past 80 % it
 * moves nothing (bench/rebalance.bench.ts prints the default ceiling too).
 */
import { describe, expect, it } from 'vitest';
import { type Placed, replayWithConsolidation, type SnapshotFigures, violations } from './testing/consolidation-replay';
import { syntheticWorkload, type WorkloadShape } from './testing/synthetic-workload';

const SHAPES: WorkloadShape[] = ['cpu-bound', 'memory-bound', 'mixed'];
const SEEDS = [1, 2, 3];
const CASES = SHAPES.flatMap((shape) => SEEDS.map((seed) => [shape, seed] as const));

function replay(shape: WorkloadShape, seed: number, maxMovesPerRound: number): SnapshotFigures[] {
  const w = syntheticWorkload({ shape, seed, hosts: 100, population: 1200 });
  return replayWithConsolidation(w, {
    everyEvents: 200,
    settings: { consolidationMaxLoadPercent: 100, maxMovesPerRound },
  });
}

/** No hard anti-affinity pair on one host, no host over its vCPUs or memory, no more hosts than before, the cap kept. */
function expectSafeAndNoWorse(rounds: readonly SnapshotFigures[], cap: number): void {
  expect(rounds.length).toBeGreaterThan(20);
  for (const r of rounds) {
    expect(r.violations).toEqual([]);
    expect(r.round.hostsInUse).toBeLessThanOrEqual(r.hostsBefore);
    expect(r.round.moves).toBeLessThanOrEqual(cap);
  }
}

describe('consolidation by migration on arrivals and departures (100 hosts, a round every 200 events)', () => {
  it.each(CASES)(
    '%s, seed %i: one round of at most 100 moves leaves every instant within 1.03× of the lower bound',
    (shape, seed) => {
      const rounds = replay(shape, seed, 100);
      expectSafeAndNoWorse(rounds, 100);
      for (const r of rounds) expect(r.round.hostsInUse / r.lowerBound).toBeLessThanOrEqual(1.03);
      // Not vacuous: rounds freed hosts (pack alone reached 1.03–1.11× before some rounds).
      expect(rounds.some((r) => r.round.hostsInUse < r.hostsBefore)).toBe(true);
    },
    120_000,
  );

  it.each(CASES)(
    '%s, seed %i: at the default cap of 10 moves, hosts in use after a round average within 1.03× of the lower bound',
    (shape, seed) => {
      const rounds = replay(shape, seed, 10);
      expectSafeAndNoWorse(rounds, 10);
      const mean = rounds.reduce((s, r) => s + r.round.hostsInUse / r.lowerBound, 0) / rounds.length;
      expect(mean).toBeLessThanOrEqual(1.03);
      // A host of 40 small VMs needs four rounds of 10 moves: no instant-by-instant promise at this cap.
      expect(rounds.some((r) => r.round.moves > 0)).toBe(true);
    },
    120_000,
  );

  it('the safety check itself finds a hard anti-affinity pair on one host and a host over its vCPUs or memory', () => {
    const w = syntheticWorkload({ shape: 'mixed', seed: 1, hosts: 2, population: 10 });
    const vm = (name: string, hostId: string, vcpus: number, memoryGiB: number, pair?: string): [string, Placed] => [
      name,
      {
        request: {
          vmId: name,
          name,
          tenantId: 't',
          vcpus,
          memoryMiB: memoryGiB * 1024,
          disks: [],
          nics: [],
          groups: pair ? [{ name: pair, kind: 'anti-affinity', hard: true }] : [],
          haPriority: 'off',
        },
        hostId,
        assignment: { diskPools: [], nicNames: [] },
        cpuShare: 0.1,
      },
    ];
    expect(violations(w, new Map([vm('a', 'host-0', 2, 8, 'p'), vm('b', 'host-1', 2, 8, 'p')]))).toEqual([]);
    expect(violations(w, new Map([vm('a', 'host-0', 2, 8, 'p'), vm('b', 'host-0', 2, 8, 'p')]))).toEqual([
      'p twice on host-0',
    ]);
    expect(violations(w, new Map([vm('a', 'host-0', 100, 8), vm('b', 'host-0', 29, 8)]))).toHaveLength(1);
    expect(violations(w, new Map([vm('a', 'host-0', 2, 500), vm('b', 'host-0', 2, 13)]))).toHaveLength(1);
  });
});
