/** A uniform whole number in [min, maxExclusive) (node:crypto's randomInt in production). */
export type RandomInt = (min: number, maxExclusive: number) => number;

/**
 * Random draws tried before the free-value search. A draw collides with the
 * share of the range in use: even with half of it taken, all 16 collide once
 * in 65,536 draws, and only then is the range searched.
 */
export const RANDOM_DRAWS = 16;

/**
 * A value drawn uniformly from the free part of [min, max], for fabric-wide
 * identifiers (VSIDs, MACs) that one tenant sees and others share.
 *
 * Not "highest + 1": a tenant given two values would read from the difference
 * how many every other tenant was given in between. A uniform draw says
 * nothing about others, and a value freed by a delete comes back only by
 * chance, not at once, while hosts may still carry it. Only in a nearly full
 * range, when every draw collided, is the first free value at or after a
 * random point taken (wrapping round). `lowestFreeFrom` answers a value above
 * `max` when none is free from there. The caller holds its allocation lock,
 * so `inUse` answers stay true until it commits. `exhausted` is the refusal
 * when nothing is free: it names the range and rule, nobody's values.
 */
export async function drawFree(
  range: { min: number; max: number },
  randomInt: RandomInt,
  inUse: (value: number) => Promise<boolean>,
  lowestFreeFrom: (from: number) => Promise<number>,
  exhausted: () => Error,
): Promise<number> {
  const { min, max } = range;
  for (let i = 0; i < RANDOM_DRAWS; i++) {
    const value = randomInt(min, max + 1);
    if (!(await inUse(value))) return value;
  }
  const start = randomInt(min, max + 1);
  const after = await lowestFreeFrom(start);
  if (after <= max) return after;
  const before = await lowestFreeFrom(min);
  if (before < start) return before;
  throw exhausted();
}
