import { drawFree, type RandomInt } from '../shared/random-free';
import { formatMac, parseMac } from './ip';
import type { MacPool } from './network';
import { NetworkError } from './network.errors';

/**
 * The fabric-wide MAC pool (the whitepaper's "MAC address pool" of the
 * provider side): every new vNIC takes a MAC from it, unique in the fabric,
 * and gives it back when it is deleted. Hyper-V's own default range sits in
 * Microsoft's OUI 00-15-5D; so does Fabric's.
 */
export const DEFAULT_MAC_POOL: MacPool = { first: '00-15-5D-00-00-00', last: '00-15-5D-FF-FF-FF' };

/** A pool wider than one OUI's 24 bits is a typing mistake, not a plan. */
export const MAC_POOL_MAX_ADDRESSES = 2 ** 24;

/** How vm_nics writes a MAC: upper case with colons, so text order is numeric order within the pool. */
export function storedMac(value: number): string {
  return formatMac(value).replaceAll('-', ':');
}

/** The pool's bounds as numbers, refused with the rule when the range is not a usable unicast range. */
export function checkMacPool(pool: MacPool): { first: number; last: number } {
  const first = parseMac(pool.first);
  const last = parseMac(pool.last);
  if (first === null || last === null)
    throw new NetworkError('INVALID_ADDRESS', 'A MAC pool bound is written like 00-15-5D-00-00-00 (rule MAC_FORMAT)');
  if (last < first)
    throw new NetworkError('INVALID_ADDRESS', `The MAC pool ends (${pool.last}) before it starts (${pool.first})`);
  // The first octet's lowest bit marks a group (multicast) address: no vNIC may send from one.
  const multicast = (mac: number) => Math.floor(mac / 2 ** 40) % 2 === 1;
  if (multicast(first) || multicast(last) || Math.floor(first / 2 ** 40) !== Math.floor(last / 2 ** 40))
    throw new NetworkError(
      'INVALID_ADDRESS',
      'A MAC pool lies within one unicast first octet (its lowest bit 0: the others are multicast) (rule MAC_UNICAST)',
    );
  if (last - first + 1 > MAC_POOL_MAX_ADDRESSES)
    throw new NetworkError(
      'INVALID_ADDRESS',
      `A MAC pool holds at most ${MAC_POOL_MAX_ADDRESSES.toLocaleString('en-US')} addresses (one OUI's worth)`,
    );
  return { first, last };
}

/** Stored MACs read per query when a nearly full pool is searched for its first free address. */
export const MAC_SCAN_BATCH = 10_000;

/** What the caller knows of the vNICs' MACs (every tenant's), in the stored form (storedMac). */
export interface MacsInUse {
  has(mac: string): Promise<boolean>;
  /** The MACs in use in [from, to], ascending, at most `limit` of them. */
  between(from: string, to: string, limit: number): Promise<string[]>;
}

/**
 * `count` free MACs of the pool, each drawn at random from its free part
 * (shared/random-free.ts): MACs are fabric-wide, so "highest + 1" would tell
 * a tenant creating two adapters how many adapters every other tenant created
 * in between. A deleted vNIC's MAC comes back only by chance. The caller holds
 * the pool's lock until its vNICs are written, so two creates never draw the
 * same MAC (and vm_nics' unique index stands behind it); MACs drawn for this
 * create count as taken until then. Too few free refuses the whole create.
 */
export async function allocateMacs(
  pool: MacPool,
  count: number,
  randomInt: RandomInt,
  inUse: MacsInUse,
): Promise<string[]> {
  if (count === 0) return [];
  const { first, last } = checkMacPool(pool);
  const drawn = new Set<number>();
  const taken = async (mac: number) => drawn.has(mac) || (await inUse.has(storedMac(mac)));
  // The first MAC ≥ from neither in use nor drawn: a walk along the index, in batches (a pool is 16.7 M at most).
  const lowestFreeFrom = async (from: number) => {
    let candidate = from;
    for (;;) {
      const rows = await inUse.between(storedMac(candidate), storedMac(last), MAC_SCAN_BATCH);
      for (const row of rows) {
        const mac = parseMac(row) ?? candidate;
        while (candidate < mac) {
          if (!drawn.has(candidate)) return candidate;
          candidate++;
        }
        if (mac === candidate) candidate++;
      }
      if (rows.length < MAC_SCAN_BATCH) break;
    }
    while (drawn.has(candidate)) candidate++;
    return candidate;
  };
  const exhausted = () =>
    new NetworkError(
      'POOL_EXHAUSTED',
      `The fabric MAC pool ${pool.first}–${pool.last} has fewer than ${count} free address(es) (rule POOL_EXHAUSTED)`,
    );
  for (let i = 0; i < count; i++)
    drawn.add(await drawFree({ min: first, max: last }, randomInt, taken, lowestFreeFrom, exhausted));
  return [...drawn].map(storedMac);
}
