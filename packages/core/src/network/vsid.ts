import { VSID_MAX, VSID_MIN } from './network';
import { NetworkError } from './network.errors';

/**
 * Random draws tried before the free-VSID search. A draw collides with the
 * share of the range in use: even with half of the 16.7 M VSIDs taken, all
 * 16 collide once in 65,536 creates, and only then is the range searched.
 */
export const VSID_DRAWS = 16;

/** A uniform whole number in [min, maxExclusive) (node:crypto's randomInt in production). */
export type RandomInt = (min: number, maxExclusive: number) => number;

/**
 * A new subnet's VSID, drawn uniformly from the free part of 4096–16,777,214.
 *
 * Not "highest + 1": VSIDs are fabric-wide, so a tenant creating two subnets
 * would read from the difference how many subnets every other tenant created
 * in between. A uniform draw says nothing about others, and a VSID freed by a
 * delete comes back only by chance (1 in 16.7 M), not at once, while hosts may
 * still carry it. Only in a nearly full range, when every draw collided, is
 * the first free VSID at or after a random point taken (wrapping round).
 * The caller holds the allocation lock, so `inUse` answers stay true until it
 * commits.
 */
export async function drawVsid(
  randomInt: RandomInt,
  inUse: (vsid: number) => Promise<boolean>,
  lowestFreeFrom: (from: number) => Promise<number>,
): Promise<number> {
  for (let i = 0; i < VSID_DRAWS; i++) {
    const vsid = randomInt(VSID_MIN, VSID_MAX + 1);
    if (!(await inUse(vsid))) return vsid;
  }
  const start = randomInt(VSID_MIN, VSID_MAX + 1);
  const after = await lowestFreeFrom(start);
  if (after <= VSID_MAX) return after;
  const before = await lowestFreeFrom(VSID_MIN);
  if (before < start) return before;
  throw new NetworkError('POOL_EXHAUSTED', `Every VSID ${VSID_MIN}–${VSID_MAX} is in use (rule POOL_EXHAUSTED)`);
}
