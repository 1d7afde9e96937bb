import { describe, expect, it } from 'vitest';
import { allocateMacs, checkMacPool, DEFAULT_MAC_POOL } from './mac-pool';

/** vNICs' MACs as vm_nics stores them; `highest` is what the index's last entry in the pool would give. */
function inUse(macs: string[]) {
  const sorted = [...macs].sort();
  return { highest: async () => sorted.at(-1) ?? null, all: async () => new Set(macs) };
}

describe('the fabric MAC pool', () => {
  it('hands out the MACs after the highest in use, in the stored form', async () => {
    expect(await allocateMacs(DEFAULT_MAC_POOL, 2, inUse([]))).toEqual(['00:15:5D:00:00:00', '00:15:5D:00:00:01']);
    expect(await allocateMacs(DEFAULT_MAC_POOL, 1, inUse(['00:15:5D:00:01:FF']))).toEqual(['00:15:5D:00:02:00']);
  });

  it('at the top of the pool, takes the lowest MACs deleted vNICs gave back, and refuses when too few are left', async () => {
    const pool = { first: '02-00-00-00-00-00', last: '02-00-00-00-00-03' };
    const used = ['02:00:00:00:00:00', '02:00:00:00:00:02', '02:00:00:00:00:03'];
    expect(await allocateMacs(pool, 1, inUse(used))).toEqual(['02:00:00:00:00:01']);
    await expect(allocateMacs(pool, 2, inUse(used))).rejects.toThrow(
      /1 free address\(es\), 2 needed \(rule POOL_EXHAUSTED\)/,
    );
    expect(await allocateMacs(pool, 0, inUse(used))).toEqual([]);
  });

  it('refuses a range that is malformed, reversed, multicast, or wider than one OUI', () => {
    expect(() => checkMacPool({ first: '00-15-5D', last: '00-15-5D-FF-FF-FF' })).toThrow(/MAC_FORMAT/);
    expect(() => checkMacPool({ first: '00-15-5D-00-00-09', last: '00-15-5D-00-00-01' })).toThrow(/before it starts/);
    expect(() => checkMacPool({ first: '01-00-5E-00-00-00', last: '01-00-5E-7F-FF-FF' })).toThrow(/MAC_UNICAST/);
    expect(() => checkMacPool({ first: '02-00-00-00-00-00', last: '02-01-00-00-00-00' })).toThrow(/at most 16,777,216/);
    expect(checkMacPool(DEFAULT_MAC_POOL).last - checkMacPool(DEFAULT_MAC_POOL).first + 1).toBe(2 ** 24);
  });
});
