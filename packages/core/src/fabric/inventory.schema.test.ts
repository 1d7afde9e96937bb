import { describe, expect, it } from 'vitest';
import { type HostInventory, hostInventorySchema } from './inventory.schema';
import { inventoryHash } from './inventory-hash';

const base: HostInventory = {
  hostname: 'hv-01.example.net',
  osName: 'Windows Server 2012',
  cpu: { model: 'Xeon', mhz: 2900, sockets: 2, coresPerSocket: 16, logicalProcessors: 64 },
  memoryMiB: 512 * 1024,
  numaNodes: 2,
  nics: [{ name: 'eth0', macAddress: '00:15:5D:01:02:03', linkSpeedMbps: 10_000, linkUp: true }],
  storagePools: [{ name: 'local', kind: 'local', capacityBytes: 1000, usedBytes: 10 }],
};

const issue = (inv: unknown) => {
  const r = hostInventorySchema.safeParse(inv);
  return r.success ? null : r.error.issues.map((i) => i.message).join('; ');
};

describe('host inventory validation (Hyper-V 2012 host limits)', () => {
  it('accepts the largest host Hyper-V supports: 320 logical processors and 4 TB', () => {
    expect(
      issue({
        ...base,
        cpu: { ...base.cpu, sockets: 8, coresPerSocket: 20, logicalProcessors: 320 },
        memoryMiB: 4 * 1024 * 1024,
      }),
    ).toBeNull();
  });

  it.each([
    [
      { cpu: { ...base.cpu, logicalProcessors: 321, sockets: 8, coresPerSocket: 40 } },
      /at most 320 logical processors/,
    ],
    [{ memoryMiB: 4 * 1024 * 1024 + 1 }, /at most 4 TB/],
    [{ hostname: 'bad host name' }, /DNS name/],
    [{ cpu: { ...base.cpu, logicalProcessors: 16 } }, /sockets × cores/],
    [{ nics: [base.nics[0], base.nics[0]] }, /NIC names must be unique/],
    [{ storagePools: [{ name: 'x', kind: 'local', capacityBytes: 1, usedBytes: 2 }] }, /used bytes exceed capacity/],
    [{ nics: [{ ...base.nics[0], macAddress: 'zz' }] }, /MAC address/],
  ])('refuses %o', (over, message) => {
    expect(issue({ ...base, ...over })).toMatch(message);
  });
});

describe('inventoryHash', () => {
  it('ignores key order and changes with any value', () => {
    const { hostname, ...rest } = base;
    const reordered: HostInventory = { ...rest, hostname };
    expect(Object.keys(reordered)).not.toEqual(Object.keys(base));
    expect(inventoryHash(reordered)).toBe(inventoryHash(base));
    expect(inventoryHash({ ...base, memoryMiB: base.memoryMiB + 1 })).not.toBe(inventoryHash(base));
  });
});
