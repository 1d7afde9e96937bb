import { createHash } from 'node:crypto';
import type { HostAddressing, IsolationMode, PortPolicy, VnicPlacement } from './network';
import type { PortQos } from './qos';

/**
 * The policy management server's compiler: for each host, exactly what its
 * VMs need: the routing domains present on it (with their subnets), the
 * CA→PA lookup records of those routing domains, and the port policies of
 * its own vNICs. A host with no Blue VM receives nothing of Blue.
 *
 * A host's policy is a flat map of keyed items so that a change is a delta
 * (set / remove by key), versioned per host, and an agent can prove it
 * applied the right thing by comparing digests.
 *
 *   host              { pa }
 *   rd/<rdid>         { isolation, subnets: [{ vsid, prefix, gateway }] }
 *   ca/<rdid>/<ca>    { vsid, mac, pa, hostId }        the lookup record
 *   port/<nicId>      { vmId, vmName, tenantId, rdid, vsid, ca, mac, pa?, policy, qos? }
 */

export interface HostItem {
  pa: string;
}
export interface RoutingDomainItem {
  isolation: IsolationMode;
  subnets: { vsid: number; prefix: string; gateway: string }[];
}
export interface LookupRecordItem {
  vsid: number;
  mac: string;
  pa: string;
  hostId: string;
}
export interface PortItem {
  vmId: string;
  vmName: string;
  tenantId: string;
  rdid: string;
  vsid: number;
  ca: string;
  mac: string;
  /** IP rewrite: this CA's own provider address. */
  pa?: string | undefined;
  policy: PortPolicy;
  /**
   * The bandwidth the switch enforces (absolute minimum as a floor, weight, maximum as a cap): the NIC's
   * admitted minimum joined with its port policy. Absent on a port without QoS, so its item is unchanged.
   */
  qos?: PortQos | undefined;
}
export type PolicyItem = HostItem | RoutingDomainItem | LookupRecordItem | PortItem;

/** One host's compiled policy: key → item. Keys are ordered when serialised. */
export type HostPolicy = Record<string, PolicyItem>;

export interface RoutingDomainInput {
  rdid: string;
  tenantId: string;
  isolation: IsolationMode;
  subnets: { vsid: number; prefix: string; gateway: string }[];
}

export interface CompileInput {
  hosts: readonly HostAddressing[];
  routingDomains: readonly RoutingDomainInput[];
  vnics: readonly VnicPlacement[];
}

export function compileAll(input: CompileInput): Map<string, HostPolicy> {
  const rdById = new Map(input.routingDomains.map((rd) => [rd.rdid, rd]));
  const hostPa = new Map(input.hosts.map((h) => [h.hostId, h.pa]));
  // Lookup records per routing domain, built once and shared by every host that needs them.
  const recordsByRd = new Map<string, [string, LookupRecordItem][]>();
  const rdsByHost = new Map<string, Set<string>>();
  const portsByHost = new Map<string, VnicPlacement[]>();
  for (const nic of input.vnics) {
    if (nic.hostId === null) continue;
    const rd = rdById.get(nic.vmNetworkId);
    const pa = rd?.isolation === 'ip-rewrite' ? nic.pa : hostPa.get(nic.hostId);
    if (!rd || pa === undefined) continue;
    let records = recordsByRd.get(rd.rdid);
    if (!records) {
      records = [];
      recordsByRd.set(rd.rdid, records);
    }
    records.push([`ca/${rd.rdid}/${nic.ca}`, { vsid: nic.vsid, mac: nic.mac, pa, hostId: nic.hostId }]);
    let rds = rdsByHost.get(nic.hostId);
    if (!rds) {
      rds = new Set();
      rdsByHost.set(nic.hostId, rds);
    }
    rds.add(rd.rdid);
    let ports = portsByHost.get(nic.hostId);
    if (!ports) {
      ports = [];
      portsByHost.set(nic.hostId, ports);
    }
    ports.push(nic);
  }
  const out = new Map<string, HostPolicy>();
  for (const host of input.hosts) {
    const policy: HostPolicy = { host: { pa: host.pa } };
    for (const rdid of rdsByHost.get(host.hostId) ?? []) {
      const rd = rdById.get(rdid);
      if (!rd) continue;
      policy[`rd/${rdid}`] = { isolation: rd.isolation, subnets: rd.subnets };
      for (const [key, record] of recordsByRd.get(rdid) ?? []) policy[key] = record;
    }
    for (const nic of portsByHost.get(host.hostId) ?? []) {
      const rd = rdById.get(nic.vmNetworkId);
      const port: PortItem = {
        vmId: nic.vmId,
        vmName: nic.vmName,
        tenantId: nic.tenantId,
        rdid: nic.vmNetworkId,
        vsid: nic.vsid,
        ca: nic.ca,
        mac: nic.mac,
        policy: nic.policy,
      };
      if (rd?.isolation === 'ip-rewrite' && nic.pa) port.pa = nic.pa;
      if (nic.qos) port.qos = nic.qos;
      policy[`port/${nic.nicId}`] = port;
    }
    out.set(host.hostId, policy);
  }
  return out;
}

/** Stable serialisation: keys sorted at every level. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Items are shared between hosts' policies (one record object per routing domain member): serialise each once. */
const canonicalCache = new WeakMap<object, string>();
function canonicalItem(item: PolicyItem): string {
  let text = canonicalCache.get(item);
  if (text === undefined) {
    text = canonical(item);
    canonicalCache.set(item, text);
  }
  return text;
}

function itemsEqual(a: PolicyItem, b: PolicyItem): boolean {
  return a === b || canonicalItem(a) === canonicalItem(b);
}

export function policyDigest(policy: HostPolicy): string {
  return createHash('sha256').update(canonical(policy)).digest('hex');
}

/** Bytes of a host policy as sent (canonical JSON). */
export function policyBytes(policy: HostPolicy): number {
  return Buffer.byteLength(canonical(policy));
}

export interface PolicyDelta {
  fromVersion: number;
  toVersion: number;
  set: Record<string, PolicyItem>;
  remove: string[];
  /** Digest of the whole policy after applying, so the agent can check itself. */
  digest: string;
}

/** Items that differ between two policies of one host; null when none do. */
export function diffPolicy(before: HostPolicy, after: HostPolicy, fromVersion: number): PolicyDelta | null {
  const set: Record<string, PolicyItem> = {};
  const remove: string[] = [];
  for (const [key, item] of Object.entries(after)) {
    const old = before[key];
    if (old === undefined || !itemsEqual(old, item)) set[key] = item;
  }
  for (const key of Object.keys(before)) if (!(key in after)) remove.push(key);
  if (Object.keys(set).length === 0 && remove.length === 0) return null;
  return { fromVersion, toVersion: fromVersion + 1, set, remove: remove.sort(), digest: policyDigest(after) };
}

export function applyDelta(policy: HostPolicy, delta: Pick<PolicyDelta, 'set' | 'remove'>): HostPolicy {
  const next: HostPolicy = { ...policy };
  for (const key of delta.remove) delete next[key];
  for (const [key, item] of Object.entries(delta.set)) next[key] = item;
  return next;
}

/**
 * The hosts whose policy a change touches: every host present in either
 * compilation whose items differ. Hosts not returned receive nothing.
 */
export function affectedHosts(before: Map<string, HostPolicy>, after: Map<string, HostPolicy>): string[] {
  const hosts = new Set([...before.keys(), ...after.keys()]);
  const out: string[] = [];
  for (const host of hosts) {
    const a = before.get(host) ?? {};
    const b = after.get(host) ?? {};
    const keysA = Object.keys(a);
    let differs = keysA.length !== Object.keys(b).length;
    for (let i = 0; !differs && i < keysA.length; i++) {
      const key = keysA[i] as string;
      const x = a[key];
      const y = b[key];
      differs = x === undefined || y === undefined || !itemsEqual(x, y);
    }
    if (differs) out.push(host);
  }
  return out.sort();
}
