import { describe, expect, it } from 'vitest';
import { parsePrefix, prefixesOverlap } from './ip';
import { allocateCa, allocatePa, checkNewSubnet, checkPortPolicy, checkVlan, pvlanFromFields } from './ipam';
import { DEFAULT_PORT_POLICY } from './network';
import { NetworkError } from './network.errors';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof NetworkError) return e.code;
    throw e;
  }
  return undefined;
}

describe('tenant network validation names the rule', () => {
  const none = () => false;
  it.each([
    [
      'overlapping subnets in one VM network',
      { vsid: 5001, prefix: '10.1.1.128/25', gateway: '10.1.1.129', name: 'b' },
      'SUBNET_OVERLAP',
    ],
    ['VSID below 4096', { vsid: 4095, prefix: '10.2.0.0/24', gateway: '10.2.0.1', name: 'b' }, 'VSID_OUT_OF_RANGE'],
    [
      'VSID above 16777214',
      { vsid: 16_777_215, prefix: '10.2.0.0/24', gateway: '10.2.0.1', name: 'b' },
      'VSID_OUT_OF_RANGE',
    ],
    [
      'gateway outside its subnet',
      { vsid: 5002, prefix: '10.2.0.0/24', gateway: '10.3.0.1', name: 'b' },
      'CA_OUTSIDE_SUBNET',
    ],
    ['host bits set', { vsid: 5002, prefix: '10.2.0.5/24', gateway: '10.2.0.1', name: 'b' }, 'INVALID_PREFIX'],
  ])('%s', (_, subnet, code) => {
    expect(codeOf(() => checkNewSubnet(subnet, [{ name: 'a', prefix: '10.1.1.0/24' }], none))).toBe(code);
  });

  it('accepts the same prefix in another tenant (no siblings) and a disjoint one in the same VM network', () => {
    expect(
      codeOf(() => checkNewSubnet({ vsid: 6001, prefix: '10.1.1.0/24', gateway: '10.1.1.1', name: 'y' }, [], none)),
    ).toBeUndefined();
    expect(
      codeOf(() =>
        checkNewSubnet(
          { vsid: 5002, prefix: '10.1.2.0/24', gateway: '10.1.2.1', name: 'b' },
          [{ name: 'a', prefix: '10.1.1.0/24' }],
          none,
        ),
      ),
    ).toBeUndefined();
  });

  it('refuses a VSID already used', () => {
    expect(
      codeOf(() =>
        checkNewSubnet({ vsid: 5001, prefix: '10.9.0.0/24', gateway: '10.9.0.1', name: 'b' }, [], (v) => v === 5001),
      ),
    ).toBe('VSID_IN_USE');
  });

  it('VLAN 1–4094 only; a PVLAN needs a mode and a primary VLAN, isolated and community a secondary', () => {
    expect(codeOf(() => checkVlan(0))).toBe('VLAN_OUT_OF_RANGE');
    expect(codeOf(() => checkVlan(4095))).toBe('VLAN_OUT_OF_RANGE');
    expect(codeOf(() => checkVlan(4094))).toBeUndefined();
    expect(codeOf(() => pvlanFromFields({ secondaryVlan: 20 }))).toBe('PVLAN_MODE_REQUIRED');
    expect(codeOf(() => pvlanFromFields({ mode: 'community', secondaryVlan: 20 }))).toBe('PVLAN_PRIMARY_REQUIRED');
    expect(codeOf(() => pvlanFromFields({ mode: 'community', primaryVlan: 2 }))).toBe('PVLAN_SECONDARY_REQUIRED');
    expect(pvlanFromFields({ mode: 'isolated', primaryVlan: 2, secondaryVlan: 4 })).toEqual({
      mode: 'isolated',
      primaryVlan: 2,
      secondaryVlan: 4,
    });
    expect(
      codeOf(() => checkPortPolicy({ ...DEFAULT_PORT_POLICY, trunk: { allowedVlans: [10, 20], nativeVlan: 30 } })),
    ).toBe('TRUNK_NATIVE_NOT_ALLOWED');
    // Found by the hostile probe: a PVLAN mode alone was dropped silently; contradictions were stored.
    expect(codeOf(() => pvlanFromFields({ mode: 'isolated' }))).toBe('PVLAN_PRIMARY_REQUIRED');
    expect(() => pvlanFromFields({ mode: 'isolated' })).toThrow(
      'An isolated PVLAN port needs a primary VLAN (rule PVLAN_PRIMARY_REQUIRED); pvlan: null clears the PVLAN',
    );
    expect(() => pvlanFromFields({ mode: 'isolated', primaryVlan: 100 })).toThrow(
      'An isolated PVLAN port needs a secondary VLAN under its primary VLAN 100 (rule PVLAN_SECONDARY_REQUIRED)',
    );
    // An empty PVLAN was read as "none" and cleared the port's PVLAN.
    expect(codeOf(() => pvlanFromFields({}))).toBe('PVLAN_MODE_REQUIRED');
    expect(codeOf(() => pvlanFromFields({ mode: 'isolated', primaryVlan: 100, secondaryVlan: 100 }))).toBe(
      'PORT_POLICY_CONFLICT',
    );
    const trunk = { allowedVlans: [10, 20], nativeVlan: 10 };
    expect(
      codeOf(() => checkPortPolicy({ ...DEFAULT_PORT_POLICY, trunk: { allowedVlans: [10, 10, 10], nativeVlan: 10 } })),
    ).toBe('PORT_POLICY_CONFLICT');
    expect(codeOf(() => checkPortPolicy({ ...DEFAULT_PORT_POLICY, trunk }))).toBeUndefined();
  });
});

describe('IPAM', () => {
  const subnet = { name: 'web', prefix: '10.1.1.0/29', gateway: '10.1.1.1' };
  it('gives the lowest free CA, never network, gateway or broadcast, and says when the subnet is full', () => {
    const used = new Set<string>();
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ca = allocateCa(subnet, used);
      used.add(ca);
      got.push(ca);
    }
    expect(got).toEqual(['10.1.1.2', '10.1.1.3', '10.1.1.4', '10.1.1.5', '10.1.1.6']);
    expect(codeOf(() => allocateCa(subnet, used))).toBe('POOL_EXHAUSTED');
  });
  it('takes a static CA inside the subnet only', () => {
    expect(allocateCa(subnet, new Set(), '10.1.1.5')).toBe('10.1.1.5');
    expect(codeOf(() => allocateCa(subnet, new Set(), '10.1.2.5'))).toBe('CA_OUTSIDE_SUBNET');
    expect(codeOf(() => allocateCa(subnet, new Set(), '10.1.1.7'))).toBe('CA_RESERVED');
    expect(codeOf(() => allocateCa(subnet, new Set(['10.1.1.5']), '10.1.1.5'))).toBe('CA_IN_USE');
  });
  it('PA pools run out by name', () => {
    expect(allocatePa({ prefix: '192.168.1.0/30', gateway: '192.168.1.1' }, new Set())).toBe('192.168.1.2');
    expect(
      codeOf(() => allocatePa({ prefix: '192.168.1.0/30', gateway: '192.168.1.1' }, new Set(['192.168.1.2']))),
    ).toBe('POOL_EXHAUSTED');
  });
  it('prefix parsing goes through ipaddr.js', () => {
    expect(parsePrefix('10.1.1.0/24')).toEqual({ base: 0x0a010100, length: 24 });
    expect(parsePrefix('10.1.1.0/33')).toBeNull();
    expect(parsePrefix('::1/128')).toBeNull();
    expect(
      prefixesOverlap(
        parsePrefix('10.0.0.0/8') ?? { base: 0, length: 0 },
        parsePrefix('10.1.1.0/24') ?? { base: 0, length: 0 },
      ),
    ).toBe(true);
  });
});
