import { describe, expect, it } from 'vitest';
import { NetworkError } from './network.errors';
import { aclInput, portPolicyInput, updateSubnetInput } from './network.schema';
import { checkPortQos, planSubnetEdit, refuseWhileAttached, tenantTraceView } from './network-edits';

const lan = { id: 's1', name: 'lan', vsid: 5001, prefix: '10.1.1.0/24', gateway: '10.1.1.1' };
const dmz = { id: 's2', name: 'dmz', prefix: '10.1.2.0/24' };
const web = [{ vmName: 'web', nicName: 'nic0' }];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof NetworkError) return error.code;
    throw error;
  }
}

describe('deleting or re-addressing a network with VM NICs attached', () => {
  it('is refused, naming the attached NICs and the rule', () => {
    expect(() => refuseWhileAttached('subnet "lan"', 'delete', web)).toThrow(
      /Cannot delete subnet "lan": 1 VM NIC is attached \(web\/nic0\).*NETWORK_IN_USE/,
    );
    const many = ['a', 'b', 'c', 'd', 'e'].map((vmName) => ({ vmName, nicName: 'nic0' }));
    expect(() => refuseWhileAttached('subnet "lan"', 'delete', many)).toThrow(/5 VM NICs are attached .*and 2 more/);
  });

  it('is allowed when nothing is attached', () => {
    expect(() => refuseWhileAttached('subnet "lan"', 'delete', [])).not.toThrow();
  });
});

describe('editing a subnet', () => {
  it.each([
    [
      'a rename with NICs attached',
      { name: 'frontend' },
      web,
      { name: 'frontend', prefix: '10.1.1.0/24', gateway: '10.1.1.1' },
    ],
    [
      'a new prefix moves the default gateway',
      { prefix: '10.1.5.0/24' },
      [],
      { name: 'lan', prefix: '10.1.5.0/24', gateway: '10.1.5.1' },
    ],
    ['a new gateway', { gateway: '10.1.1.254' }, [], { name: 'lan', prefix: '10.1.1.0/24', gateway: '10.1.1.254' }],
    [
      'the same prefix again with NICs attached',
      { prefix: '10.1.1.0/24' },
      web,
      { name: 'lan', prefix: '10.1.1.0/24', gateway: '10.1.1.1' },
    ],
  ])('allows %s', (_, edit, attached, expected) => {
    expect(planSubnetEdit(lan, [lan, dmz], attached, edit)).toEqual(expected);
  });

  it.each([
    ['a new prefix with a NIC attached', { prefix: '10.1.5.0/24' }, web, 'NETWORK_IN_USE'],
    ['a new gateway with a NIC attached', { gateway: '10.1.1.254' }, web, 'NETWORK_IN_USE'],
    ['a prefix overlapping a sibling', { prefix: '10.1.0.0/16' }, [], 'SUBNET_OVERLAP'],
    ["a sibling's name", { name: 'dmz' }, [], 'SUBNET_OVERLAP'],
    ['a gateway outside the prefix', { gateway: '10.9.9.9' }, [], 'CA_OUTSIDE_SUBNET'],
    ['a prefix with host bits', { prefix: '10.1.5.7/24' }, [], 'INVALID_PREFIX'],
  ])('refuses %s', (_, edit, attached, code) => {
    expect(codeOf(() => planSubnetEdit(lan, [lan, dmz], attached, edit))).toBe(code);
  });

  it('needs at least one change', () => {
    expect(updateSubnetInput.safeParse({ id: '6c3b1f3e-2b1a-4c59-9a3e-6e8f3c1d2b4a' }).success).toBe(false);
  });
});

describe('port ACL input', () => {
  const deny = { direction: 'inbound', action: 'deny', remote: { prefix: '10.0.0.0/8' } };
  it('accepts allow / deny / meter by prefix or MAC, with an optional local port', () => {
    expect(aclInput.safeParse(deny).success).toBe(true);
    expect(
      aclInput.safeParse({ ...deny, action: 'meter', meterClass: 'internet', remote: { prefix: '0.0.0.0/0' } }).success,
    ).toBe(true);
    expect(aclInput.safeParse({ ...deny, remote: { mac: '00-15-5D-01-02-03' }, localPort: 5432 }).success).toBe(true);
  });

  it.each([
    ['a meter class on a deny ACL', { ...deny, meterClass: 'internet' }, 'meter ACL only'],
    ['an unknown direction', { ...deny, direction: 'sideways' }, 'inbound, outbound or both'],
    ['an unknown action', { ...deny, action: 'drop' }, 'allow, deny or meter'],
    ['a bare address as remote', { ...deny, remote: { prefix: '10.0.0.1' } }, 'IPv4 prefix such as'],
    ['port 0', { ...deny, localPort: 0 }, '1–65535'],
  ])('refuses %s with a clear message', (_, acl, message) => {
    const result = aclInput.safeParse(acl);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it('caps a port at 32 ACLs', () => {
    const result = portPolicyInput.safeParse({ acls: Array.from({ length: 33 }, () => deny) });
    expect(JSON.stringify(result.error?.issues)).toContain('At most 32 ACLs per port');
  });
});

describe('port QoS', () => {
  it('refuses a maximum below the NIC’s reserved minimum, and accepts one above it', () => {
    expect(codeOf(() => checkPortQos({ maximumBandwidthMbps: 100 }, 500))).toBe('QOS_MINIMUM_ABOVE_MAXIMUM');
    expect(codeOf(() => checkPortQos({ maximumBandwidthMbps: 1000 }, 500))).toBeUndefined();
    expect(codeOf(() => checkPortQos({ maximumBandwidthMbps: 100 }, null))).toBeUndefined();
  });
});

describe('what a tenant sees of a trace', () => {
  const hops = [
    { hostId: 'h1', stage: 'egress' as const, ok: true, rule: 'web port checks passed' },
    { hostId: 'h1', stage: 'wire' as const, ok: true, rule: 'lookup 10.1.1.2 → PA 192.168.1.2; GRE key 5001' },
    { hostId: 'h2', stage: 'ingress' as const, ok: false, rule: 'dropped by sql inbound ACL deny 10.1.1.0/24' },
  ];
  it('keeps its own ports’ verdicts and hides the provider’s addresses and hosts', () => {
    const view = tenantTraceView({ delivered: false, hops }, new Map([['n2', 'sql']]));
    expect(view.hops.map((h) => h.rule)).toEqual([
      'web port checks passed',
      'carried across the provider network',
      'dropped by sql inbound ACL deny 10.1.1.0/24',
    ]);
    expect(JSON.stringify(view)).not.toMatch(/192\.168|h1|h2/);
  });

  it('never names a NIC that is not the tenant’s own', () => {
    const view = tenantTraceView({ delivered: true, toNic: 'other-tenant', hops: hops.slice(0, 2) }, new Map());
    expect(view.delivered).toBe(false);
    expect(view.toVmName).toBeUndefined();
    expect(tenantTraceView({ delivered: true, toNic: 'n2', hops }, new Map([['n2', 'sql']])).toVmName).toBe('sql');
  });
});
