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

/**
 * `count` free MACs of the pool. The caller holds the pool's lock until its
 * vNICs are written, so two creates never draw the same MAC. Fast path: the
 * MACs after the highest one in use (a pool filled in order); once the top of
 * the pool is reached, the lowest free ones (deleted vNICs gave them back).
 */
export async function allocateMacs(
  pool: MacPool,
  count: number,
  inUse: { highest(): Promise<string | null>; all(): Promise<ReadonlySet<string>> },
): Promise<string[]> {
  if (count === 0) return [];
  const { first, last } = checkMacPool(pool);
  const highest = await inUse.highest();
  const after = highest === null ? first : (parseMac(highest) ?? last) + 1;
  if (after >= first && after + count - 1 <= last) return Array.from({ length: count }, (_, i) => storedMac(after + i));
  const used = new Set([...(await inUse.all())].map((m) => parseMac(m)));
  const out: string[] = [];
  for (let m = first; m <= last && out.length < count; m++) if (!used.has(m)) out.push(storedMac(m));
  if (out.length < count)
    throw new NetworkError(
      'POOL_EXHAUSTED',
      `The fabric MAC pool ${pool.first}–${pool.last} has ${out.length} free address(es), ${count} needed (rule POOL_EXHAUSTED)`,
    );
  return out;
}
