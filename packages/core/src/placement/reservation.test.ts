import { describe, expect, it } from 'vitest';
import { assignStorage, demandOf } from './reservation';
import type { PlacementRequest } from './snapshot';
import { aHost, aRequest } from './testing/builders';

const GIB = 1024 ** 3;
const TIB = 1024 * GIB;

function unpooled(sizeGiB: number): PlacementRequest {
  return aRequest({ disks: [{ sizeBytes: sizeGiB * GIB }] });
}

describe('where a disk that names no pool goes', () => {
  const host = aHost({
    id: 'hv-1',
    storagePools: [
      { name: 'Local', kind: 'local', capacityBytes: 14 * TIB, allocatedBytes: 0 },
      { name: 'ClusterStorage-Volume1', kind: 'csv', capacityBytes: 100 * TIB, allocatedBytes: 99 * TIB },
      { name: '\\\\sofs01\\vms', kind: 'smb', capacityBytes: 200 * TIB, allocatedBytes: 60 * TIB },
    ],
  });

  it('to the Cluster Shared Volume when it has room, though a share and local disks have more', () => {
    const request = unpooled(100);
    expect(assignStorage(host, request, demandOf(request))).toEqual({
      ok: true,
      unpooledPool: 'ClusterStorage-Volume1',
    });
  });

  it('to the file share when the CSV is short, and to local disks only when no shared pool has room', () => {
    const big = unpooled(2 * 1024);
    expect(assignStorage(host, big, demandOf(big))).toEqual({ ok: true, unpooledPool: '\\\\sofs01\\vms' });
    const local = aHost({
      id: 'hv-1',
      storagePools: [
        { name: 'Local', kind: 'local', capacityBytes: 14 * TIB, allocatedBytes: 0 },
        { name: 'ClusterStorage-Volume1', kind: 'csv', capacityBytes: 100 * TIB, allocatedBytes: 100 * TIB - GIB },
      ],
    });
    expect(assignStorage(local, big, demandOf(big))).toEqual({ ok: true, unpooledPool: 'Local' });
  });

  it('is refused naming the roomiest pool when none has room', () => {
    const huge = unpooled(1024 * 1024);
    const result = assignStorage(host, huge, demandOf(huge));
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).toMatch(/largest pool has 140 TiB free/);
  });

  it('pools of unknown kind: the one with the most room, as before', () => {
    const plain = aHost({
      id: 'hv-1',
      storagePools: [
        { name: 'a', capacityBytes: 10 * TIB, allocatedBytes: 0 },
        { name: 'b', capacityBytes: 20 * TIB, allocatedBytes: 0 },
      ],
    });
    const request = unpooled(10);
    expect(assignStorage(plain, request, demandOf(request))).toEqual({ ok: true, unpooledPool: 'b' });
  });
});
