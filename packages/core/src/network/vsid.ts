import { drawFree, RANDOM_DRAWS, type RandomInt } from '../shared/random-free';
import { VSID_MAX, VSID_MIN } from './network';
import { NetworkError } from './network.errors';

export type { RandomInt } from '../shared/random-free';

/** Random draws tried before the free-VSID search (shared/random-free.ts says why 16). */
export const VSID_DRAWS = RANDOM_DRAWS;

/**
 * A new subnet's VSID, drawn uniformly from the free part of 4096–16,777,214
 * (shared/random-free.ts): VSIDs are fabric-wide, so "highest + 1" would tell
 * a tenant creating two subnets how many subnets every other tenant created in
 * between. A VSID freed by a delete comes back only by chance (1 in 16.7 M),
 * not at once, while hosts may still carry it. The caller holds the
 * allocation lock, so `inUse` answers stay true until it commits.
 */
export function drawVsid(
  randomInt: RandomInt,
  inUse: (vsid: number) => Promise<boolean>,
  lowestFreeFrom: (from: number) => Promise<number>,
): Promise<number> {
  return drawFree(
    { min: VSID_MIN, max: VSID_MAX },
    randomInt,
    inUse,
    lowestFreeFrom,
    () => new NetworkError('POOL_EXHAUSTED', `Every VSID ${VSID_MIN}–${VSID_MAX} is in use (rule POOL_EXHAUSTED)`),
  );
}
