import { describe, expect, it } from 'vitest';
import { affectedHosts, applyDelta, compileAll, diffPolicy, policyDigest } from './compile';
import { verifyIsolation } from './isolation';
import type { PortPolicy } from './network';
import { shareBandwidth } from './qos';
import { localPeer, type Packet, type SwitchPeer, SwitchState, trace } from './switch';
import { blueYellowFabric } from './testing';

function peersOf(input = blueYellowFabric()): Map<string, SwitchPeer> {
  const compiled = compileAll(input);
  return new Map([...compiled].map(([h, p]) => [h, localPeer(new SwitchState(h, p))]));
}

const ipPacket = (
  fromNic: string,
  srcMac: string,
  srcCa: string,
  dstCa: string,
  extra: Partial<Packet> = {},
): Packet => ({
  fromNic,
  kind: 'ip',
  srcMac,
  srcCa,
  dstCa,
  protocol: 'tcp',
  dstPort: 1433,
  bytes: 1500,
  ...extra,
});

describe('Blue and Yellow with the same CAs (the whitepaper example)', () => {
  it.each(['gre', 'ip-rewrite'] as const)('%s: each WEB reaches only its own SQL at 10.1.1.1', async (mode) => {
    const peers = peersOf(blueYellowFabric(mode));
    const blue = await trace('host-2', peers, ipPacket('blue-web', '00-15-5D-00-00-02', '10.1.1.2', '10.1.1.1'));
    expect(blue.delivered).toBe(true);
    expect(blue.toNic).toBe('blue-sql');
    const yellow = await trace('host-2', peers, ipPacket('yellow-web', '00-15-5D-00-00-04', '10.1.1.2', '10.1.1.1'));
    expect(yellow.toNic).toBe('yellow-sql');
    const wire = blue.hops.find((h) => h.stage === 'egress' && h.rule.startsWith('lookup'));
    expect(wire?.rule).toContain(
      mode === 'gre' ? 'GRE key 5001, 192.168.1.2 → 192.168.1.1' : 'IP rewrite, 192.168.1.12 → 192.168.1.10',
    );
  });

  it('a host with no Blue VM receives nothing of Blue', () => {
    const compiled = compileAll(blueYellowFabric());
    expect(Object.keys(compiled.get('host-3') ?? {})).toEqual(['host']);
    expect(Object.keys(compiled.get('host-1') ?? {}).filter((k) => k.includes('blue'))).toEqual([
      'rd/blue',
      'ca/blue/10.1.1.1',
      'ca/blue/10.1.1.2',
      'port/blue-sql',
    ]);
  });

  it('the verifier proves isolation, and finds a corrupted lookup record with an example packet', () => {
    const compiled = compileAll(blueYellowFabric());
    expect(verifyIsolation(compiled).ok).toBe(true);
    // Blue's record for SQL points at Yellow's VSID: Blue WEB's packets would land in Yellow SQL.
    const h2 = { ...(compiled.get('host-2') ?? {}) };
    h2['ca/blue/10.1.1.1'] = { vsid: 6001, mac: '00-15-5D-00-00-01', pa: '192.168.1.1', hostId: 'host-1' };
    // and host-1 believes yellow has a member at Blue WEB's CA and PA
    const h1 = { ...(compiled.get('host-1') ?? {}) };
    const bad = new Map(compiled).set('host-2', h2).set('host-1', h1);
    const report = verifyIsolation(bad);
    expect(report.ok).toBe(false);
    expect(report.violations[0]?.from.vmName).toBe('blue-web');
    expect(report.violations[0]?.to.vmName).toBe('yellow-sql');
    expect(report.violations[0]?.packet.dstCa).toBe('10.1.1.1');
  });
});

describe('port policies on the switch', () => {
  it('ARP spoofing, rogue DHCP, router advertisements and MAC spoofing are dropped with the rule', async () => {
    const peers = peersOf();
    const arp = await trace('host-2', peers, {
      ...ipPacket('blue-web', '00-15-5D-00-00-02', '10.1.1.1', '10.1.1.1'),
      kind: 'arp',
    });
    expect(arp.hops.at(-1)?.rule).toBe('dropped by blue-web ARP/ND spoofing protection');
    const dhcp = await trace('host-2', peers, {
      ...ipPacket('blue-web', '00-15-5D-00-00-02', '10.1.1.2', '10.1.1.255'),
      kind: 'dhcp-server',
    });
    expect(dhcp.hops.at(-1)?.rule).toBe('dropped by blue-web DHCP guard');
    const ra = await trace('host-2', peers, {
      ...ipPacket('blue-web', '00-15-5D-00-00-02', '10.1.1.2', '10.1.1.1'),
      kind: 'router-advertisement',
    });
    expect(ra.hops.at(-1)?.rule).toBe('dropped by blue-web router guard');
    const mac = await trace('host-2', peers, ipPacket('blue-web', '00-15-5D-00-00-99', '10.1.1.2', '10.1.1.1'));
    expect(mac.hops.at(-1)?.rule).toBe('dropped by blue-web MAC spoofing protection');
  });

  it('inbound ACL deny on 5432 says which rule dropped it; a more specific allow wins; meters count bytes', async () => {
    const input = blueYellowFabric();
    const sql = input.vnics.find((n) => n.nicId === 'blue-sql');
    if (!sql) throw new Error('fixture');
    sql.policy = {
      ...sql.policy,
      acls: [
        { direction: 'inbound', action: 'deny', remote: { prefix: '10.0.0.0/8' }, localPort: 5432 },
        { direction: 'inbound', action: 'meter', remote: { prefix: '10.1.0.0/16' }, meterClass: 'storage' },
      ],
    };
    const peers = peersOf(input);
    const denied = await trace(
      'host-2',
      peers,
      ipPacket('blue-web', '00-15-5D-00-00-02', '10.1.1.2', '10.1.1.1', { dstPort: 5432 }),
    );
    expect(denied.delivered).toBe(false);
    expect(denied.hops.at(-1)?.rule).toBe('dropped by blue-sql inbound ACL deny 10.0.0.0/8 port 5432');
    const ok = await trace(
      'host-2',
      peers,
      ipPacket('blue-web', '00-15-5D-00-00-02', '10.1.1.2', '10.1.1.1', { dstPort: 1433 }),
    );
    expect(ok.delivered).toBe(true);
    expect(ok.metered).toEqual([{ nicId: 'blue-sql', direction: 'inbound', meterClass: 'storage', bytes: 1500 }]);
  });

  it('PVLAN: an isolated port reaches the promiscuous port only', async () => {
    const input = blueYellowFabric();
    input.hosts = [input.hosts[0] ?? { hostId: 'host-1', pa: '192.168.1.1' }];
    const mk = (nicId: string, ca: string, mac: string, pvlan: PortPolicy['pvlan']) => ({
      ...(input.vnics[0] as (typeof input.vnics)[number]),
      nicId,
      vmName: nicId,
      ca,
      mac,
      hostId: 'host-1',
      policy: { ...(input.vnics[0]?.policy as PortPolicy), pvlan },
    });
    input.vnics = [
      mk('iso-a', '10.1.1.10', '00-15-5D-00-01-0A', { mode: 'isolated', primaryVlan: 2, secondaryVlan: 4 }),
      mk('iso-b', '10.1.1.11', '00-15-5D-00-01-0B', { mode: 'isolated', primaryVlan: 2, secondaryVlan: 4 }),
      mk('promisc', '10.1.1.12', '00-15-5D-00-01-0C', { mode: 'promiscuous', primaryVlan: 2 }),
    ];
    const peers = peersOf(input);
    const toIso = await trace('host-1', peers, ipPacket('iso-a', '00-15-5D-00-01-0A', '10.1.1.10', '10.1.1.11'));
    expect(toIso.hops.at(-1)?.rule).toBe('dropped at iso-b: PVLAN isolated ports reach only promiscuous ports');
    const toProm = await trace('host-1', peers, ipPacket('iso-a', '00-15-5D-00-01-0A', '10.1.1.10', '10.1.1.12'));
    expect(toProm.delivered).toBe(true);
  });
});

describe('deltas', () => {
  it('moving Blue WEB from host-2 to host-3 changes host-2, host-3 and host-1 (Blue SQL lookup), as versioned deltas that rebuild the policy', () => {
    const before = compileAll(blueYellowFabric());
    const input = blueYellowFabric();
    const web = input.vnics.find((n) => n.nicId === 'blue-web');
    if (web) web.hostId = 'host-3';
    const after = compileAll(input);
    expect(affectedHosts(before, after)).toEqual(['host-1', 'host-2', 'host-3']);
    for (const host of ['host-1', 'host-2', 'host-3']) {
      const delta = diffPolicy(before.get(host) ?? {}, after.get(host) ?? {}, 7);
      expect(delta?.toVersion).toBe(8);
      const applied = applyDelta(before.get(host) ?? {}, delta ?? { set: {}, remove: [] });
      expect(policyDigest(applied)).toBe(delta?.digest);
    }
    // Moving Yellow WEB within a fabric where no other host holds yellow touches only source, target and yellow's peers.
    expect(diffPolicy(before.get('host-1') ?? {}, before.get('host-1') ?? {}, 1)).toBeNull();
  });
});

describe('QoS: weighted max-min sharing', () => {
  it('a noisy neighbour cannot push a VM below its weighted share nor itself above its maximum', () => {
    const shares = shareBandwidth(10_000, [
      { nicId: 'noisy', offeredMbps: 50_000, weight: 1, maximumMbps: 6_000 },
      { nicId: 'quiet', offeredMbps: 9_000, weight: 3 },
      { nicId: 'idle', offeredMbps: 100, weight: 5 },
    ]);
    const by = Object.fromEntries(shares.map((s) => [s.nicId, s]));
    expect(by.idle?.achievedMbps).toBe(100);
    expect(by.noisy?.achievedMbps).toBeLessThanOrEqual(6_000);
    expect(by.quiet?.achievedMbps).toBeCloseTo((9_900 * 3) / 4, 0);
    expect(by.noisy?.achievedMbps).toBeCloseTo(9_900 / 4, 0);
    const alone = shareBandwidth(10_000, [{ nicId: 'noisy', offeredMbps: 50_000, weight: 1, maximumMbps: 6_000 }]);
    expect(alone[0]).toEqual({ nicId: 'noisy', achievedMbps: 6_000, limitedBy: 'maximum' });
  });
});

describe('QoS compiled into the host switch configuration', () => {
  it("puts a port's QoS in its item on its own host only, and leaves ports without QoS as they were", () => {
    const plain = compileAll(blueYellowFabric());
    const input = blueYellowFabric();
    const web = input.vnics.find((n) => n.nicId === 'blue-web');
    if (!web) throw new Error('no blue-web');
    web.qos = { minimumMbps: 400, weight: 3, maximumMbps: 2_000 };
    const compiled = compileAll(input);
    const host = web.hostId ?? '';
    expect(compiled.get(host)?.['port/blue-web']).toMatchObject({
      qos: { minimumMbps: 400, weight: 3, maximumMbps: 2_000 },
    });
    // Only the host of that port receives a delta; no other port's item changed.
    expect(affectedHosts(plain, compiled)).toEqual([host]);
    const delta = diffPolicy(plain.get(host) ?? {}, compiled.get(host) ?? {}, 1);
    expect(Object.keys(delta?.set ?? {})).toEqual(['port/blue-web']);
  });
});
