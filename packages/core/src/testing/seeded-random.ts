import type { RandomInt } from '../shared/random-free';

/** A seeded generator (mulberry32) for draws of shared/random-free.ts: the same draws every run. */
export function seededRandomInt(seed: number): RandomInt {
  let a = seed;
  return (min, maxExclusive) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return min + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * (maxExclusive - min));
  };
}
