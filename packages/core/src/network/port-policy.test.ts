import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT_POLICY, type PortPolicy } from './network';
import { portPolicyPatch } from './network.schema';
import { patchPortPolicy, toPortPolicy } from './port-policy';

const acl = { direction: 'inbound', action: 'deny', remote: { prefix: '10.2.0.0/24' }, localPort: 22 } as const;
/** A port with something set in every field. */
const current: PortPolicy = {
  macSpoofing: true,
  dhcpGuard: false,
  routerGuard: false,
  arpGuard: false,
  pvlan: { mode: 'isolated', primaryVlan: 100, secondaryVlan: 101 },
  acls: [acl],
  mirroring: 'source',
  maximumBandwidthMbps: 700,
  minimumBandwidthWeight: 9,
};

describe('a port policy change', () => {
  it.each([
    ['ACLs', { acls: [] }, { acls: [] }],
    [
      'the PVLAN',
      { pvlan: { mode: 'promiscuous', primaryVlan: 200 } },
      { pvlan: { mode: 'promiscuous', primaryVlan: 200 } },
    ],
    ['the bandwidth cap', { maximumBandwidthMbps: 50 }, { maximumBandwidthMbps: 50 }],
    ['a guard', { dhcpGuard: true }, { dhcpGuard: true }],
  ] as const)('of %s keeps every other field', (_, patch, changed) => {
    const next = patchPortPolicy(current, portPolicyPatch.parse(patch));
    expect(next).toEqual({ ...current, ...changed });
  });

  it('with null clears a field back to its default: no PVLAN, no cap, no weight, no ACLs, no mirroring', () => {
    const next = patchPortPolicy(
      current,
      portPolicyPatch.parse({
        pvlan: null,
        maximumBandwidthMbps: null,
        minimumBandwidthWeight: null,
        acls: null,
        mirroring: null,
        dhcpGuard: null,
      }),
    );
    expect(next).toEqual({
      ...current,
      pvlan: undefined,
      maximumBandwidthMbps: undefined,
      minimumBandwidthWeight: undefined,
      acls: [],
      mirroring: 'none',
      dhcpGuard: DEFAULT_PORT_POLICY.dhcpGuard,
    });
    expect(JSON.parse(JSON.stringify(next))).not.toHaveProperty('pvlan');
  });

  it('over a stored policy missing fields, fills them from the defaults', () => {
    expect(patchPortPolicy({ acls: [acl] }, {})).toEqual({ ...DEFAULT_PORT_POLICY, acls: [acl] });
  });

  it('refuses a trunk on a PVLAN port and a PVLAN on a trunk port: Hyper-V VLAN modes are exclusive', () => {
    const trunk = { allowedVlans: [10, 20], nativeVlan: 10 };
    expect(() => patchPortPolicy(current, { trunk })).toThrow(
      'A port is in one VLAN mode: PVLAN or trunk, not both (rule PORT_POLICY_CONFLICT); clear one of them',
    );
    const trunkPort = patchPortPolicy(current, { pvlan: null, trunk });
    expect(trunkPort.trunk).toEqual(trunk);
    expect(() => patchPortPolicy(trunkPort, { pvlan: { mode: 'promiscuous', primaryVlan: 5 } })).toThrow(
      /PORT_POLICY_CONFLICT/,
    );
    expect(() => toPortPolicy({ pvlan: { mode: 'promiscuous', primaryVlan: 5 }, trunk })).toThrow(
      /PORT_POLICY_CONFLICT/,
    );
  });

  it('that is invalid is refused whole: a valid part of it is not applied', () => {
    expect(() =>
      patchPortPolicy(current, { acls: [], pvlan: { mode: 'community', primaryVlan: 100, secondaryVlan: 100 } }),
    ).toThrow(/PORT_POLICY_CONFLICT/);
    // The schema refuses null inside a setting (a PVLAN's VLAN), and what it does not know.
    expect(portPolicyPatch.safeParse({ pvlan: { primaryVlan: null } }).success).toBe(false);
    expect(portPolicyPatch.safeParse({ vlan: 5 }).success).toBe(false);
  });

  it('refuses a PVLAN without a mode: `pvlan: {}` no longer clears the PVLAN (null does)', () => {
    const refused = portPolicyPatch.safeParse({ pvlan: {} });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe(
      'A PVLAN needs a mode: isolated, community, promiscuous (rule PVLAN_MODE_REQUIRED); pvlan: null clears the PVLAN',
    );
    expect(portPolicyPatch.safeParse({ pvlan: { primaryVlan: 100 } }).success).toBe(false);
    // Past the schema (a caller of the core alone), the rule still holds and the port keeps its PVLAN.
    expect(() => patchPortPolicy(current, { pvlan: {} as never })).toThrow(/PVLAN_MODE_REQUIRED/);
    expect(() => patchPortPolicy(current, portPolicyPatch.parse({ pvlan: { mode: 'community' } }))).toThrow(
      'A community PVLAN port needs a primary VLAN (rule PVLAN_PRIMARY_REQUIRED); pvlan: null clears the PVLAN',
    );
  });

  it('refuses an ACL listed twice, naming both positions; the same remote MAC in another spelling is the same', () => {
    const acls = Array.from({ length: 32 }, () => acl);
    expect(portPolicyPatch.safeParse({ acls }).success).toBe(true);
    expect(() => patchPortPolicy(current, { acls })).toThrow(
      'ACL 2 repeats ACL 1 (same direction, action, remote, local port and meter class) (rule PORT_POLICY_CONFLICT); remove one of them',
    );
    const other = { ...acl, localPort: 443 };
    const mac = { direction: 'both', action: 'allow', remote: { mac: '00-15-5D-01-02-03' } } as const;
    expect(() => toPortPolicy({ acls: [acl, other, mac, { ...mac, remote: { mac: '00:15:5d:01:02:03' } }] })).toThrow(
      /^ACL 4 repeats ACL 3 /,
    );
    // Differing in any one field, they are different rules.
    expect(
      toPortPolicy({ acls: [acl, other, { ...acl, action: 'allow' }, { ...acl, direction: 'both' }, mac] }).acls,
    ).toHaveLength(5);
  });
});
