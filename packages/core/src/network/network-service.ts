import { randomInt } from 'node:crypto';
import type { AuditRepository } from '../audit/audit-repository';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import {
  type AgentTraceResult,
  type AskAgent,
  type CompiledHost,
  type HostHop,
  traceThroughAgents,
} from './agent-trace';
import {
  applyDelta,
  compileAll,
  diffPolicy,
  type HostPolicy,
  type PolicyDelta,
  policyBytes,
  policyDigest,
} from './compile';
import { formatMac } from './ip';
import { allocateCa, allocatePa, checkNewSubnet, checkVlan, defaultGateway, prefixOrThrow } from './ipam';
import { verifyIsolation } from './isolation';
import { checkMacPool, storedMac } from './mac-pool';
import { DEFAULT_PORT_POLICY, type PortPolicy, type VnicPlacement } from './network';
import { NetworkError } from './network.errors';
import type {
  AddPaPoolInput,
  AttachNicInput,
  CreateExtensionInput,
  CreateSubnetInput,
  CreateVmNetworkInput,
  DetachNicInput,
  SetMacPoolInput,
  SetPortPolicyInput,
  TraceInput,
  UpdateSubnetInput,
  UpdateVmNetworkInput,
} from './network.schema';
import { checkPortQos, planSubnetEdit, refuseWhileAttached, tenantTraceView } from './network-edits';
import type { NetworkRepository, NicRow, SubnetRow, VmNetworkRow } from './network-repository';
import { patchPortPolicy, toPortPolicy } from './port-policy';
import { effectiveQos } from './qos';
import { drawVsid, type RandomInt } from './vsid';

/** An HTTP webhook call, injected (core does no I/O): resolves with the extension's answer or rejects on timeout / failure. */
export type ExtensionCaller = (
  url: string,
  body: unknown,
  timeoutMs: number,
) => Promise<{ allow: boolean; reason?: string }>;

type Repos = { network: NetworkRepository; audit: AuditRepository };

export interface HostPolicyStatus {
  hostId: string;
  hostName: string;
  version: number;
  appliedVersion: number;
  lagging: boolean;
  bytes: number;
  changedAt: Date;
  appliedAt: Date | null;
}

/** States in which a VM holds its place on a host (and so its ports are compiled there). */
const PLACED_STATES = new Set(['creating', 'off', 'starting', 'running', 'paused', 'saved', 'stopping']);

/**
 * Tenant networks' use cases: VM networks and subnets (IPAM), attaching vNICs,
 * port policies (vetoable by switch extensions), the provider's logical
 * networks and PA pools, and the compile → distribute → acknowledge loop with
 * the isolation proof after every change.
 */
export class NetworkService {
  constructor(
    private readonly deps: {
      uow: UnitOfWork<Repos>;
      clock: Clock;
      callExtension: ExtensionCaller;
      /** Runs `fn` seeing every tenant (compilation and the proof read the whole fabric). */
      asFabric: <T>(fn: () => Promise<T>) => Promise<T>;
      /** Told which hosts have a new policy version (agents long-poll on it). */
      onPolicyChanged?: (hostIds: string[]) => void;
      /** Asks a host's agent to trace one hop (none: every hop is Fabric's computed verdict, marked so). */
      askAgent?: AskAgent;
      /** Draws VSIDs (default: node:crypto's, which a tenant cannot predict from the VSIDs it was given). */
      randomInt?: RandomInt;
    },
  ) {}

  // ------------------------------------------------------------ tenant side

  listVmNetworks(scope: TenantScope): Promise<VmNetworkRow[]> {
    return this.deps.uow.repos.network.listVmNetworks(scope);
  }

  /** Networks → subnets → VMs' addresses (the portal's topology and address list). */
  async topology(scope: TenantScope) {
    const [networks, nics] = await Promise.all([
      this.deps.uow.repos.network.listVmNetworks(scope),
      this.deps.uow.repos.network.listNics(scope),
    ]);
    return networks.map((n) => ({
      ...n,
      subnets: n.subnets.map((s) => ({
        ...s,
        nics: nics
          .filter((nic) => nic.subnetId === s.id)
          .map((nic) => ({
            vmId: nic.vmId,
            vmName: nic.vmName,
            nicName: nic.nicName,
            ca: nic.ca,
            mac: nic.mac,
            vmState: nic.vmState,
          })),
      })),
    }));
  }

  async createVmNetwork(actor: Actor, scope: TenantScope, input: CreateVmNetworkInput): Promise<VmNetworkRow> {
    if (scope.kind !== 'tenant')
      throw new NetworkError('VM_NETWORK_NOT_FOUND', 'VM networks belong to a tenant: sign in as one');
    return this.deps.uow.run(async ({ network, audit }) => {
      const created = await network.createVmNetwork({
        tenantId: scope.tenantId,
        name: input.name,
        isolation: input.isolation,
      });
      await audit.append({
        actor,
        action: 'network.vm-network.create',
        targetType: 'vm-network',
        targetId: created.id,
        targetLabel: created.name,
        tenantId: scope.tenantId,
        result: 'success',
        details: { isolation: input.isolation },
      });
      return created;
    });
  }

  async createSubnet(actor: Actor, scope: TenantScope, input: CreateSubnetInput): Promise<SubnetRow> {
    // VSIDs are fabric-wide (the GRE key), so a chosen one could only be refused for being another
    // tenant's: any answer but "yes" would tell a tenant which VSIDs others hold. Fabric allocates them
    // and refuses every one a person chose alike, before looking at anything. Fabric itself (the demo's
    // whitepaper VSIDs 5001 and 6001) may choose.
    if (input.vsid !== undefined && actor.type !== 'system')
      throw new NetworkError(
        'VSID_ALLOCATED_BY_FABRIC',
        'Virtual subnet IDs are allocated by Fabric: leave VSID out (rule VSID_ALLOCATED_BY_FABRIC)',
      );
    return this.deps.uow.run(async ({ network, audit }) => {
      // Locked: a concurrent delete of the network, or a sibling created meanwhile, is seen (no FK 500, no overlap).
      const vmNetwork = await this.lockedVmNetwork(network, scope, input.vmNetworkId);
      prefixOrThrow(input.prefix, 'Subnet prefix');
      if (vmNetwork.subnets.some((s) => s.name === input.name))
        throw new NetworkError(
          'SUBNET_OVERLAP',
          `VM network "${vmNetwork.name}" already has a subnet named "${input.name}" (names are unique)`,
        );
      // VSIDs are drawn at random (vsid.ts says why) under a fabric-wide lock held until this transaction
      // ends: two concurrent creates never draw the same one, and a create that fails after drawing
      // (overlap, audit) rolls back with nothing allocated, since the VSID exists only as the subnet row.
      await network.lockVsidAllocation();
      const vsid =
        input.vsid ??
        (await drawVsid(
          this.deps.randomInt ?? randomInt,
          (v) => network.vsidInUse(v),
          (from) => network.lowestFreeVsid(from),
        ));
      const gateway = input.gateway ?? defaultGateway(input.prefix);
      const taken = input.vsid === undefined ? false : await network.vsidInUse(vsid);
      checkNewSubnet({ vsid, prefix: input.prefix, gateway, name: input.name }, vmNetwork.subnets, () => taken);
      const subnet = await network.createSubnet({
        tenantId: vmNetwork.tenantId,
        vmNetworkId: vmNetwork.id,
        name: input.name,
        vsid,
        prefix: input.prefix,
        gateway,
      });
      await audit.append({
        actor,
        action: 'network.subnet.create',
        targetType: 'virtual-subnet',
        targetId: subnet.id,
        targetLabel: `${vmNetwork.name}/${subnet.name}`,
        tenantId: vmNetwork.tenantId,
        result: 'success',
        details: { vsid, prefix: input.prefix, gateway },
      });
      return subnet;
    });
  }

  /**
   * Renames a VM network (its attached NICs' "<network>/<subnet>" labels follow)
   * or changes its isolation mode, which re-addresses every VM on the wire and
   * so is refused while a VM NIC is attached. One transaction: all or nothing.
   */
  async updateVmNetwork(actor: Actor, scope: TenantScope, input: UpdateVmNetworkInput): Promise<VmNetworkRow> {
    const updated = await this.deps.uow.run(async ({ network, audit }) => {
      const vmNetwork = await this.lockedVmNetwork(network, scope, input.id);
      const attached = await this.attachedTo(network, scope, new Set(vmNetwork.subnets.map((s) => s.id)));
      if (input.isolation !== undefined && input.isolation !== vmNetwork.isolation)
        refuseWhileAttached(`VM network "${vmNetwork.name}"`, 'change the isolation mode of', attached);
      const row = await network.updateVmNetwork(vmNetwork.id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.isolation !== undefined ? { isolation: input.isolation } : {}),
      });
      if (row.name !== vmNetwork.name)
        for (const subnet of row.subnets) await network.relabelNics(subnet.id, `${row.name}/${subnet.name}`);
      await audit.append({
        actor,
        action: 'network.vm-network.update',
        targetType: 'vm-network',
        targetId: row.id,
        targetLabel: row.name,
        tenantId: row.tenantId,
        result: 'success',
        details: { from: { name: vmNetwork.name, isolation: vmNetwork.isolation }, to: input },
      });
      return row;
    });
    await this.reconcile(`VM network ${updated.name} edited`);
    return updated;
  }

  /** Deletes a VM network with its subnets; refused (nothing deleted) while a VM NIC is attached to any of them. */
  async deleteVmNetwork(actor: Actor, scope: TenantScope, id: string): Promise<{ id: string }> {
    const name = await this.deps.uow.run(async ({ network, audit }) => {
      const vmNetwork = await this.lockedVmNetwork(network, scope, id);
      const attached = await this.attachedTo(network, scope, new Set(vmNetwork.subnets.map((s) => s.id)));
      refuseWhileAttached(`VM network "${vmNetwork.name}"`, 'delete', attached);
      await network.deleteVmNetwork(vmNetwork.id);
      await audit.append({
        actor,
        action: 'network.vm-network.delete',
        targetType: 'vm-network',
        targetId: vmNetwork.id,
        targetLabel: vmNetwork.name,
        tenantId: vmNetwork.tenantId,
        result: 'success',
        details: { subnets: vmNetwork.subnets.map((s) => ({ name: s.name, vsid: s.vsid, prefix: s.prefix })) },
      });
      return vmNetwork.name;
    });
    await this.reconcile(`VM network ${name} deleted`);
    return { id };
  }

  /** Renames a subnet, or re-addresses it (prefix, gateway) while no VM NIC is attached. */
  async updateSubnet(actor: Actor, scope: TenantScope, input: UpdateSubnetInput): Promise<SubnetRow> {
    const updated = await this.deps.uow.run(async ({ network, audit }) => {
      const { vmNetwork, subnet } = await this.lockedSubnet(network, scope, input.id);
      const attached = await this.attachedTo(network, scope, new Set([subnet.id]));
      const next = planSubnetEdit(subnet, vmNetwork.subnets, attached, input);
      const row = await network.updateSubnet(subnet.id, next);
      if (row.name !== subnet.name) await network.relabelNics(subnet.id, `${vmNetwork.name}/${row.name}`);
      await audit.append({
        actor,
        action: 'network.subnet.update',
        targetType: 'virtual-subnet',
        targetId: row.id,
        targetLabel: `${vmNetwork.name}/${row.name}`,
        tenantId: row.tenantId,
        result: 'success',
        details: { from: { name: subnet.name, prefix: subnet.prefix, gateway: subnet.gateway }, to: next },
      });
      return row;
    });
    await this.reconcile(`subnet ${updated.name} edited`);
    return updated;
  }

  async deleteSubnet(actor: Actor, scope: TenantScope, id: string): Promise<{ id: string }> {
    const label = await this.deps.uow.run(async ({ network, audit }) => {
      const { vmNetwork, subnet } = await this.lockedSubnet(network, scope, id);
      refuseWhileAttached(`subnet "${subnet.name}"`, 'delete', await this.attachedTo(network, scope, new Set([id])));
      await network.deleteSubnet(subnet.id);
      await audit.append({
        actor,
        action: 'network.subnet.delete',
        targetType: 'virtual-subnet',
        targetId: subnet.id,
        targetLabel: `${vmNetwork.name}/${subnet.name}`,
        tenantId: subnet.tenantId,
        result: 'success',
        details: { vsid: subnet.vsid, prefix: subnet.prefix },
      });
      return `${vmNetwork.name}/${subnet.name}`;
    });
    await this.reconcile(`subnet ${label} deleted`);
    return { id };
  }

  private async attachedTo(network: NetworkRepository, scope: TenantScope, subnetIds: ReadonlySet<string>) {
    return (await network.listNics(scope)).filter((n) => n.subnetId !== null && subnetIds.has(n.subnetId));
  }

  /** A VM's NICs with their subnet, address and full port policy (the VM page's Port policy card). */
  async vmPorts(scope: TenantScope, vmId: string) {
    // Another tenant's VM (or none at all) is NOT_FOUND, as in every other procedure: not an empty list.
    if (!(await this.deps.uow.repos.network.vmExists(scope, vmId)))
      throw new NetworkError('VM_NOT_FOUND', 'VM not found');
    const [nics, networks] = await Promise.all([
      this.deps.uow.repos.network.listNics(scope),
      this.deps.uow.repos.network.listVmNetworks(scope),
    ]);
    const mine = nics.filter((n) => n.vmId === vmId);
    const subnets = new Map(networks.flatMap((n) => n.subnets.map((s) => [s.id, { ...s, vmNetworkName: n.name }])));
    return mine.map((nic) => {
      const subnet = nic.subnetId ? subnets.get(nic.subnetId) : undefined;
      return {
        nicName: nic.nicName,
        mac: nic.mac,
        network: nic.network,
        subnet: subnet
          ? {
              id: subnet.id,
              name: subnet.name,
              vmNetworkName: subnet.vmNetworkName,
              prefix: subnet.prefix,
              gateway: subnet.gateway,
            }
          : null,
        ca: nic.ca,
        minimumBandwidthMbps: nic.minimumBandwidthMbps,
        policy: { ...DEFAULT_PORT_POLICY, ...nic.portPolicy },
        qos: effectiveQos(nic, nic.portPolicy) ?? null,
        bandwidth: nic.bandwidth,
      };
    });
  }

  /**
   * A tenant traces a packet from its own VM (another tenant's VM is not
   * found) and sees each verdict on its own ports, never the provider's
   * addresses or another tenant's VMs.
   */
  async tenantTrace(scope: TenantScope, input: TraceInput) {
    const own = await this.deps.uow.repos.network.listNics(scope);
    if (!own.some((n) => n.vmId === input.fromVmId && n.subnetId !== null))
      throw new NetworkError('VM_NETWORK_NOT_FOUND', 'That VM has no NIC on a VM network');
    const result = await this.trace(input);
    const view = tenantTraceView(result, new Map(own.map((n) => [n.nicId, n.vmName])));
    // Only the hosts on this packet's path matter (another host lagging says nothing about it).
    const pending = result.hosts.some(
      (h) => h.status === 'lagging' || (h.status === 'no-answer' && result.laggingHosts.includes(h.hostId)),
    );
    return {
      ...view,
      from: result.from,
      pending,
      computed: result.hosts.some((h) => h.answeredBy === 'fabric'),
    };
  }

  /** Attaches a VM's NIC to a subnet: a CA (static or the lowest free), the port policy (extensions may veto). */
  async attachNic(
    actor: Actor,
    scope: TenantScope,
    input: AttachNicInput,
  ): Promise<{ ca: string; mac: string; gateway: string }> {
    const policy = toPortPolicy(input.policy ?? {});
    const result = await this.deps.uow.run(async ({ network, audit }) => {
      const nic = await this.findNic(network, scope, input.vmId, input.nicName);
      // The subnet is locked before it is read: an edit or delete of it either committed before (and is
      // seen here: the new prefix, or no subnet) or waits for this attach (and then sees the NIC).
      await network.lockSubnets([input.subnetId]);
      const { vmNetwork, subnet } = await this.findSubnet(network, scope, input.subnetId);
      if (subnet.tenantId !== nic.tenantId) throw subnetNotFound(input.subnetId);
      const used = await network.usedCas(subnet.id);
      if (nic.subnetId === subnet.id && nic.ca) used.delete(nic.ca);
      const ca = allocateCa(subnet, used, input.ca);
      checkPortQos(policy, nic.minimumBandwidthMbps);
      await this.admit(audit, actor, nic, policy, 'attach');
      // Everything derived from the subnet moves with the NIC: its label (the VM's pages), its CA, and its
      // provider address (an IP-rewrite PA belonged to the old CA; the next compile gives one if needed).
      const label = `${vmNetwork.name}/${subnet.name}`;
      await network.setNicNetwork(nic.nicId, { subnetId: subnet.id, ca, portPolicy: policy, label });
      if (nic.subnetId !== null && nic.subnetId !== subnet.id) await network.removeProviderAddressOfNic(nic.nicId);
      await audit.append({
        actor,
        action: 'network.nic.attach',
        targetType: 'vm',
        targetId: nic.vmId,
        targetLabel: `${nic.vmName}/${nic.nicName}`,
        tenantId: nic.tenantId,
        result: 'success',
        details: { subnetId: subnet.id, ca, from: { subnetId: nic.subnetId, ca: nic.ca } },
      });
      return { ca, mac: nic.mac, gateway: subnet.gateway };
    });
    await this.reconcile(`attach ${input.nicName}`);
    return result;
  }

  /**
   * A VM NIC leaves its subnet: its customer address and (IP rewrite) its
   * provider address are given back, its label goes back to "default" (so
   * the reconciler does not attach it again by name), and the next compile
   * sends the affected hosts their delta (its port and its lookup record
   * removed). Its MAC and port policy stay with the NIC. A NIC on no subnet
   * is left as it is.
   */
  async detachNic(
    actor: Actor,
    scope: TenantScope,
    input: DetachNicInput,
  ): Promise<{ detached: boolean; ca: string | null; subnetId: string | null }> {
    const result = await this.deps.uow.run(async ({ network, audit }) => {
      const found = await this.findNic(network, scope, input.vmId, input.nicName);
      if (found.subnetId === null) return { detached: false, ca: null, subnetId: null };
      // As an attach: the subnet is locked first, so an edit or delete of it sees the NIC gone or waits.
      await network.lockSubnets([found.subnetId]);
      if (!(await network.lockNic(found.nicId))) throw new NetworkError('VM_NOT_FOUND', 'VM not found');
      const nic = await this.findNic(network, scope, input.vmId, input.nicName);
      if (nic.subnetId === null) return { detached: false, ca: null, subnetId: null };
      await network.setNicNetwork(nic.nicId, {
        subnetId: null,
        ca: null,
        portPolicy: nic.portPolicy,
        label: 'default',
      });
      await network.removeProviderAddressOfNic(nic.nicId);
      await audit.append({
        actor,
        action: 'network.nic.detach',
        targetType: 'vm',
        targetId: nic.vmId,
        targetLabel: `${nic.vmName}/${nic.nicName}`,
        tenantId: nic.tenantId,
        result: 'success',
        details: { from: { subnetId: nic.subnetId, ca: nic.ca, network: nic.network } },
      });
      return { detached: true, ca: nic.ca, subnetId: nic.subnetId };
    });
    if (result.detached) await this.reconcile(`detach ${input.nicName}`);
    return result;
  }

  /**
   * Changes a NIC's port policy: what the change leaves out keeps its value,
   * null clears it (port-policy.ts). The NIC is locked before it is read, so
   * two changes of different fields at once both land (neither writes back
   * the other's old value). A refused change writes nothing.
   */
  async setPortPolicy(actor: Actor, scope: TenantScope, input: SetPortPolicyInput): Promise<PortPolicy> {
    const policy = await this.deps.uow.run(async ({ network, audit }) => {
      const found = await this.findNic(network, scope, input.vmId, input.nicName);
      if (!(await network.lockNicPolicy(found.nicId))) throw new NetworkError('VM_NOT_FOUND', 'VM not found');
      const nic = await this.findNic(network, scope, input.vmId, input.nicName);
      const next = patchPortPolicy(nic.portPolicy, input.policy);
      checkPortQos(next, nic.minimumBandwidthMbps);
      await this.admit(audit, actor, nic, next, 'set-port-policy');
      await network.setNicNetwork(nic.nicId, {
        subnetId: nic.subnetId,
        ca: nic.ca,
        portPolicy: next,
        label: nic.network,
      });
      await audit.append({
        actor,
        action: 'network.port-policy.set',
        targetType: 'vm',
        targetId: nic.vmId,
        targetLabel: `${nic.vmName}/${nic.nicName}`,
        tenantId: nic.tenantId,
        result: 'success',
        details: { change: input.policy, policy: next },
      });
      return next;
    });
    await this.reconcile(`port policy ${input.nicName}`);
    return policy;
  }

  private async findNic(
    network: NetworkRepository,
    scope: TenantScope,
    vmId: string,
    nicName: string,
  ): Promise<NicRow> {
    const nics = await network.listNics(scope);
    const nic = nics.find((n) => n.vmId === vmId && n.nicName === nicName);
    if (!nic) {
      // A VM the caller cannot see (another tenant's, or none) is "VM not found", as in vmPorts: naming its
      // NIC would tell a probe that the id exists.
      if (!(await network.vmExists(scope, vmId))) throw new NetworkError('VM_NOT_FOUND', 'VM not found');
      throw new NetworkError('VM_NETWORK_NOT_FOUND', `No NIC "${nicName}" on that VM`);
    }
    return nic;
  }

  private async findSubnet(network: NetworkRepository, scope: TenantScope, subnetId: string) {
    for (const n of await network.listVmNetworks(scope)) {
      const subnet = n.subnets.find((s) => s.id === subnetId);
      if (subnet) return { vmNetwork: n, subnet };
    }
    throw subnetNotFound(subnetId);
  }

  /** A subnet read after its VM network and it are locked (edits and deletes: see lockSubnets). */
  private async lockedSubnet(network: NetworkRepository, scope: TenantScope, subnetId: string) {
    const { vmNetwork } = await this.findSubnet(network, scope, subnetId);
    await network.lockVmNetwork(vmNetwork.id);
    await network.lockSubnets([subnetId]);
    return this.findSubnet(network, scope, subnetId);
  }

  /** A VM network read after it and its subnets are locked (no attach or subnet create runs meanwhile). */
  private async lockedVmNetwork(network: NetworkRepository, scope: TenantScope, id: string) {
    if (!(await network.findVmNetwork(scope, id))) throw vmNetworkNotFound(id);
    await network.lockVmNetwork(id);
    const locked = await network.findVmNetwork(scope, id);
    if (!locked) throw vmNetworkNotFound(id);
    await network.lockSubnets(locked.subnets.map((s) => s.id));
    return locked;
  }

  /**
   * Switch extensions see every port-policy change and may veto it. No answer
   * within the timeout (or an error) is decided by the extension's failure
   * policy. Every verdict is audited; a veto refuses the change (nothing written).
   */
  private async admit(
    audit: AuditRepository,
    actor: Actor,
    nic: NicRow,
    policy: PortPolicy,
    change: string,
  ): Promise<void> {
    const extensions = (await this.deps.uow.repos.network.listExtensions()).filter((e) => e.enabled);
    for (const ext of extensions) {
      let verdict: { allow: boolean; reason: string; failed: boolean };
      try {
        const answer = await this.deps.callExtension(
          ext.url,
          { change, vmId: nic.vmId, vmName: nic.vmName, nic: nic.nicName, tenantId: nic.tenantId, policy },
          ext.timeoutMs,
        );
        verdict = { allow: answer.allow, reason: answer.reason ?? '', failed: false };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        verdict = {
          allow: ext.failurePolicy === 'open',
          reason: `no answer (${why}); fail-${ext.failurePolicy}`,
          failed: true,
        };
      }
      const event = {
        actor,
        action: 'network.extension.verdict',
        targetType: 'vm',
        targetId: nic.vmId,
        targetLabel: `${nic.vmName}/${nic.nicName}`,
        tenantId: nic.tenantId,
        details: { extension: ext.name, change, allow: verdict.allow, reason: verdict.reason, failed: verdict.failed },
      };
      if (!verdict.allow) {
        // The veto is audited outside the refused transaction, so it survives the rollback.
        await this.deps.uow.repos.audit.append({
          ...event,
          result: 'denied',
          message: `Vetoed by ${ext.name}: ${verdict.reason}`,
        });
        throw new NetworkError(
          'EXTENSION_VETO',
          `Switch extension "${ext.name}" vetoed the change: ${verdict.reason || 'no reason given'}`,
        );
      }
      await audit.append({ ...event, result: 'success' });
    }
  }

  // ------------------------------------------------------------ provider side

  /** The fabric MAC pool, with how much of it vNICs use. */
  async macPool() {
    const pool = await this.deps.uow.repos.network.macPool();
    const { first, last } = checkMacPool(pool);
    const inUse = await this.deps.uow.repos.network.countMacsBetween(storedMac(first), storedMac(last));
    return { first: formatMac(first), last: formatMac(last), size: last - first + 1, inUse };
  }

  /**
   * Changes the range new vNICs draw their MACs from. vNICs keep the MACs they have; a MAC stays unique in
   * the fabric whatever the range (vm_nics' unique index). Under the pool's lock, so no create draws from
   * the old range meanwhile.
   */
  async setMacPool(actor: Actor, input: SetMacPoolInput) {
    const { first, last } = checkMacPool(input);
    const pool = { first: formatMac(first), last: formatMac(last) };
    await this.deps.uow.run(async ({ network, audit }) => {
      await network.lockMacPool();
      const before = await network.macPool();
      await network.setMacPool(pool);
      await audit.append({
        actor,
        action: 'network.mac-pool.set',
        targetType: 'mac-pool',
        targetId: 'default',
        targetLabel: `${pool.first}–${pool.last}`,
        result: 'success',
        details: { from: before, to: pool },
      });
    });
    return this.macPool();
  }

  async createLogicalNetwork(actor: Actor, name: string) {
    return this.deps.uow.run(async ({ network, audit }) => {
      const created = await network.createLogicalNetwork(name);
      await audit.append({
        actor,
        action: 'network.logical-network.create',
        targetType: 'logical-network',
        targetId: created.id,
        targetLabel: name,
        result: 'success',
      });
      return created;
    });
  }

  async addPaPool(actor: Actor, input: AddPaPoolInput) {
    checkVlan(input.vlanId, 'PA VLAN');
    prefixOrThrow(input.prefix, 'PA pool prefix');
    const gateway = input.gateway ?? defaultGateway(input.prefix);
    checkNewSubnet({ vsid: 4096, prefix: input.prefix, gateway, name: 'pa' }, [], () => false);
    const pool = await this.deps.uow.run(async ({ network, audit }) => {
      if (!(await network.findLogicalNetwork(input.logicalNetworkId)))
        throw new NetworkError('LOGICAL_NETWORK_NOT_FOUND', 'No such logical network');
      if (!(await network.clusterExists(input.clusterId)))
        throw new NetworkError('LOGICAL_NETWORK_NOT_FOUND', 'No such cluster');
      const row = await network.addPaPool({
        logicalNetworkId: input.logicalNetworkId,
        clusterId: input.clusterId,
        prefix: input.prefix,
        gateway,
        vlanId: input.vlanId,
      });
      await audit.append({
        actor,
        action: 'network.pa-pool.add',
        targetType: 'pa-pool',
        targetId: row.id,
        targetLabel: input.prefix,
        result: 'success',
        details: { ...input, gateway },
      });
      return row;
    });
    await this.reconcile('PA pool added');
    return pool;
  }

  async logicalNetworks() {
    const [networks, pools, pas] = await Promise.all([
      this.deps.uow.repos.network.listLogicalNetworks(),
      this.deps.uow.repos.network.listPaPools(),
      this.deps.uow.repos.network.listProviderAddresses(),
    ]);
    return networks.map((n) => ({
      ...n,
      pools: pools
        .filter((p) => p.logicalNetworkId === n.id)
        .map((p) => ({ ...p, addressesInUse: pas.filter((a) => a.poolId === p.id).length })),
    }));
  }

  async hostPolicyStatus(): Promise<HostPolicyStatus[]> {
    const [hosts, rows] = await Promise.all([
      this.deps.uow.repos.network.listHosts(),
      this.deps.uow.repos.network.listHostPolicies(),
    ]);
    const names = new Map(hosts.map((h) => [h.id, h.name]));
    return rows
      .map((r) => ({
        hostId: r.hostId,
        hostName: names.get(r.hostId) ?? r.hostId,
        version: r.version,
        appliedVersion: r.appliedVersion,
        lagging: r.appliedVersion < r.version || (r.appliedVersion === r.version && r.appliedDigest !== r.digest),
        bytes: r.bytes,
        changedAt: r.changedAt,
        appliedAt: r.appliedAt,
      }))
      .sort((a, b) => a.hostName.localeCompare(b.hostName));
  }

  isolationStatus() {
    return this.deps.uow.repos.network.latestIsolationCheck();
  }

  listExtensions() {
    return this.deps.uow.repos.network.listExtensions();
  }

  async createExtension(actor: Actor, input: CreateExtensionInput) {
    return this.deps.uow.run(async ({ network, audit }) => {
      const row = await network.createExtension({ ...input, enabled: true });
      await audit.append({
        actor,
        action: 'network.extension.register',
        targetType: 'switch-extension',
        targetId: row.id,
        targetLabel: row.name,
        result: 'success',
        details: { url: input.url, failurePolicy: input.failurePolicy, timeoutMs: input.timeoutMs },
      });
      return row;
    });
  }

  /**
   * Traces a packet from a VM by asking the hosts' agents (agent-trace.ts):
   * the source host's switch, then the destination host's, each through the
   * policy it applied, with its applied version against the compiled one.
   * A host whose agent does not answer in time gets Fabric's own verdict over
   * its compiled policy, marked as computed. `laggingHosts` lists every host
   * whose agent has not acknowledged its latest version.
   */
  async trace(input: TraceInput): Promise<
    AgentTraceResult & {
      from: { vmName: string; ca: string | null };
      laggingHosts: string[];
      hosts: (HostHop & { hostName: string })[];
    }
  > {
    const nics = await this.deps.uow.repos.network.listNics({ kind: 'provider' });
    const nic = nics.find((n) => n.vmId === input.fromVmId && n.subnetId !== null);
    if (!nic?.hostId || !nic.ca)
      throw new NetworkError('VM_NETWORK_NOT_FOUND', 'That VM has no placed NIC on a VM network');
    const [rows, hostRows] = await Promise.all([
      this.deps.uow.repos.network.listHostPolicies(),
      this.deps.uow.repos.network.listHosts(),
    ]);
    const names = new Map(hostRows.map((h) => [h.id, h.name]));
    const compiled = new Map<string, CompiledHost>(
      rows.map((r) => [r.hostId, { hostId: r.hostId, version: r.version, digest: r.digest, policy: r.policy }]),
    );
    const lagging = rows.filter((r) => r.appliedDigest !== r.digest).map((r) => r.hostId);
    const result = await traceThroughAgents(
      nic.hostId,
      compiled,
      {
        fromNic: nic.nicId,
        kind: input.kind,
        srcMac: nic.mac,
        srcCa: nic.ca,
        dstCa: input.toCa,
        protocol: input.protocol,
        dstPort: input.port,
        bytes: 64,
      },
      this.deps.askAgent ?? (async () => null),
    );
    // Verdicts name hosts by id (the switch knows no names); people read names.
    const named = (rule: string) => rule.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, (id) => names.get(id) ?? id);
    return {
      ...result,
      hops: result.hops.map((h) => ({ ...h, rule: named(h.rule) })),
      hosts: result.hosts.map((h) => ({ ...h, hostName: names.get(h.hostId) ?? h.hostId })),
      from: { vmName: nic.vmName, ca: nic.ca },
      laggingHosts: lagging,
    };
  }

  // ------------------------------------------------------------ compile, distribute, prove

  /**
   * Level-triggered: attaches NICs created with a "<vm network>/<subnet>"
   * network string, gives hosts (and IP-rewrite CAs) their PAs, compiles every
   * host's policy, and writes a new version plus its delta for each host whose
   * policy changed (only those), then proves isolation. Safe to call any time
   * from any API process (serialised by a lock); a no-op when nothing changed.
   */
  async reconcile(trigger: string): Promise<{ changedHosts: string[]; isolationOk: boolean | null }> {
    const outcome = await this.deps.asFabric(() =>
      this.deps.uow.run(async ({ network }) => {
        await network.lockCompile();
        let nics = await network.listNics({ kind: 'provider' });
        const networks = await network.listVmNetworks({ kind: 'provider' });
        if (await this.attachByName(network, nics, networks)) nics = await network.listNics({ kind: 'provider' });
        const input = await this.compileInput(network, nics, networks);
        const compiled = compileAll(input);
        const stored = new Map((await network.listHostPolicies()).map((r) => [r.hostId, r]));
        const changed: string[] = [];
        for (const [hostId, policy] of compiled) {
          const before = stored.get(hostId);
          const delta = diffPolicy(before?.policy ?? {}, policy, before?.version ?? 0);
          if (!delta) continue;
          await network.saveHostPolicy({
            hostId,
            version: delta.toVersion,
            digest: delta.digest,
            policy,
            bytes: policyBytes(policy),
            delta,
          });
          changed.push(hostId);
        }
        let isolationOk: boolean | null = null;
        if (changed.length > 0) {
          const report = verifyIsolation(compiled);
          await network.saveIsolationCheck(report, trigger, this.deps.clock.now());
          isolationOk = report.ok;
        }
        return { changedHosts: changed, isolationOk };
      }),
    );
    if (outcome.changedHosts.length) this.deps.onPolicyChanged?.(outcome.changedHosts);
    return outcome;
  }

  private async attachByName(network: NetworkRepository, nics: NicRow[], networks: VmNetworkRow[]): Promise<boolean> {
    let any = false;
    for (const nic of nics) {
      if (nic.subnetId !== null || !PLACED_STATES.has(nic.vmState)) continue;
      const [netName, subnetName] = nic.network.split('/');
      const vmNet = networks.find((n) => n.tenantId === nic.tenantId && n.name === netName);
      if (!vmNet) continue;
      const named = subnetName
        ? vmNet.subnets.find((s) => s.name === subnetName)
        : vmNet.subnets.length === 1
          ? vmNet.subnets[0]
          : undefined;
      if (!named) continue;
      // As in attachNic: the subnet is locked and read again, so a subnet deleted or re-addressed since
      // this pass read it is skipped or addressed as it is now.
      const [subnet] = await network.lockSubnets([named.id]);
      if (!subnet) continue;
      try {
        const ca = allocateCa(subnet, await network.usedCas(subnet.id));
        await network.setNicNetwork(nic.nicId, {
          subnetId: subnet.id,
          ca,
          portPolicy: nic.portPolicy,
          label: `${vmNet.name}/${subnet.name}`,
        });
        any = true;
      } catch (error) {
        if (!(error instanceof NetworkError)) throw error; // an exhausted subnet leaves the NIC unattached
      }
    }
    return any;
  }

  private async compileInput(network: NetworkRepository, nics: NicRow[], networks: VmNetworkRow[]) {
    const [hosts, pools, pas] = await Promise.all([
      network.listHosts(),
      network.listPaPools(),
      network.listProviderAddresses(),
    ]);
    const poolByCluster = new Map(pools.map((p) => [p.clusterId, p]));
    const usedByPool = new Map<string, Set<string>>();
    for (const pa of pas) {
      const set = usedByPool.get(pa.poolId) ?? new Set<string>();
      set.add(pa.address);
      usedByPool.set(pa.poolId, set);
    }
    const take = async (poolId: string, hostId: string, vmNicId: string | null): Promise<string | null> => {
      const pool = pools.find((p) => p.id === poolId);
      if (!pool) return null;
      // The NIC was read at the start of this pass; its VM may have been deleted since (or be being deleted
      // now). Locked first, so a PA is written only for a NIC that exists until this pass commits.
      if (vmNicId !== null && !(await network.lockNic(vmNicId))) return null;
      const used = usedByPool.get(poolId) ?? new Set<string>();
      usedByPool.set(poolId, used);
      try {
        const address = allocatePa(pool, used);
        used.add(address);
        await network.addProviderAddress({ poolId, address, hostId, vmNicId });
        return address;
      } catch (error) {
        if (error instanceof NetworkError) return null;
        throw error;
      }
    };
    // Each host in a cluster with a PA pool has its PA.
    const hostPa = new Map<string, string>();
    for (const pa of pas) if (pa.vmNicId === null) hostPa.set(pa.hostId, pa.address);
    const hostsIn: { hostId: string; pa: string }[] = [];
    for (const host of hosts) {
      const pool = poolByCluster.get(host.clusterId);
      let pa = hostPa.get(host.id) ?? null;
      if (!pa && pool) pa = await take(pool.id, host.id, null);
      if (pa) hostsIn.push({ hostId: host.id, pa });
    }
    const rdById = new Map(networks.map((n) => [n.id, n]));
    const subnetById = new Map(networks.flatMap((n) => n.subnets.map((s) => [s.id, s] as const)));
    const nicPa = new Map(pas.filter((p) => p.vmNicId !== null).map((p) => [p.vmNicId as string, p]));
    const vnics: VnicPlacement[] = [];
    for (const nic of nics) {
      if (!nic.subnetId || !nic.ca) continue;
      const subnet = subnetById.get(nic.subnetId);
      const rd = subnet ? rdById.get(subnet.vmNetworkId) : undefined;
      if (!subnet || !rd) continue;
      const placed = nic.hostId !== null && PLACED_STATES.has(nic.vmState) ? nic.hostId : null;
      let pa: string | undefined;
      if (rd.isolation === 'ip-rewrite' && placed) {
        // One PA per CA, from the pool of the host's cluster; a move gives it a new one.
        const existing = nicPa.get(nic.nicId);
        if (existing && existing.hostId === placed) pa = existing.address;
        else {
          if (existing) await network.removeProviderAddressOfNic(nic.nicId);
          const pool = nic.clusterId ? poolByCluster.get(nic.clusterId) : undefined;
          pa = pool ? ((await take(pool.id, placed, nic.nicId)) ?? undefined) : undefined;
        }
      }
      vnics.push({
        nicId: nic.nicId,
        vmId: nic.vmId,
        vmName: nic.vmName,
        tenantId: nic.tenantId,
        vmNetworkId: rd.id,
        subnetId: subnet.id,
        vsid: subnet.vsid,
        ca: nic.ca,
        mac: nic.mac,
        hostId: placed,
        pa,
        policy: { ...DEFAULT_PORT_POLICY, ...nic.portPolicy },
        qos: effectiveQos(nic, nic.portPolicy),
      });
    }
    return {
      hosts: hostsIn,
      routingDomains: networks.map((n) => ({
        rdid: n.id,
        tenantId: n.tenantId,
        isolation: n.isolation,
        subnets: n.subnets.map((s) => ({ vsid: s.vsid, prefix: s.prefix, gateway: s.gateway })),
      })),
      vnics,
    };
  }

  // ------------------------------------------------------------ the agent channel

  /**
   * What an agent at `appliedVersion` needs: the deltas after it, or (first
   * contact, or deltas no longer kept) the whole policy.
   */
  async pullPolicy(
    hostId: string,
    appliedVersion: number,
  ): Promise<
    | { kind: 'current'; version: number; digest: string }
    | { kind: 'deltas'; version: number; digest: string; deltas: PolicyDelta[] }
    | { kind: 'full'; version: number; digest: string; policy: HostPolicy }
  > {
    const row = await this.deps.uow.repos.network.findHostPolicy(hostId);
    if (!row) return { kind: 'current', version: 0, digest: policyDigest({}) };
    if (appliedVersion === row.version) return { kind: 'current', version: row.version, digest: row.digest };
    if (appliedVersion > 0 && appliedVersion < row.version) {
      const deltas = await this.deps.uow.repos.network.deltasAfter(hostId, appliedVersion);
      if (deltas.length === row.version - appliedVersion && deltas[0]?.fromVersion === appliedVersion)
        return { kind: 'deltas', version: row.version, digest: row.digest, deltas };
    }
    return { kind: 'full', version: row.version, digest: row.digest, policy: row.policy };
  }

  async ackPolicy(hostId: string, version: number, digest: string): Promise<{ lagging: boolean }> {
    await this.deps.uow.repos.network.ackHostPolicy(hostId, version, digest, this.deps.clock.now());
    const row = await this.deps.uow.repos.network.findHostPolicy(hostId);
    return { lagging: !row || row.version !== version || row.digest !== digest };
  }
}

function subnetNotFound(id: string): NetworkError {
  return new NetworkError('SUBNET_NOT_FOUND', `No subnet ${id}: it does not exist or was deleted`);
}

function vmNetworkNotFound(id: string): NetworkError {
  return new NetworkError('VM_NETWORK_NOT_FOUND', `No VM network ${id}: it does not exist or was deleted`);
}

export { applyDelta };
