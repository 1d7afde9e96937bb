import type { TenantScope } from '../shared/tenant-scope';
import type { HostPolicy, PolicyDelta } from './compile';
import type { IsolationReport } from './isolation';
import type { IsolationMode, PortPolicy } from './network';

export interface VmNetworkRow {
  id: string;
  tenantId: string;
  name: string;
  isolation: IsolationMode;
  createdAt: Date;
  subnets: SubnetRow[];
}

export interface SubnetRow {
  id: string;
  tenantId: string;
  vmNetworkId: string;
  name: string;
  vsid: number;
  prefix: string;
  gateway: string;
}

export interface NicRow {
  nicId: string;
  nicName: string;
  vmId: string;
  vmName: string;
  tenantId: string;
  vmState: string;
  hostId: string | null;
  clusterId: string | null;
  mac: string;
  /** The legacy free-text network ("default", or "<vm network>/<subnet>"). */
  network: string;
  subnetId: string | null;
  ca: string | null;
  portPolicy: Partial<PortPolicy>;
  maximumBandwidthMbps: number | null;
  minimumBandwidthWeight: number | null;
  /** The absolute minimum reserved at placement (the NIC's QoS admission). */
  minimumBandwidthMbps: number | null;
  /** The latest sample's bandwidth as the host's switch gave it; null before the first. */
  bandwidth: {
    at: Date;
    offeredMbps: number;
    achievedMbps: number;
    limitedBy: 'demand' | 'maximum' | 'share';
  } | null;
}

export interface PaPoolRow {
  id: string;
  logicalNetworkId: string;
  logicalNetworkName: string;
  clusterId: string;
  prefix: string;
  gateway: string;
  vlanId: number;
}

export interface ProviderAddressRow {
  poolId: string;
  address: string;
  hostId: string;
  vmNicId: string | null;
}

export interface HostPolicyRow {
  hostId: string;
  version: number;
  digest: string;
  policy: HostPolicy;
  bytes: number;
  appliedVersion: number;
  appliedDigest: string;
  appliedAt: Date | null;
  changedAt: Date;
}

export interface SwitchExtensionRow {
  id: string;
  name: string;
  url: string;
  timeoutMs: number;
  failurePolicy: 'open' | 'closed';
  enabled: boolean;
}

export interface NetworkRepository {
  // Tenant side (scoped: another tenant's rows are not found).
  listVmNetworks(scope: TenantScope): Promise<VmNetworkRow[]>;
  findVmNetwork(scope: TenantScope, id: string): Promise<VmNetworkRow | null>;
  createVmNetwork(row: { tenantId: string; name: string; isolation: IsolationMode }): Promise<VmNetworkRow>;
  createSubnet(row: Omit<SubnetRow, 'id'>): Promise<SubnetRow>;
  updateVmNetwork(id: string, change: { name?: string; isolation?: IsolationMode }): Promise<VmNetworkRow>;
  /** Deletes the VM network and its subnets. */
  deleteVmNetwork(id: string): Promise<void>;
  updateSubnet(id: string, change: { name: string; prefix: string; gateway: string }): Promise<SubnetRow>;
  deleteSubnet(id: string): Promise<void>;
  /** Sets the "<vm network>/<subnet>" label of the NICs attached to a subnet (after a rename). */
  relabelNics(subnetId: string, label: string): Promise<void>;
  /** Fabric-wide (every tenant): VSIDs are unique in the fabric. */
  vsidInUse(vsid: number): Promise<boolean>;
  /** The lowest VSID ≥ `from` that no subnet uses (fabric-wide); VSID_MAX + 1 when every one from there is used. */
  lowestFreeVsid(from: number): Promise<number>;
  /** Serialises VSID allocation until the transaction ends (a transaction-scoped advisory lock). */
  lockVsidAllocation(): Promise<void>;
  /** Whether the VM exists in the scope (another tenant's VM does not). */
  vmExists(scope: TenantScope, vmId: string): Promise<boolean>;
  listNics(scope: TenantScope): Promise<NicRow[]>;
  usedCas(subnetId: string): Promise<Set<string>>;
  /**
   * A NIC's subnet, address, port policy and its "<vm network>/<subnet>" label
   * (what the VM's pages show), written together. Refuses (VM_NETWORK_NOT_FOUND)
   * when the NIC is gone, (SUBNET_NOT_FOUND) when the subnet is.
   */
  setNicNetwork(
    nicId: string,
    value: { subnetId: string | null; ca: string | null; portPolicy: Partial<PortPolicy>; label: string },
  ): Promise<void>;
  /**
   * Row locks held until the transaction ends (SELECT … FOR UPDATE): an attach
   * locks its subnet, an edit or delete locks its VM network then its subnets,
   * so each sees the other's committed result, never a state it already judged.
   */
  lockVmNetwork(id: string): Promise<void>;
  /** Locks the subnets that still exist and returns them as they are now (after any edit it waited for). */
  lockSubnets(ids: readonly string[]): Promise<SubnetRow[]>;

  // Provider side.
  createLogicalNetwork(name: string): Promise<{ id: string; name: string }>;
  findLogicalNetwork(id: string): Promise<{ id: string; name: string } | null>;
  addPaPool(row: Omit<PaPoolRow, 'id' | 'logicalNetworkName'>): Promise<PaPoolRow>;
  listPaPools(): Promise<PaPoolRow[]>;
  listLogicalNetworks(): Promise<{ id: string; name: string }[]>;
  clusterExists(id: string): Promise<boolean>;
  listHosts(): Promise<{ id: string; name: string; clusterId: string }[]>;
  listProviderAddresses(): Promise<ProviderAddressRow[]>;
  addProviderAddress(row: ProviderAddressRow): Promise<void>;
  /** Keeps a NIC from being deleted until the transaction ends; false when it is already gone. */
  lockNic(nicId: string): Promise<boolean>;
  /** Serialises changes of a NIC's port policy until the transaction ends; false when the NIC is gone. */
  lockNicPolicy(nicId: string): Promise<boolean>;
  removeProviderAddressOfNic(vmNicId: string): Promise<void>;
  macPool(): Promise<{ first: string; last: string }>;
  usedMacs(): Promise<Set<string>>;
  /** Waits for VM creates drawing MACs (the same transaction-scoped lock they take) until the transaction ends. */
  lockMacPool(): Promise<void>;
  /** Replaces the fabric MAC pool's range (one row). */
  setMacPool(pool: { first: string; last: string }): Promise<void>;
  /** vNICs (every tenant's) whose stored MAC lies within [first, last] (stored form, mac-pool.ts storedMac). */
  countMacsBetween(first: string, last: string): Promise<number>;

  /** Serialises compilations (a transaction-scoped advisory lock). */
  lockCompile(): Promise<void>;
  listHostPolicies(): Promise<HostPolicyRow[]>;
  findHostPolicy(hostId: string): Promise<HostPolicyRow | null>;
  saveHostPolicy(row: {
    hostId: string;
    version: number;
    digest: string;
    policy: HostPolicy;
    bytes: number;
    delta: PolicyDelta;
  }): Promise<void>;
  deltasAfter(hostId: string, version: number): Promise<PolicyDelta[]>;
  ackHostPolicy(hostId: string, version: number, digest: string, at: Date): Promise<void>;
  saveIsolationCheck(report: IsolationReport, trigger: string, at: Date): Promise<void>;
  latestIsolationCheck(): Promise<(Omit<IsolationReport, 'truncated'> & { at: Date; trigger: string }) | null>;

  listExtensions(): Promise<SwitchExtensionRow[]>;
  createExtension(row: Omit<SwitchExtensionRow, 'id'>): Promise<SwitchExtensionRow>;
}
