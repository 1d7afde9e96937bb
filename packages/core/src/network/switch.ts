import type { HostPolicy, LookupRecordItem, PortItem, RoutingDomainItem } from './compile';
import { type Prefix, parseIpv4, parseMac, parsePrefix, prefixContains } from './ip';
import type { PortAcl } from './network';

/**
 * The simulated Hyper-V extensible switch of one host, driven only by that
 * host's compiled policy. `egress` takes a frame a VM sends on its port and
 * either drops it (naming the rule), delivers it on this host, or puts it on
 * the wire encapsulated (GRE with the VSID in the key, or IP rewrite to the
 * CA's own PA). `ingress` takes a wire packet and decapsulates and delivers
 * it, or drops it. The agent runs exactly this code on its applied policy;
 * the trace and the isolation verifier use it too.
 */

export type PacketKind = 'ip' | 'arp' | 'dhcp-server' | 'router-advertisement';

export interface Packet {
  /** The port (vNIC id) the sending VM uses. */
  fromNic: string;
  kind: PacketKind;
  srcMac: string;
  /** Sender's IP (for ARP: the address it claims). */
  srcCa: string;
  dstCa: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  dstPort?: number | undefined;
  /** 802.1Q tag the VM put on the frame (trunk mode). */
  vlan?: number | undefined;
  bytes: number;
}

export interface WirePacket {
  outerSrc: string;
  outerDst: string;
  encapsulation: 'gre' | 'ip-rewrite';
  /** GRE key: the destination virtual subnet's VSID. */
  greKey?: number | undefined;
  inner: Packet;
  /** IP rewrite carries no key; the receiving host restores the CA from the PA. */
}

export interface Verdict {
  hostId: string;
  stage: 'egress' | 'wire' | 'ingress';
  ok: boolean;
  /** The rule that decided, in words: "dropped by db-01 inbound ACL deny 10.0.0.0/8". */
  rule: string;
  detail?: string;
}

export type EgressResult =
  | { kind: 'drop'; verdicts: Verdict[] }
  | { kind: 'wire'; wire: WirePacket; verdicts: Verdict[]; metered: Metered[] }
  | { kind: 'local'; wire: WirePacket; verdicts: Verdict[]; metered: Metered[] };

export type IngressResult =
  | { kind: 'drop'; verdicts: Verdict[] }
  | {
      kind: 'deliver';
      toNic: string;
      vmName: string;
      tenantId: string;
      rdid: string;
      mirroredTo: string[];
      verdicts: Verdict[];
      metered: Metered[];
    };

export interface Metered {
  nicId: string;
  direction: 'inbound' | 'outbound';
  meterClass: string;
  bytes: number;
}

/** Indexes over one host's policy, built once per applied version. */
export class SwitchState {
  readonly hostPa: string;
  readonly ports = new Map<string, PortItem>();
  readonly rds = new Map<string, RoutingDomainItem>();
  readonly records = new Map<string, LookupRecordItem>();
  /** "vsid/ca" → nicId for GRE decapsulation. */
  readonly portByVsidCa = new Map<string, string>();
  /** PA → nicId for IP rewrite. */
  readonly portByPa = new Map<string, string>();
  /** Parsed subnet prefixes per routing domain. */
  readonly rdPrefixes = new Map<string, Prefix[]>();

  constructor(
    readonly hostId: string,
    readonly policy: HostPolicy,
  ) {
    this.hostPa = (policy.host as { pa?: string } | undefined)?.pa ?? '';
    for (const [key, item] of Object.entries(policy)) {
      if (key.startsWith('port/')) {
        const nicId = key.slice(5);
        const port = item as PortItem;
        this.ports.set(nicId, port);
        this.portByVsidCa.set(`${port.vsid}/${port.ca}`, nicId);
        if (port.pa) this.portByPa.set(port.pa, nicId);
      } else if (key.startsWith('rd/')) {
        const rd = item as RoutingDomainItem;
        this.rds.set(key.slice(3), rd);
        this.rdPrefixes.set(
          key.slice(3),
          rd.subnets.map((s) => parsePrefix(s.prefix)).filter((p): p is Prefix => p !== null),
        );
      } else if (key.startsWith('ca/')) this.records.set(key.slice(3), item as LookupRecordItem);
    }
  }

  private paList: string[] | null = null;
  private paSet: Set<string> | null = null;

  private mirrors: Map<string, string[]> | null = null;

  /** Ports of a routing domain that receive mirrored traffic (port mirroring 'destination'). */
  mirrorDestinations(rdid: string): string[] {
    if (!this.mirrors) {
      this.mirrors = new Map();
      for (const [id, p] of this.ports) {
        if (p.policy.mirroring !== 'destination') continue;
        const list = this.mirrors.get(p.rdid) ?? [];
        list.push(id);
        this.mirrors.set(p.rdid, list);
      }
    }
    return this.mirrors.get(rdid) ?? [];
  }

  /** Every PA this host answers to on the wire. */
  pas(): string[] {
    if (!this.paList) this.paList = [this.hostPa, ...this.portByPa.keys()].filter((p) => p !== '');
    return this.paList;
  }

  ownsPa(pa: string): boolean {
    if (!this.paSet) this.paSet = new Set(this.pas());
    return this.paSet.has(pa);
  }
}

function aclMatches(acl: PortAcl, remoteIp: string, remoteMac: string, localPort: number | undefined): number {
  if (acl.localPort !== undefined && acl.localPort !== localPort) return -1;
  if ('mac' in acl.remote) return parseMac(acl.remote.mac) === parseMac(remoteMac) ? 48 : -1;
  const prefix = parsePrefix(acl.remote.prefix);
  const ip = parseIpv4(remoteIp);
  if (!prefix || ip === null || !prefixContains(prefix, ip)) return -1;
  return prefix.length;
}

/**
 * Port ACLs as Hyper-V evaluates them: among allow/deny rules matching the
 * remote address (and local port), the most specific wins, deny on a tie; no
 * match allows. Meter rules count bytes and never decide.
 */
export function evaluateAcls(
  acls: readonly PortAcl[],
  direction: 'inbound' | 'outbound',
  remoteIp: string,
  remoteMac: string,
  localPort: number | undefined,
): { allow: boolean; rule: string; meters: string[] } {
  let best: { specificity: number; acl: PortAcl } | null = null;
  const meters: string[] = [];
  for (const acl of acls) {
    if (acl.direction !== 'both' && acl.direction !== direction) continue;
    const s = aclMatches(acl, remoteIp, remoteMac, localPort);
    if (s < 0) continue;
    if (acl.action === 'meter') {
      meters.push(acl.meterClass ?? ('prefix' in acl.remote ? acl.remote.prefix : acl.remote.mac));
      continue;
    }
    const sp = s + (acl.localPort !== undefined ? 0.5 : 0);
    if (!best || sp > best.specificity || (sp === best.specificity && acl.action === 'deny'))
      best = { specificity: sp, acl };
  }
  if (!best) return { allow: true, rule: `no ${direction} ACL matches (default allow)`, meters };
  const remote = 'prefix' in best.acl.remote ? best.acl.remote.prefix : best.acl.remote.mac;
  const port = best.acl.localPort !== undefined ? ` port ${best.acl.localPort}` : '';
  return { allow: best.acl.action === 'allow', rule: `${direction} ACL ${best.acl.action} ${remote}${port}`, meters };
}

/** The whitepaper's PVLAN table: may these two ports exchange frames at layer 2? */
export function pvlanAllows(a: PortItem, b: PortItem): { ok: boolean; rule: string } {
  const pa = a.policy.pvlan;
  const pb = b.policy.pvlan;
  if (!pa || !pb) return { ok: true, rule: 'no PVLAN on both ports' };
  if (pa.primaryVlan !== pb.primaryVlan)
    return { ok: false, rule: `PVLAN primary VLAN ${pa.primaryVlan} ≠ ${pb.primaryVlan}` };
  if (pa.mode === 'promiscuous' || pb.mode === 'promiscuous') return { ok: true, rule: 'PVLAN promiscuous port' };
  if (pa.mode === 'isolated' || pb.mode === 'isolated')
    return { ok: false, rule: 'PVLAN isolated ports reach only promiscuous ports' };
  if (pa.secondaryVlan !== pb.secondaryVlan)
    return { ok: false, rule: `PVLAN community ${pa.secondaryVlan} ≠ community ${pb.secondaryVlan}` };
  return { ok: true, rule: `PVLAN community ${pa.secondaryVlan}` };
}

function inSubnets(prefixes: readonly Prefix[], ca: string): boolean {
  const ip = parseIpv4(ca);
  if (ip === null) return false;
  return prefixes.some((p) => prefixContains(p, ip));
}

export interface SwitchOptions {
  /** The verifier asks "could any packet pass?": guards and ACLs (which only drop) are skipped. */
  ignoreFilters?: boolean;
  /** No verdict text for passing hops (the verifier's hot loop; it traces a violation again for its hops). */
  quiet?: boolean;
}

export function egress(state: SwitchState, packet: Packet, options: SwitchOptions = {}): EgressResult {
  const h = state.hostId;
  const verdicts: Verdict[] = [];
  const drop = (rule: string, detail?: string): EgressResult => {
    verdicts.push({ hostId: h, stage: 'egress', ok: false, rule, ...(detail ? { detail } : {}) });
    return { kind: 'drop', verdicts };
  };
  const port = state.ports.get(packet.fromNic);
  if (!port) return drop(`no port ${packet.fromNic} on this host's switch`);
  const who = port.vmName;
  const filters = !options.ignoreFilters;
  if (filters) {
    if (!port.policy.macSpoofing && parseMac(packet.srcMac) !== parseMac(port.mac))
      return drop(
        `dropped by ${who} MAC spoofing protection`,
        `source MAC ${packet.srcMac} is not the port's ${port.mac}`,
      );
    if (packet.kind === 'arp' && port.policy.arpGuard && packet.srcCa !== port.ca)
      return drop(`dropped by ${who} ARP/ND spoofing protection`, `claims ${packet.srcCa}; the port owns ${port.ca}`);
    if (packet.kind === 'dhcp-server' && port.policy.dhcpGuard)
      return drop(`dropped by ${who} DHCP guard`, 'DHCP server traffic from a guarded port');
    if (packet.kind === 'router-advertisement' && port.policy.routerGuard)
      return drop(`dropped by ${who} router guard`, 'router advertisement from a guarded port');
    if (packet.srcCa !== port.ca && packet.kind === 'ip')
      return drop(`dropped by ${who} IP spoofing protection`, `source ${packet.srcCa} is not the port's ${port.ca}`);
    const trunk = port.policy.trunk;
    if (packet.vlan !== undefined) {
      if (!trunk) return drop(`dropped by ${who}: tagged frame (VLAN ${packet.vlan}) on an access port`);
      if (!trunk.allowedVlans.includes(packet.vlan))
        return drop(`dropped by ${who} trunk: VLAN ${packet.vlan} not allowed`);
    }
  }
  if (packet.kind !== 'ip') return drop(`${packet.kind} frames stay on the sender's segment (not forwarded)`);
  if (!options.quiet) verdicts.push({ hostId: h, stage: 'egress', ok: true, rule: `${who} port checks passed` });
  const metered: Metered[] = [];
  if (filters) {
    const acl = evaluateAcls(port.policy.acls, 'outbound', packet.dstCa, '', packet.dstPort);
    for (const m of acl.meters)
      metered.push({ nicId: packet.fromNic, direction: 'outbound', meterClass: m, bytes: packet.bytes });
    if (!acl.allow) return drop(`dropped by ${who} ${acl.rule}`);
    if (!options.quiet) verdicts.push({ hostId: h, stage: 'egress', ok: true, rule: `${who} ${acl.rule}` });
  }
  const rd = state.rds.get(port.rdid);
  if (!rd) return drop(`no routing domain ${port.rdid} in this host's policy`);
  if (!inSubnets(state.rdPrefixes.get(port.rdid) ?? [], packet.dstCa))
    return drop(`no route: ${packet.dstCa} is in no subnet of ${who}'s VM network`);
  const record = state.records.get(`${port.rdid}/${packet.dstCa}`);
  if (!record) return drop(`no CA→PA lookup record for ${packet.dstCa} in ${who}'s VM network`);
  const srcPa = rd.isolation === 'ip-rewrite' ? (port.pa ?? '') : state.hostPa;
  const wire: WirePacket =
    rd.isolation === 'gre'
      ? { outerSrc: srcPa, outerDst: record.pa, encapsulation: 'gre', greKey: record.vsid, inner: packet }
      : { outerSrc: srcPa, outerDst: record.pa, encapsulation: 'ip-rewrite', inner: packet };
  const how = rd.isolation === 'gre' ? `GRE key ${record.vsid}` : 'IP rewrite';
  if (!options.quiet)
    verdicts.push({
      hostId: h,
      stage: 'egress',
      ok: true,
      rule: `lookup ${packet.dstCa} → PA ${record.pa}; ${how}, ${srcPa} → ${record.pa}`,
    });
  return { kind: state.ownsPa(record.pa) ? 'local' : 'wire', wire, verdicts, metered };
}

export function ingress(state: SwitchState, wire: WirePacket, options: SwitchOptions = {}): IngressResult {
  const h = state.hostId;
  const verdicts: Verdict[] = [];
  const drop = (rule: string, detail?: string): IngressResult => {
    verdicts.push({ hostId: h, stage: 'ingress', ok: false, rule, ...(detail ? { detail } : {}) });
    return { kind: 'drop', verdicts };
  };
  let toNic: string | undefined;
  if (wire.encapsulation === 'gre') {
    if (wire.outerDst !== state.hostPa)
      return drop(`GRE packet for ${wire.outerDst}, not this host's PA ${state.hostPa}`);
    toNic = state.portByVsidCa.get(`${wire.greKey}/${wire.inner.dstCa}`);
    if (!toNic) return drop(`no port with VSID ${wire.greKey} and CA ${wire.inner.dstCa} on this host`);
  } else {
    toNic = state.portByPa.get(wire.outerDst);
    if (!toNic) return drop(`no port owns PA ${wire.outerDst} on this host`);
  }
  const port = state.ports.get(toNic);
  if (!port) return drop(`no port ${toNic}`);
  const rd = state.rds.get(port.rdid);
  if (!rd || (rd.isolation === 'gre') !== (wire.encapsulation === 'gre'))
    return drop(`${port.vmName}'s VM network does not use ${wire.encapsulation}`);
  if (wire.encapsulation === 'ip-rewrite' && port.ca !== wire.inner.dstCa)
    return drop(`PA ${wire.outerDst} belongs to CA ${port.ca}, not ${wire.inner.dstCa}`);
  // The sender must be a known member of the receiving port's routing domain, at the PA it came from.
  const sender = state.records.get(`${port.rdid}/${wire.inner.srcCa}`);
  if (!sender || sender.pa !== wire.outerSrc)
    return drop(
      `dropped at ${port.vmName}: sender ${wire.inner.srcCa} at PA ${wire.outerSrc} is not in its VM network's lookup records`,
    );
  if (!options.quiet)
    verdicts.push({
      hostId: h,
      stage: 'ingress',
      ok: true,
      rule: `decapsulated to ${port.vmName} (${port.ca}, VSID ${port.vsid})`,
    });
  const metered: Metered[] = [];
  if (!options.ignoreFilters) {
    const fromPort = state.ports.get(wire.inner.fromNic);
    const senderPort = fromPort ?? portLike(sender);
    const pv = pvlanAllows(senderPort, port);
    if (!pv.ok) return drop(`dropped at ${port.vmName}: ${pv.rule}`);
    const acl = evaluateAcls(port.policy.acls, 'inbound', wire.inner.srcCa, sender.mac, wire.inner.dstPort);
    for (const m of acl.meters)
      metered.push({ nicId: toNic, direction: 'inbound', meterClass: m, bytes: wire.inner.bytes });
    if (!acl.allow) return drop(`dropped by ${port.vmName} ${acl.rule}`);
    if (!options.quiet) verdicts.push({ hostId: h, stage: 'ingress', ok: true, rule: `${port.vmName} ${acl.rule}` });
  }
  const mirroredTo =
    port.policy.mirroring === 'source' ? state.mirrorDestinations(port.rdid).filter((id) => id !== toNic) : [];
  if (!options.quiet) verdicts.push({ hostId: h, stage: 'ingress', ok: true, rule: `delivered to ${port.vmName}` });
  return {
    kind: 'deliver',
    toNic,
    vmName: port.vmName,
    tenantId: port.tenantId,
    rdid: port.rdid,
    mirroredTo,
    verdicts,
    metered,
  };
}

/** A remote sender has no port here; PVLAN of remote senders is not known on this host. */
function portLike(record: LookupRecordItem): PortItem {
  return {
    vmId: '',
    vmName: '',
    tenantId: '',
    rdid: '',
    vsid: record.vsid,
    ca: '',
    mac: record.mac,
    policy: { macSpoofing: false, dhcpGuard: true, routerGuard: true, arpGuard: true, acls: [], mirroring: 'none' },
  };
}

export interface TraceResult {
  delivered: boolean;
  toNic?: string | undefined;
  rdid?: string | undefined;
  tenantId?: string | undefined;
  hops: Verdict[];
  metered: Metered[];
}

/** A host's switch, local or behind an agent: what the trace walks through. */
export interface SwitchPeer {
  hostId: string;
  pas: string[];
  egress(packet: Packet, options?: SwitchOptions): EgressResult | Promise<EgressResult>;
  ingress(wire: WirePacket, options?: SwitchOptions): IngressResult | Promise<IngressResult>;
}

export function localPeer(state: SwitchState): SwitchPeer {
  return {
    hostId: state.hostId,
    pas: state.pas(),
    egress: (p, o) => egress(state, p, o),
    ingress: (w, o) => ingress(state, w, o),
  };
}

/**
 * Trace one packet from the host where its sender runs through the peers'
 * switches: egress, the wire (PA → host), ingress. Every hop's verdict.
 */
export async function trace(
  fromHost: string,
  peers: ReadonlyMap<string, SwitchPeer>,
  packet: Packet,
  options: SwitchOptions = {},
): Promise<TraceResult> {
  const src = peers.get(fromHost);
  if (!src)
    return {
      delivered: false,
      hops: [{ hostId: fromHost, stage: 'egress', ok: false, rule: 'no switch for this host' }],
      metered: [],
    };
  const out = await src.egress(packet, options);
  if (out.kind === 'drop') return { delivered: false, hops: out.verdicts, metered: [] };
  let dst: SwitchPeer | undefined;
  if (out.kind === 'local') dst = src;
  else for (const p of peers.values()) if (p.pas.includes(out.wire.outerDst)) dst = p;
  const hops = [...out.verdicts];
  if (!dst) {
    hops.push({ hostId: fromHost, stage: 'wire', ok: false, rule: `no host answers to PA ${out.wire.outerDst}` });
    return { delivered: false, hops, metered: out.metered };
  }
  hops.push({
    hostId: fromHost,
    stage: 'wire',
    ok: true,
    rule: out.kind === 'local' ? 'same host: no wire' : `on the wire to ${dst.hostId} (${out.wire.outerDst})`,
  });
  const inn = await dst.ingress(out.wire, options);
  hops.push(...inn.verdicts);
  if (inn.kind === 'drop') return { delivered: false, hops, metered: out.metered };
  return {
    delivered: true,
    toNic: inn.toNic,
    rdid: inn.rdid,
    tenantId: inn.tenantId,
    hops,
    metered: [...out.metered, ...inn.metered],
  };
}
