import type { PortQos } from './qos';

/**
 * Tenant networks in the whitepaper's terms ("Scale beyond VLANs with Hyper-V
 * Network Virtualization", "More secure multitenancy"): the provider side
 * (logical networks with provider-address pools and VLANs per cluster, each
 * host's PA, a fabric MAC pool) and the tenant side (VM networks = routing
 * domains, virtual subnets with 24-bit VSIDs and customer-address prefixes
 * that may overlap between tenants), and every vNIC's port policy.
 */

/** The whitepaper's two ways of virtualizing a CA on the wire. */
export type IsolationMode = 'gre' | 'ip-rewrite';

/** VSIDs 0–4095 are reserved (the VLAN range); 16777215 is reserved. */
export const VSID_MIN = 4096;
export const VSID_MAX = 16_777_214;
export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;

export interface PaPool {
  id: string;
  clusterId: string;
  /** e.g. 192.168.1.0/24 */
  prefix: string;
  vlanId: number;
  /** First and last usable PA (inclusive); default the prefix's hosts minus the gateway. */
  gateway: string;
}

export interface LogicalNetwork {
  id: string;
  name: string;
  pools: PaPool[];
}

export interface MacPool {
  /** Inclusive range, e.g. 00-15-5D-00-00-00 .. 00-15-5D-FF-FF-FF (Hyper-V's OUI). */
  first: string;
  last: string;
}

export interface VmNetwork {
  id: string;
  tenantId: string;
  name: string;
  isolation: IsolationMode;
  /** The routing domain id (RDID): subnets of one VM network route to each other. */
  subnets: VirtualSubnet[];
}

export interface VirtualSubnet {
  id: string;
  vmNetworkId: string;
  name: string;
  vsid: number;
  /** CA prefix, e.g. 10.1.1.0/24. */
  prefix: string;
  /** The subnet's default gateway CA (first address by default). */
  gateway: string;
}

export type PvlanMode = 'isolated' | 'community' | 'promiscuous';

export interface Pvlan {
  mode: PvlanMode;
  primaryVlan: number;
  /** Secondary VLAN for isolated/community ports; a promiscuous port lists none. */
  secondaryVlan?: number | undefined;
}

export type AclAction = 'allow' | 'deny' | 'meter';
export type AclDirection = 'inbound' | 'outbound' | 'both';

export interface PortAcl {
  direction: AclDirection;
  action: AclAction;
  /** A remote prefix ("10.0.0.0/8", "0.0.0.0/0") or a remote MAC. */
  remote: { prefix: string } | { mac: string };
  /** Optional local TCP/UDP port (e.g. 5432); omitted means any. */
  localPort?: number | undefined;
  /** For meter: the metered address class its bytes are reported under. */
  meterClass?: string | undefined;
}

export interface PortPolicy {
  macSpoofing: boolean;
  dhcpGuard: boolean;
  routerGuard: boolean;
  /** ARP/ND spoofing protection: the port may only claim its own CA. */
  arpGuard: boolean;
  pvlan?: Pvlan | undefined;
  acls: PortAcl[];
  trunk?: { allowedVlans: number[]; nativeVlan: number } | undefined;
  /** Port mirroring: 'source' copies this port's traffic to every 'destination' port of the same VM network on the host. */
  mirroring: 'none' | 'source' | 'destination';
  maximumBandwidthMbps?: number | undefined;
  minimumBandwidthWeight?: number | undefined;
}

export const DEFAULT_PORT_POLICY: PortPolicy = {
  macSpoofing: false,
  dhcpGuard: true,
  routerGuard: true,
  arpGuard: true,
  acls: [],
  mirroring: 'none',
};

/** A vNIC as the compiler sees it: where it runs and what it is in the tenant's network. */
export interface VnicPlacement {
  nicId: string;
  vmId: string;
  vmName: string;
  tenantId: string;
  vmNetworkId: string;
  subnetId: string;
  vsid: number;
  ca: string;
  mac: string;
  /** null when the VM is not placed (no host policy needs it). */
  hostId: string | null;
  /** For ip-rewrite: the PA of this CA (one PA per CA); for GRE the host's PA is used. */
  pa?: string | undefined;
  policy: PortPolicy;
  /** The bandwidth the host's switch enforces on this port (qos.ts effectiveQos); none: no QoS. */
  qos?: PortQos | undefined;
}

export interface HostAddressing {
  hostId: string;
  /** The host's provider address (GRE: shared by all its VMs). */
  pa: string;
}
