import { checkNewSubnet, defaultGateway } from './ipam';
import type { PortPolicy, VirtualSubnet } from './network';
import { NetworkError } from './network.errors';
import type { TraceResult } from './switch';

/**
 * The rules of editing and deleting tenant networks, and of what a tenant may
 * see of a trace. Pure: each function returns the decision or throws a
 * NetworkError naming the rule, so the service checks everything before it
 * writes anything.
 */

export interface AttachedNic {
  vmName: string;
  nicName: string;
}

/** Names up to three attached NICs, so the refusal says what to detach. */
function listAttached(nics: readonly AttachedNic[]): string {
  const names = nics.slice(0, 3).map((n) => `${n.vmName}/${n.nicName}`);
  const more = nics.length > 3 ? ` and ${nics.length - 3} more` : '';
  return `${names.join(', ')}${more}`;
}

/**
 * Deleting a VM network or subnet, or changing how its VMs are addressed
 * (isolation mode, prefix, gateway), would strand the VM NICs attached to it:
 * refused while any is attached (rule NETWORK_IN_USE).
 */
export function refuseWhileAttached(what: string, change: string, attached: readonly AttachedNic[]): void {
  if (attached.length === 0) return;
  throw new NetworkError(
    'NETWORK_IN_USE',
    `Cannot ${change} ${what}: ${attached.length} VM NIC${attached.length === 1 ? ' is' : 's are'} attached (${listAttached(attached)}). Delete those VMs or move their NICs to another subnet first (rule NETWORK_IN_USE)`,
  );
}

export interface SubnetEdit {
  name?: string | undefined;
  prefix?: string | undefined;
  gateway?: string | undefined;
}

/**
 * A subnet after an edit: a rename is always allowed; a new prefix or gateway
 * only while no NIC is attached, must not overlap a sibling subnet, and keeps
 * the gateway inside the prefix (a new prefix without a gateway moves the
 * gateway to its first address).
 */
export function planSubnetEdit(
  subnet: Pick<VirtualSubnet, 'id' | 'name' | 'vsid' | 'prefix' | 'gateway'>,
  siblings: readonly Pick<VirtualSubnet, 'id' | 'prefix' | 'name'>[],
  attached: readonly AttachedNic[],
  edit: SubnetEdit,
): { name: string; prefix: string; gateway: string } {
  const prefix = edit.prefix ?? subnet.prefix;
  const readdress = prefix !== subnet.prefix || (edit.gateway !== undefined && edit.gateway !== subnet.gateway);
  if (readdress) refuseWhileAttached(`subnet "${subnet.name}"`, 're-address', attached);
  let gateway = edit.gateway ?? subnet.gateway;
  if (edit.gateway === undefined && prefix !== subnet.prefix) gateway = defaultGateway(prefix);
  const name = edit.name ?? subnet.name;
  const others = siblings.filter((s) => s.id !== subnet.id);
  const dup = others.find((s) => s.name === name);
  if (dup)
    throw new NetworkError('SUBNET_OVERLAP', `This VM network already has a subnet named "${name}" (names are unique)`);
  checkNewSubnet({ vsid: subnet.vsid, prefix, gateway, name }, others, () => false);
  return { name, prefix, gateway };
}

/**
 * QoS of a port: a maximum below the bandwidth the NIC has reserved as its
 * minimum (admitted at placement) could never be honoured.
 */
export function checkPortQos(policy: Pick<PortPolicy, 'maximumBandwidthMbps'>, minimumMbps: number | null): void {
  if (policy.maximumBandwidthMbps !== undefined && minimumMbps !== null && minimumMbps > policy.maximumBandwidthMbps)
    throw new NetworkError(
      'QOS_MINIMUM_ABOVE_MAXIMUM',
      `Maximum bandwidth ${policy.maximumBandwidthMbps} Mbps is below this NIC's reserved minimum of ${minimumMbps} Mbps (rule QOS_MINIMUM_ABOVE_MAXIMUM)`,
    );
}

export interface TenantTrace {
  delivered: boolean;
  toVmName?: string | undefined;
  hops: { stage: 'egress' | 'wire' | 'ingress'; ok: boolean; rule: string }[];
}

/**
 * What a tenant sees of a trace from its own VM: each hop's verdict on its
 * own ports, but never the provider's addresses (PAs, hosts) nor anything of
 * another tenant: hops on the wire say only that the provider network carried
 * (or could not carry) the packet, and a destination NIC is named only if it
 * is the tenant's own.
 */
export function tenantTraceView(
  result: Pick<TraceResult, 'delivered' | 'toNic' | 'hops'>,
  ownNics: ReadonlyMap<string, string>,
): TenantTrace {
  const own = result.toNic !== undefined ? ownNics.get(result.toNic) : undefined;
  const hops = result.hops.map((h) => {
    const infrastructure = h.stage === 'wire' || /\bPA\b|this host|host's/.test(h.rule);
    const rule = !infrastructure
      ? h.rule
      : h.ok
        ? 'carried across the provider network'
        : 'not delivered by the provider network';
    return { stage: h.stage, ok: h.ok, rule };
  });
  if (result.delivered && own === undefined)
    return { delivered: false, hops: [...hops, { stage: 'ingress', ok: false, rule: 'not delivered' }] };
  return { delivered: result.delivered, toVmName: own, hops };
}
