import { describe, expect, it } from 'vitest';
import { GIB } from '../../shared/units';
import type { StoragePoolSnapshot } from '../snapshot';
import { aContext, aHost, aRequest } from '../testing/builders';
import { storageFilter } from './storage';

const pools: StoragePoolSnapshot[] = [
  { name: 'fast', capacityBytes: 100 * GIB, allocatedBytes: 90 * GIB }, // 10 GiB free
  { name: 'bulk', capacityBytes: 1000 * GIB, allocatedBytes: 500 * GIB }, // 500 GiB free
];

describe('storage filter', () => {
  it.each<[name: string, disks: { sizeBytes: number; pool?: string }[], code: string | null]>([
    ['no disks', [], null],
    ['unnamed disks go to the pool with room', [{ sizeBytes: 300 * GIB }, { sizeBytes: 100 * GIB }], null],
    ['unnamed disks together exceed every pool', [{ sizeBytes: 300 * GIB }, { sizeBytes: 300 * GIB }], 'STORAGE_SHORT'],
    ['a named pool with room', [{ sizeBytes: 10 * GIB, pool: 'fast' }], null],
    ['a named pool without room, even if another has it', [{ sizeBytes: 11 * GIB, pool: 'fast' }], 'STORAGE_SHORT'],
    [
      'named disks add up per pool',
      [
        { sizeBytes: 6 * GIB, pool: 'fast' },
        { sizeBytes: 6 * GIB, pool: 'fast' },
      ],
      'STORAGE_SHORT',
    ],
    ['a pool the host lacks', [{ sizeBytes: 1, pool: 'nvme' }], 'STORAGE_POOL_MISSING'],
    [
      'named and unnamed share the chosen pool',
      [{ sizeBytes: 400 * GIB, pool: 'bulk' }, { sizeBytes: 150 * GIB }],
      'STORAGE_SHORT',
    ],
    ['named and unnamed on different pools', [{ sizeBytes: 400 * GIB, pool: 'bulk' }, { sizeBytes: 9 * GIB }], null],
  ])('%s → %s', (_name, disks, code) => {
    const verdict = storageFilter.check(aHost({ id: 'h', storagePools: pools }), aContext(aRequest({ disks })));
    expect(verdict.ok ? null : verdict.code).toBe(code);
  });

  it('a host without pools cannot take a disk', () => {
    const verdict = storageFilter.check(aHost({ id: 'h', storagePools: [] }), aContext(aRequest()));
    expect(verdict).toMatchObject({ ok: false, code: 'STORAGE_SHORT', reason: 'host has no storage pool' });
  });

  it('says by how much', () => {
    const verdict = storageFilter.check(
      aHost({ id: 'h', storagePools: pools }),
      aContext(aRequest({ disks: [{ sizeBytes: 16 * GIB, pool: 'fast' }] })),
    );
    expect(verdict.ok ? '' : verdict.reason).toBe("pool 'fast' short by 6 GiB (needs 16 GiB, 10 GiB free)");
  });
});
