import { describe, expect, it } from 'vitest';
import { seededRandomInt as seeded } from '../testing/seeded-random';
import { VSID_MAX, VSID_MIN } from './network';
import { drawVsid, type RandomInt, VSID_DRAWS } from './vsid';

/** The repository's answers over a set of VSIDs in use (`lowestFreeFrom` past the top is VSID_MAX + 1, as in SQL). */
function fabric(used: Set<number>) {
  return {
    inUse: async (vsid: number) => used.has(vsid),
    lowestFreeFrom: async (from: number) => {
      let v = from;
      while (used.has(v)) v++;
      return v;
    },
  };
}

/** Every VSID in use but `free`: a predicate, since the range has 16.7 M of them. */
function fullBut(free: number[]) {
  const open = new Set(free);
  return {
    inUse: async (vsid: number) => !open.has(vsid),
    lowestFreeFrom: async (from: number) => Math.min(...free.filter((v) => v >= from), VSID_MAX + 1),
  };
}

describe('VSID allocation', () => {
  it('draws VSIDs spread over the range, so consecutive creates reveal nothing of creates in between', async () => {
    const used = new Set<number>();
    const { inUse, lowestFreeFrom } = fabric(used);
    const random = seeded(13);
    for (let i = 0; i < 200; i++) used.add(await drawVsid(random, inUse, lowestFreeFrom));
    const sorted = [...used].sort((a, b) => a - b);
    expect(sorted).toHaveLength(200);
    expect(sorted[0]).toBeGreaterThanOrEqual(VSID_MIN);
    expect(sorted.at(-1)).toBeLessThanOrEqual(VSID_MAX);
    // Highest + 1 gives 199 adjacent pairs; uniform draws give one in about 400 seeds (none with this seed).
    expect(sorted.filter((v, i) => i > 0 && v - (sorted[i - 1] ?? 0) === 1)).toEqual([]);
    // Each quarter of the range holds about a quarter of them (50 ± 25: four standard deviations each way).
    const quarter = (VSID_MAX - VSID_MIN + 1) / 4;
    for (let q = 0; q < 4; q++) {
      const inQuarter = sorted.filter((v) => Math.floor((v - VSID_MIN) / quarter) === q).length;
      expect(inQuarter).toBeGreaterThan(25);
      expect(inQuarter).toBeLessThan(75);
    }
  });

  it('draws again when a draw is in use', async () => {
    const draws = [5000, 6000, 7000];
    const random: RandomInt = () => draws.shift() ?? 0;
    const { inUse, lowestFreeFrom } = fabric(new Set([5000, 6000]));
    expect(await drawVsid(random, inUse, lowestFreeFrom)).toBe(7000);
  });

  it(`in a nearly full range, after ${VSID_DRAWS} collisions, takes the first free VSID after a random point, wrapping round`, async () => {
    const { inUse, lowestFreeFrom } = fullBut([4100, 9_000_000]);
    const at = (start: number): RandomInt => {
      let n = 0;
      return () => (++n <= VSID_DRAWS ? 5000 : start);
    };
    expect(await drawVsid(at(8_000_000), inUse, lowestFreeFrom)).toBe(9_000_000);
    expect(await drawVsid(at(10_000_000), inUse, lowestFreeFrom)).toBe(4100);
    expect(await drawVsid(at(VSID_MIN), inUse, lowestFreeFrom)).toBe(4100);
  });

  it('refuses when every VSID is in use, naming the rule and nothing of who holds them', async () => {
    const { inUse, lowestFreeFrom } = fullBut([]);
    await expect(drawVsid(seeded(1), inUse, lowestFreeFrom)).rejects.toThrow(
      'Every VSID 4096–16777214 is in use (rule POOL_EXHAUSTED)',
    );
  });
});
