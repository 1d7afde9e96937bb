import { describe, expect, it } from 'vitest';
import { checkNewSubnet } from './ipam';
import { NetworkError } from './network.errors';
import { addPaPoolInput, createSubnetInput, updateSubnetInput } from './network.schema';

// A VM subnet (or PA pool) in a range that is not unicast is refused by the API's
// schema, naming the range and the rule; the service's own check agrees.

const vmNetworkId = '7b1f1c2e-4d5a-4b6c-8d7e-9f0a1b2c3d4e';
const subnet = (prefix: string) => createSubnetInput.safeParse({ vmNetworkId, name: 'lan', prefix });
const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => i.message);

describe('reserved ranges as subnet prefixes', () => {
  it.each([
    ['0.0.0.0/8', '0.0.0.0/8 is in the "this network" range 0.0.0.0/8'],
    ['0.1.2.0/24', '0.1.2.0/24 is in the "this network" range 0.0.0.0/8'],
    ['127.0.0.0/24', '127.0.0.0/24 is in the loopback range 127.0.0.0/8'],
    ['127.0.0.0/8', '127.0.0.0/8 is in the loopback range 127.0.0.0/8'],
    ['169.254.0.0/16', '169.254.0.0/16 is in the link-local range 169.254.0.0/16'],
    ['169.254.10.0/24', '169.254.10.0/24 is in the link-local range 169.254.0.0/16'],
    ['224.0.0.0/24', '224.0.0.0/24 is in the multicast range 224.0.0.0/4'],
    ['239.255.255.0/24', '239.255.255.0/24 is in the multicast range 224.0.0.0/4'],
    ['240.0.0.0/24', '240.0.0.0/24 is in the reserved (class E) range 240.0.0.0/4'],
    ['255.255.255.0/24', '255.255.255.0/24 is in the reserved (class E) range 240.0.0.0/4'],
    ['255.255.255.255/32', '255.255.255.255/32 is the limited broadcast address 255.255.255.255'],
    ['0.0.0.0/0', '0.0.0.0/0 overlaps'],
    ['96.0.0.0/3', '96.0.0.0/3 overlaps the loopback range 127.0.0.0/8'],
  ])('%s is refused by the schema, naming the range and the rule', (prefix, why) => {
    const result = subnet(prefix);
    expect(result.success).toBe(false);
    const text = messages(result).join(' | ');
    expect(text).toContain(why);
    expect(text).toContain('a VM subnet needs a unicast range (rule RESERVED_RANGE)');
  });

  it('gives the exact message of the probe for 127.0.0.0/24', () => {
    expect(messages(subnet('127.0.0.0/24'))).toContain(
      '127.0.0.0/24 is in the loopback range 127.0.0.0/8: a VM subnet needs a unicast range (rule RESERVED_RANGE)',
    );
  });

  it.each([
    '10.1.1.0/24',
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '100.64.0.0/10',
    '1.0.0.0/24',
    '223.255.255.0/24',
  ])('%s (unicast) is accepted', (prefix) => {
    expect(subnet(prefix).success).toBe(true);
  });

  it('is refused when re-addressing a subnet and for a PA pool too', () => {
    const edit = updateSubnetInput.safeParse({ id: vmNetworkId, prefix: '224.0.0.0/24' });
    expect(messages(edit).join()).toContain('224.0.0.0/24 is in the multicast range 224.0.0.0/4');
    const pool = addPaPoolInput.safeParse({
      logicalNetworkId: vmNetworkId,
      clusterId: vmNetworkId,
      prefix: '169.254.0.0/16',
      vlanId: 100,
    });
    expect(messages(pool).join()).toContain('a PA pool needs a unicast range (rule RESERVED_RANGE)');
  });

  it('is refused by the service rule as well (a caller that skips the schema)', () => {
    let error: unknown;
    try {
      checkNewSubnet({ vsid: 5001, prefix: '127.0.0.0/24', gateway: '127.0.0.1', name: 'lo' }, [], () => false);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toContain('127.0.0.0/24 is in the loopback range 127.0.0.0/8');
  });
});
