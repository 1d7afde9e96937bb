import { describe, expect, it } from 'vitest';
import type { Db } from './prisma';
import { PrismaNetworkRepository } from './prisma-network-repository';

// Prisma reads a NIC's VM (and a PA pool's logical network) in a second statement: a VM deleted between
// the two statements comes back null although the type says it cannot. The reconciler read it through and
// logged "network reconcile failed: Cannot read properties of null (reading 'id')" once on a VM delete.

const nic = (id: string, vm: object | null) => ({
  id,
  name: 'nic0',
  macAddress: '00-15-5D-00-00-01',
  network: 'corp/lan',
  subnetId: 's1',
  caAddress: '10.1.1.2',
  portPolicy: {},
  maximumBandwidthMbps: null,
  minimumBandwidthWeight: null,
  minimumBandwidthMbps: null,
  vm,
});

describe('reading NICs while their VMs are being deleted', () => {
  it('leaves out a NIC whose VM is gone instead of failing the whole read', async () => {
    const db = {
      vmNic: {
        findMany: async () => [
          nic('n1', { id: 'vm1', name: 'web', tenantId: 't1', state: 'running', hostId: 'h1', clusterId: 'c1' }),
          nic('n2', null),
        ],
      },
    } as unknown as Db;
    const nics = await new PrismaNetworkRepository(db).listNics({ kind: 'provider' });
    expect(nics.map((n) => [n.nicId, n.vmName])).toEqual([['n1', 'web']]);
  });

  it('leaves out a PA pool whose logical network is gone', async () => {
    const pool = (id: string, logicalNetwork: object | null) => ({
      id,
      logicalNetworkId: 'ln1',
      clusterId: 'c1',
      prefix: '192.168.1.0/24',
      gateway: '192.168.1.1',
      vlanId: 101,
      logicalNetwork,
    });
    const db = {
      paPool: { findMany: async () => [pool('p1', { name: 'provider' }), pool('p2', null)] },
    } as unknown as Db;
    const pools = await new PrismaNetworkRepository(db).listPaPools();
    expect(pools.map((p) => [p.id, p.logicalNetworkName])).toEqual([['p1', 'provider']]);
  });
});
