import { describe, expect, it } from 'vitest';
import { RANDOM_DRAWS, type RandomInt } from '../shared/random-free';
import { seededRandomInt } from '../testing/seeded-random';
import { parseMac } from './ip';
import { allocateMacs, checkMacPool, DEFAULT_MAC_POOL, MAC_SCAN_BATCH, storedMac } from './mac-pool';

const num = (mac: string) => parseMac(mac) ?? -1;

/**
 * vm_nics' MACs as the repository answers them (stored form, ascending scans
 * honouring the limit); `scans` holds each scan's row count, to see the batches.
 */
function inUse(macs: Iterable<number>) {
  const used = new Set(macs);
  const sorted = [...used].sort((x, y) => x - y);
  const scans: number[] = [];
  return {
    scans,
    has: async (mac: string) => used.has(parseMac(mac) ?? -1),
    between: async (from: string, to: string, limit: number) => {
      const [lo, hi] = [num(from), num(to)];
      const rows = sorted.filter((m) => m >= lo && m <= hi).slice(0, limit);
      scans.push(rows.length);
      return rows.map(storedMac);
    },
  };
}

const SMALL = { first: '02-00-00-00-00-00', last: '02-00-00-00-00-03' };
const S0 = 2 * 2 ** 40;

/** Collides every draw (always the in-use `at`) and starts the search at `start`. */
function colliding(at: number, start: number): RandomInt {
  let n = 0;
  return () => (++n % (RANDOM_DRAWS + 1) === 0 ? start : at);
}

describe('the fabric MAC pool', () => {
  it('draws MACs spread over the pool in the stored form, so consecutive creates reveal nothing of creates in between', async () => {
    const { first, last } = checkMacPool(DEFAULT_MAC_POOL);
    const used: number[] = [];
    const random = seededRandomInt(13);
    // 150 creates of one vNIC, one of 50: all distinct.
    for (let i = 0; i < 150; i++) used.push(...(await allocateMacs(DEFAULT_MAC_POOL, 1, random, inUse(used))).map(num));
    const batch = await allocateMacs(DEFAULT_MAC_POOL, 50, random, inUse(used));
    expect(batch[0]).toMatch(/^00:15:5D:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$/);
    used.push(...batch.map(num));
    const sorted = [...new Set(used)].sort((x, y) => x - y);
    expect(sorted).toHaveLength(200);
    expect(sorted[0]).toBeGreaterThanOrEqual(first);
    expect(sorted.at(-1)).toBeLessThanOrEqual(last);
    // Highest + 1 gives 199 adjacent pairs; uniform draws give one in about 400 seeds (none with this seed).
    expect(sorted.filter((m, i) => i > 0 && m - (sorted[i - 1] ?? 0) === 1)).toEqual([]);
    // Each quarter of the pool holds about a quarter of them (50 ± 25: four standard deviations each way).
    const quarter = (last - first + 1) / 4;
    for (let q = 0; q < 4; q++) {
      const inQuarter = sorted.filter((m) => Math.floor((m - first) / quarter) === q).length;
      expect(inQuarter).toBeGreaterThan(25);
      expect(inQuarter).toBeLessThan(75);
    }
  });

  it('draws again when a draw is in use or already drawn for the same create', async () => {
    const draws = [S0, S0 + 1, S0 + 1, S0 + 3];
    const random: RandomInt = () => draws.shift() ?? S0;
    expect(await allocateMacs(SMALL, 2, random, inUse([S0]))).toEqual(['02:00:00:00:00:01', '02:00:00:00:00:03']);
  });

  it(`in a nearly full pool, after ${RANDOM_DRAWS} collisions, takes the first free MAC after a random point, wrapping round`, async () => {
    expect(await allocateMacs(SMALL, 1, colliding(S0, S0 + 2), inUse([S0, S0 + 2, S0 + 3]))).toEqual([
      '02:00:00:00:00:01',
    ]);
    // Two wanted, two free: the second search skips the first's MAC, then wraps round.
    expect(await allocateMacs(SMALL, 2, colliding(S0, S0 + 1), inUse([S0, S0 + 2]))).toEqual([
      '02:00:00:00:00:01',
      '02:00:00:00:00:03',
    ]);
    // A 65,536-address pool with one free MAC, found across batches of the scan.
    const wide = { first: '02-00-00-00-00-00', last: '02-00-00-00-FF-FF' };
    const free = S0 + 25_000;
    const used = Array.from({ length: 65_536 }, (_, i) => S0 + i).filter((m) => m !== free);
    const fabric = inUse(used);
    expect(await allocateMacs(wide, 1, colliding(S0, S0 + 7), fabric)).toEqual([storedMac(free)]);
    expect(fabric.scans).toEqual([MAC_SCAN_BATCH, MAC_SCAN_BATCH, MAC_SCAN_BATCH]);
  });

  it("refuses when too few MACs are free, naming the pool and the rule, nobody's MACs", async () => {
    await expect(allocateMacs(SMALL, 2, seededRandomInt(1), inUse([S0, S0 + 2, S0 + 3]))).rejects.toThrow(
      'The fabric MAC pool 02-00-00-00-00-00–02-00-00-00-00-03 has fewer than 2 free address(es) (rule POOL_EXHAUSTED)',
    );
    await expect(allocateMacs(SMALL, 1, seededRandomInt(1), inUse([S0, S0 + 1, S0 + 2, S0 + 3]))).rejects.toThrow(
      /fewer than 1 free address\(es\) \(rule POOL_EXHAUSTED\)$/,
    );
    expect(await allocateMacs(SMALL, 0, seededRandomInt(1), inUse([]))).toEqual([]);
  });

  it('refuses a range that is malformed, reversed, multicast, or wider than one OUI', () => {
    expect(() => checkMacPool({ first: '00-15-5D', last: '00-15-5D-FF-FF-FF' })).toThrow(/MAC_FORMAT/);
    expect(() => checkMacPool({ first: '00-15-5D-00-00-09', last: '00-15-5D-00-00-01' })).toThrow(/before it starts/);
    expect(() => checkMacPool({ first: '01-00-5E-00-00-00', last: '01-00-5E-7F-FF-FF' })).toThrow(/MAC_UNICAST/);
    expect(() => checkMacPool({ first: '02-00-00-00-00-00', last: '02-01-00-00-00-00' })).toThrow(/at most 16,777,216/);
    expect(checkMacPool(DEFAULT_MAC_POOL).last - checkMacPool(DEFAULT_MAC_POOL).first + 1).toBe(2 ** 24);
  });
});
