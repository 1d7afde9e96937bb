import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import { describe, expect, it } from 'vitest';
import { INTERNET_REMOTE, meterPortAcls, type PortMeters } from './port-meters';
import { portKey } from './simulated-switch';

// The simulated switch counts the bytes its meter ACLs match, per metered class.

const VM = '6f1b8a52-1d7e-4c1e-9a0e-3f5c2b7d9e10';
const MAC = '00-15-5D-00-00-01';
const sample = (acls: string[]): VmSample => ({
  vmId: VM,
  at: '2026-12-04T10:00:00.000Z',
  intervalSeconds: 60,
  cpuAvgMhz: 500,
  memoryAvgMiB: 1024,
  memoryMinMiB: 1024,
  memoryMaxMiB: 1024,
  diskAllocatedGiB: 10,
  diskReadBytes: 0,
  diskWriteBytes: 0,
  networkInInternetBytes: 1_000,
  networkOutInternetBytes: 2_000,
  networkInDatacenterBytes: 30_001,
  networkOutDatacenterBytes: 40_003,
  networkAcls: acls.map((acl) => ({ acl, inBytes: 7, outBytes: 7 })),
});
const meter = (prefix: string, meterClass: string, direction: 'inbound' | 'outbound' | 'both' = 'both') => ({
  direction,
  action: 'meter' as const,
  remote: { prefix },
  meterClass,
});
const ports = (p: PortMeters) => new Map([[portKey(VM, MAC), p]]);
const byClass = (s: VmSample) => Object.fromEntries((s.networkAcls ?? []).map((a) => [a.acl, [a.inBytes, a.outBytes]]));

describe('meter ACLs counted by the switch', () => {
  it("a meter on the VM's subnet counts all its datacenter bytes; one on a prefix it never talks to, none", () => {
    const out = meterPortAcls(
      sample(['backup', 'offsite', 'storage']),
      [{ macAddress: MAC }],
      ports({
        acls: [meter('10.2.0.0/24', 'backup'), meter('172.16.0.0/12', 'offsite')],
        peers: ['10.2.0.3', '10.2.0.4', '10.2.0.5'],
      }),
    );
    // storage is metered by no ACL of this port: its simulated share stays.
    expect(byClass(out)).toEqual({ backup: [30_001, 40_003], offsite: [0, 0], storage: [7, 7] });
  });

  it('counts per direction, a flow once per class, internet only for a meter on its address', () => {
    const out = meterPortAcls(
      sample(['backup', 'web']),
      [{ macAddress: MAC }],
      ports({
        acls: [
          meter('10.2.0.4/32', 'backup', 'inbound'),
          meter('10.2.0.0/24', 'backup', 'inbound'), // the same flows again: counted once
          meter('0.0.0.0/0', 'web', 'outbound'),
        ],
        peers: ['10.2.0.3', '10.2.0.4'],
      }),
    );
    expect(INTERNET_REMOTE).toBe('203.0.113.1');
    expect(byClass(out)).toEqual({ backup: [30_001, 0], web: [0, 42_003] });
  });

  it("a VM's traffic is spread over its vNICs: a metering port gets its share; without classes nothing changes", () => {
    const two = [{ macAddress: MAC }, { macAddress: '00-15-5D-00-00-02' }];
    const out = meterPortAcls(
      sample(['backup']),
      two,
      ports({ acls: [meter('10.0.0.0/8', 'backup')], peers: ['10.2.0.3'] }),
    );
    expect(byClass(out)).toEqual({ backup: [15_000, 20_001] });
    const none = sample([]);
    expect(meterPortAcls(none, two, ports({ acls: [meter('10.0.0.0/8', 'x')], peers: [] }))).toBe(none);
  });
});
