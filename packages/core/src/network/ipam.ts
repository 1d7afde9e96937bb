import {
  formatIpv4,
  type Prefix,
  parseIpv4,
  parseMac,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
  prefixLast,
  reservedRangeProblem,
} from './ip';
import type { PortPolicy, Pvlan, VirtualSubnet } from './network';
import { VLAN_MAX, VLAN_MIN, VSID_MAX, VSID_MIN } from './network';
import { NetworkError } from './network.errors';

/**
 * IP address management and the validation rules of issue 13. Every function
 * is pure: it either returns the decision or throws a NetworkError whose code
 * names the rule, so a service can validate everything before writing
 * anything.
 */

export function prefixOrThrow(text: string, what: string): Prefix {
  const prefix = parsePrefix(text);
  if (!prefix)
    throw new NetworkError(
      'INVALID_PREFIX',
      `${what} "${text}" is not an IPv4 prefix with its host bits zero (e.g. 10.1.1.0/24)`,
    );
  if (prefix.length > 30)
    throw new NetworkError('INVALID_PREFIX', `${what} "${text}" is longer than /30: no room for a gateway and a VM`);
  return prefix;
}

export function addressOrThrow(text: string, what: string): number {
  const address = parseIpv4(text);
  if (address === null) throw new NetworkError('INVALID_ADDRESS', `${what} "${text}" is not an IPv4 address`);
  return address;
}

export function checkVlan(vlan: number, what = 'VLAN ID'): void {
  if (!Number.isInteger(vlan) || vlan < VLAN_MIN || vlan > VLAN_MAX)
    throw new NetworkError(
      'VLAN_OUT_OF_RANGE',
      `${what} ${vlan} is outside ${VLAN_MIN}–${VLAN_MAX} (rule VLAN_OUT_OF_RANGE)`,
    );
}

export function checkVsid(vsid: number): void {
  if (!Number.isInteger(vsid) || vsid < VSID_MIN || vsid > VSID_MAX)
    throw new NetworkError(
      'VSID_OUT_OF_RANGE',
      `Virtual subnet ID ${vsid} is outside ${VSID_MIN}–${VSID_MAX} (24-bit VSIDs; 0–4095 are reserved) (rule VSID_OUT_OF_RANGE)`,
    );
}

export function checkPvlan(pvlan: Pvlan | undefined): void {
  if (!pvlan) return;
  checkVlan(pvlan.primaryVlan, 'PVLAN primary VLAN');
  if (pvlan.mode === 'promiscuous') {
    if (pvlan.secondaryVlan !== undefined) checkVlan(pvlan.secondaryVlan, 'PVLAN secondary VLAN');
    return;
  }
  if (pvlan.secondaryVlan === undefined)
    throw new NetworkError(
      'PVLAN_SECONDARY_REQUIRED',
      `${pvlanPort(pvlan.mode)} needs a secondary VLAN under its primary VLAN ${pvlan.primaryVlan} (rule PVLAN_SECONDARY_REQUIRED)`,
    );
  checkVlan(pvlan.secondaryVlan, 'PVLAN secondary VLAN');
  if (pvlan.secondaryVlan === pvlan.primaryVlan)
    throw new NetworkError(
      'PORT_POLICY_CONFLICT',
      `${pvlanPort(pvlan.mode)}'s secondary VLAN must differ from its primary VLAN ${pvlan.primaryVlan} (rule PORT_POLICY_CONFLICT)`,
    );
}

/** "An isolated PVLAN port", "A community PVLAN port": the article the mode takes. */
function pvlanPort(mode: Pvlan['mode']): string {
  return `${/^[aeiou]/.test(mode) ? 'An' : 'A'} ${mode} PVLAN port`;
}

/**
 * A PVLAN given as bare fields (API input). Every PVLAN has a mode and a primary VLAN: `{}` or a VLAN
 * without a mode is refused by name, never read as "no PVLAN" (clearing one is `pvlan: null`).
 */
export function pvlanFromFields(fields: { mode?: Pvlan['mode']; primaryVlan?: number; secondaryVlan?: number }): Pvlan {
  if (fields.mode === undefined)
    throw new NetworkError(
      'PVLAN_MODE_REQUIRED',
      'A PVLAN needs a mode: isolated, community or promiscuous (rule PVLAN_MODE_REQUIRED); pvlan: null clears the PVLAN',
    );
  if (fields.primaryVlan === undefined)
    throw new NetworkError(
      'PVLAN_PRIMARY_REQUIRED',
      `${pvlanPort(fields.mode)} needs a primary VLAN (rule PVLAN_PRIMARY_REQUIRED); pvlan: null clears the PVLAN`,
    );
  const pvlan: Pvlan = {
    mode: fields.mode,
    primaryVlan: fields.primaryVlan,
    secondaryVlan: fields.secondaryVlan,
  };
  checkPvlan(pvlan);
  return pvlan;
}

export function checkPortPolicy(policy: PortPolicy): void {
  checkPvlan(policy.pvlan);
  // Hyper-V puts a port in one VLAN mode (Set-VMNetworkAdapterVlan: access, trunk, or a private VLAN): a port
  // both isolated by a PVLAN and trunking other VLANs would have no meaning the host can apply.
  if (policy.pvlan && policy.trunk)
    throw new NetworkError(
      'PORT_POLICY_CONFLICT',
      'A port is in one VLAN mode: PVLAN or trunk, not both (rule PORT_POLICY_CONFLICT); clear one of them',
    );
  if (policy.trunk) {
    const seen = new Set<number>();
    for (const v of policy.trunk.allowedVlans) {
      if (seen.has(v))
        throw new NetworkError(
          'PORT_POLICY_CONFLICT',
          `Trunk allowed VLAN ${v} is listed twice (rule PORT_POLICY_CONFLICT)`,
        );
      seen.add(v);
    }
    for (const v of policy.trunk.allowedVlans) checkVlan(v, 'Trunk allowed VLAN');
    checkVlan(policy.trunk.nativeVlan, 'Trunk native VLAN');
    if (!policy.trunk.allowedVlans.includes(policy.trunk.nativeVlan))
      throw new NetworkError(
        'TRUNK_NATIVE_NOT_ALLOWED',
        `Trunk native VLAN ${policy.trunk.nativeVlan} is not among the allowed VLANs`,
      );
  }
  // A repeated ACL changes nothing the switch does but takes one of the port's 32 places and hides what the
  // list means; trunk VLANs listed twice are refused alike. Positions count from 1, as the console lists them.
  const firstAt = new Map<string, number>();
  for (const [i, acl] of policy.acls.entries()) {
    const key = aclKey(acl);
    const first = firstAt.get(key);
    if (first !== undefined)
      throw new NetworkError(
        'PORT_POLICY_CONFLICT',
        `ACL ${i + 1} repeats ACL ${first + 1} (same direction, action, remote, local port and meter class) (rule PORT_POLICY_CONFLICT); remove one of them`,
      );
    firstAt.set(key, i);
  }
  for (const acl of policy.acls) {
    if ('prefix' in acl.remote) {
      const p = parsePrefix(acl.remote.prefix);
      if (!p)
        throw new NetworkError(
          'INVALID_PREFIX',
          `ACL remote "${acl.remote.prefix}" is not an IPv4 prefix with its host bits zero`,
        );
    } else if (parseMac(acl.remote.mac) === null) {
      throw new NetworkError('INVALID_ADDRESS', `ACL remote MAC "${acl.remote.mac}" is not a MAC address`);
    }
  }
}

/** Default gateway of a subnet: its first host address. */
export function defaultGateway(prefixText: string): string {
  const prefix = prefixOrThrow(prefixText, 'Subnet prefix');
  return formatIpv4(prefix.base + 1);
}

/**
 * A new virtual subnet of a VM network: VSID range and uniqueness (fabric-wide),
 * prefix well-formed, no overlap with another subnet of the same VM network
 * (overlap with other tenants' networks is the point, and allowed), gateway
 * inside the prefix.
 */
export function checkNewSubnet(
  subnet: Pick<VirtualSubnet, 'vsid' | 'prefix' | 'gateway' | 'name'>,
  siblings: readonly Pick<VirtualSubnet, 'prefix' | 'name'>[],
  vsidInUse: (vsid: number) => boolean,
): void {
  checkVsid(subnet.vsid);
  if (vsidInUse(subnet.vsid))
    throw new NetworkError('VSID_IN_USE', `Virtual subnet ID ${subnet.vsid} is already used by another virtual subnet`);
  const prefix = prefixOrThrow(subnet.prefix, 'Subnet prefix');
  const reserved = reservedRangeProblem(subnet.prefix);
  if (reserved)
    throw new NetworkError('INVALID_PREFIX', `${reserved}: a VM subnet needs a unicast range (rule RESERVED_RANGE)`);
  for (const sibling of siblings) {
    const other = parsePrefix(sibling.prefix);
    if (other && prefixesOverlap(prefix, other))
      throw new NetworkError(
        'SUBNET_OVERLAP',
        `Subnet ${subnet.prefix} overlaps subnet "${sibling.name}" (${sibling.prefix}) in the same VM network (rule SUBNET_OVERLAP; other tenants' networks may overlap)`,
      );
  }
  const gateway = addressOrThrow(subnet.gateway, 'Gateway');
  if (!usable(prefix, gateway))
    throw new NetworkError(
      'CA_OUTSIDE_SUBNET',
      `Gateway ${subnet.gateway} is not a usable address of ${subnet.prefix} (rule CA_OUTSIDE_SUBNET)`,
    );
}

function usable(prefix: Prefix, address: number): boolean {
  return prefixContains(prefix, address) && address !== prefix.base && address !== prefixLast(prefix);
}

/**
 * A customer address for a vNIC: the static one if given (inside the subnet,
 * not its network/broadcast/gateway, not taken), else the lowest free one.
 */
export function allocateCa(
  subnet: Pick<VirtualSubnet, 'prefix' | 'gateway' | 'name'>,
  used: ReadonlySet<string>,
  requested?: string,
): string {
  const prefix = prefixOrThrow(subnet.prefix, 'Subnet prefix');
  if (requested !== undefined) {
    const address = addressOrThrow(requested, 'Customer address');
    if (!prefixContains(prefix, address))
      throw new NetworkError(
        'CA_OUTSIDE_SUBNET',
        `Customer address ${requested} is outside subnet "${subnet.name}" (${subnet.prefix}) (rule CA_OUTSIDE_SUBNET)`,
      );
    if (address === prefix.base || address === prefixLast(prefix) || requested === subnet.gateway)
      throw new NetworkError(
        'CA_RESERVED',
        `Customer address ${requested} is the network, broadcast or gateway address of ${subnet.prefix}`,
      );
    if (used.has(requested))
      throw new NetworkError(
        'CA_IN_USE',
        `Customer address ${requested} is already assigned in subnet "${subnet.name}"`,
      );
    return requested;
  }
  for (let a = prefix.base + 1; a < prefixLast(prefix); a++) {
    const text = formatIpv4(a >>> 0);
    if (text !== subnet.gateway && !used.has(text)) return text;
  }
  throw new NetworkError(
    'POOL_EXHAUSTED',
    `Subnet "${subnet.name}" (${subnet.prefix}) has no free customer address (rule POOL_EXHAUSTED)`,
  );
}

/** The lowest free provider address of a PA pool (its gateway excluded). */
export function allocatePa(pool: { prefix: string; gateway: string }, used: ReadonlySet<string>): string {
  const prefix = prefixOrThrow(pool.prefix, 'PA pool prefix');
  for (let a = prefix.base + 1; a < prefixLast(prefix); a++) {
    const text = formatIpv4(a >>> 0);
    if (text !== pool.gateway && !used.has(text)) return text;
  }
  throw new NetworkError('POOL_EXHAUSTED', `PA pool ${pool.prefix} has no free provider address (rule POOL_EXHAUSTED)`);
}

/** What makes two ACLs the same rule: a MAC in either spelling (00-15-5D…, 00:15:5d…) is one remote. */
function aclKey(acl: PortPolicy['acls'][number]): string {
  const remote =
    'prefix' in acl.remote ? `prefix ${acl.remote.prefix}` : `mac ${acl.remote.mac.toUpperCase().replaceAll(':', '-')}`;
  return [acl.direction, acl.action, remote, acl.localPort ?? 'any', acl.meterClass ?? ''].join('|');
}
