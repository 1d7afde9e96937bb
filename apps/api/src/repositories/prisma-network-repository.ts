import { RefusalBudget } from '@fabric/core/audit/refusal-budget';
import type { HostPolicy, PolicyDelta } from '@fabric/core/network/compile';
import type { IsolationReport } from '@fabric/core/network/isolation';
import { DEFAULT_MAC_POOL } from '@fabric/core/network/mac-pool';
import type { IsolationMode, PortPolicy } from '@fabric/core/network/network';
import { NetworkError } from '@fabric/core/network/network.errors';
import type {
  HostPolicyRow,
  NetworkRepository,
  NicRow,
  PaPoolRow,
  ProviderAddressRow,
  SubnetRow,
  SwitchExtensionRow,
  VmNetworkRow,
} from '@fabric/core/network/network-repository';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import { scopeTransaction, seeingAllTenants, tenantScopedPrisma } from '../tenancy/scoped-prisma';
import type { Db, PrismaClient } from './prisma';
import { PrismaAuditRepository } from './prisma-audit-repository';
import { isForeignKeyViolation, uniqueOr } from './prisma-errors';

const tenantWhere = (scope: TenantScope) => (scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {});

type NetworkWithSubnets = Prisma.VmNetworkGetPayload<{ include: { subnets: true } }>;
const toNetwork = (n: NetworkWithSubnets): VmNetworkRow => ({
  id: n.id,
  tenantId: n.tenantId,
  name: n.name,
  isolation: n.isolation as IsolationMode,
  createdAt: n.createdAt,
  subnets: n.subnets.sort((a, b) => a.vsid - b.vsid).map(toSubnet),
});
const toSubnet = (s: Prisma.VirtualSubnetGetPayload<object>): SubnetRow => ({
  id: s.id,
  tenantId: s.tenantId,
  vmNetworkId: s.vmNetworkId,
  name: s.name,
  vsid: s.vsid,
  prefix: s.prefix,
  gateway: s.gateway,
});

export class PrismaNetworkRepository implements NetworkRepository {
  constructor(private readonly db: Db) {}

  async listVmNetworks(scope: TenantScope) {
    const rows = await this.db.vmNetwork.findMany({
      where: tenantWhere(scope),
      include: { subnets: true },
      orderBy: { name: 'asc' },
    });
    return rows.map(toNetwork);
  }

  async findVmNetwork(scope: TenantScope, id: string) {
    const row = await this.db.vmNetwork.findFirst({ where: { id, ...tenantWhere(scope) }, include: { subnets: true } });
    return row ? toNetwork(row) : null;
  }

  async createVmNetwork(row: { tenantId: string; name: string; isolation: IsolationMode }) {
    const created = await uniqueOr(
      this.db.vmNetwork.create({ data: row, include: { subnets: true } }),
      () => new NetworkError('SUBNET_OVERLAP', `A VM network named "${row.name}" already exists`),
    );
    return toNetwork(created);
  }

  async createSubnet(row: Omit<SubnetRow, 'id'>) {
    const created = await uniqueOr(
      this.db.virtualSubnet.create({ data: row }),
      // VSIDs are drawn under a lock, so the one unique rule a create can break is the name in its VM network.
      () => new NetworkError('SUBNET_OVERLAP', `This VM network already has a subnet named "${row.name}"`),
    );
    return toSubnet(created);
  }

  async updateVmNetwork(id: string, change: { name?: string; isolation?: IsolationMode }) {
    const updated = await uniqueOr(
      this.db.vmNetwork.update({ where: { id }, data: change, include: { subnets: true } }),
      () => new NetworkError('SUBNET_OVERLAP', `A VM network named "${change.name}" already exists`),
    );
    return toNetwork(updated);
  }

  async deleteVmNetwork(id: string) {
    // deleteMany: a second delete of the same network (a double submit) finds nothing instead of a 500.
    const { count } = await this.db.vmNetwork.deleteMany({ where: { id } });
    if (count === 0) throw new NetworkError('VM_NETWORK_NOT_FOUND', 'No such VM network');
  }

  async updateSubnet(id: string, change: { name: string; prefix: string; gateway: string }) {
    const updated = await uniqueOr(
      this.db.virtualSubnet.update({ where: { id }, data: change }),
      () => new NetworkError('SUBNET_OVERLAP', `This VM network already has a subnet named "${change.name}"`),
    );
    return toSubnet(updated);
  }

  async deleteSubnet(id: string) {
    const { count } = await this.db.virtualSubnet.deleteMany({ where: { id } });
    if (count === 0) throw new NetworkError('SUBNET_NOT_FOUND', 'No such subnet');
  }

  async relabelNics(subnetId: string, label: string) {
    await this.db.vmNic.updateMany({ where: { subnetId }, data: { network: label } });
  }

  vsidInUse(vsid: number) {
    return seeingAllTenants(this.db, async () => (await this.db.virtualSubnet.count({ where: { vsid } })) > 0);
  }

  lowestFreeVsid(from: number) {
    return seeingAllTenants(this.db, async () => {
      const rows = await this.db.$queryRaw<{ vsid: number | null }[]>`
        SELECT CASE
          WHEN NOT EXISTS (SELECT 1 FROM virtual_subnets WHERE vsid = ${from}) THEN ${from}::int
          ELSE (SELECT min(s.vsid) + 1 FROM virtual_subnets s
                WHERE s.vsid >= ${from} AND NOT EXISTS (SELECT 1 FROM virtual_subnets t WHERE t.vsid = s.vsid + 1))
        END AS vsid`;
      return Number(rows[0]?.vsid ?? from);
    });
  }

  async lockVsidAllocation() {
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('fabric.network.vsid'))`;
  }

  async vmExists(scope: TenantScope, vmId: string) {
    return (await this.db.vm.count({ where: { id: vmId, ...tenantWhere(scope) } })) > 0;
  }

  async listNics(scope: TenantScope): Promise<NicRow[]> {
    const rows = await this.db.vmNic.findMany({
      where: scope.kind === 'tenant' ? { vm: { tenantId: scope.tenantId } } : {},
      include: { vm: { select: { id: true, name: true, tenantId: true, state: true, hostId: true, clusterId: true } } },
      orderBy: [{ vmId: 'asc' }, { name: 'asc' }],
    });
    // Prisma reads the NICs and then their VMs in a second statement: a VM deleted between the two comes
    // back null (the type says it cannot). Such a NIC is gone too (cascade), so it is left out rather than
    // read through ("Cannot read properties of null (reading 'id')" in the reconciler on VM delete).
    return rows
      .flatMap((r) => {
        const vm = r.vm as typeof r.vm | null;
        return vm ? [{ ...r, vm }] : [];
      })
      .map((r) => ({
        nicId: r.id,
        nicName: r.name,
        vmId: r.vm.id,
        vmName: r.vm.name,
        tenantId: r.vm.tenantId,
        vmState: r.vm.state,
        hostId: r.vm.hostId,
        clusterId: r.vm.clusterId,
        mac: r.macAddress,
        network: r.network,
        subnetId: r.subnetId,
        ca: r.caAddress,
        portPolicy: (r.portPolicy ?? {}) as Partial<PortPolicy>,
        maximumBandwidthMbps: r.maximumBandwidthMbps,
        minimumBandwidthWeight: r.minimumBandwidthWeight,
        minimumBandwidthMbps: r.minimumBandwidthMbps,
        bandwidth:
          r.bandwidthAt && r.offeredMbps !== null && r.achievedMbps !== null && isLimit(r.bandwidthLimitedBy)
            ? {
                at: r.bandwidthAt,
                offeredMbps: r.offeredMbps,
                achievedMbps: r.achievedMbps,
                limitedBy: r.bandwidthLimitedBy,
              }
            : null,
      }));
  }

  async usedCas(subnetId: string) {
    const rows = await seeingAllTenants(this.db, () =>
      this.db.vmNic.findMany({ where: { subnetId, caAddress: { not: null } }, select: { caAddress: true } }),
    );
    return new Set(rows.map((r) => r.caAddress).filter((c): c is string => c !== null));
  }

  async setNicNetwork(
    nicId: string,
    value: { subnetId: string | null; ca: string | null; portPolicy: Partial<PortPolicy>; label: string },
  ) {
    // updateMany: a NIC whose VM was deleted meanwhile is not found (a clean refusal, not Prisma's P2025);
    // a subnet deleted meanwhile (a caller that did not lock it) is SUBNET_NOT_FOUND, not a foreign-key 500.
    const { count } = await uniqueOr(
      this.db.vmNic
        .updateMany({
          where: { id: nicId },
          data: {
            subnetId: value.subnetId,
            caAddress: value.ca,
            network: value.label,
            portPolicy: value.portPolicy as Prisma.InputJsonValue,
          },
        })
        .catch((error: unknown) => {
          if (isForeignKeyViolation(error))
            throw new NetworkError('SUBNET_NOT_FOUND', `No subnet ${value.subnetId}: it was deleted meanwhile`);
          throw error;
        }),
      () => new NetworkError('CA_IN_USE', `Customer address ${value.ca} is already assigned in that subnet`),
    );
    if (count === 0) throw new NetworkError('VM_NETWORK_NOT_FOUND', 'That NIC no longer exists (its VM was deleted)');
  }

  async lockVmNetwork(id: string) {
    await this.db.$executeRaw`SELECT id FROM vm_networks WHERE id = ${id}::uuid FOR UPDATE`;
  }

  async lockSubnets(ids: readonly string[]): Promise<SubnetRow[]> {
    if (ids.length === 0) return [];
    // One order for every caller (by id), so two lockers of overlapping sets cannot deadlock.
    const rows = await this.db.$queryRaw<
      {
        id: string;
        tenant_id: string;
        vm_network_id: string;
        name: string;
        vsid: number;
        prefix: string;
        gateway: string;
      }[]
    >`SELECT id, tenant_id, vm_network_id, name, vsid, prefix, gateway FROM virtual_subnets
      WHERE id = ANY(${[...ids]}::uuid[]) ORDER BY id FOR UPDATE`;
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      vmNetworkId: r.vm_network_id,
      name: r.name,
      vsid: r.vsid,
      prefix: r.prefix,
      gateway: r.gateway,
    }));
  }

  async createLogicalNetwork(name: string) {
    return uniqueOr(
      this.db.logicalNetwork.create({ data: { name }, select: { id: true, name: true } }),
      () => new NetworkError('LOGICAL_NETWORK_NOT_FOUND', `A logical network named "${name}" already exists`),
    );
  }

  findLogicalNetwork(id: string) {
    return this.db.logicalNetwork.findUnique({ where: { id }, select: { id: true, name: true } });
  }

  listLogicalNetworks() {
    return this.db.logicalNetwork.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
  }

  async addPaPool(row: Omit<PaPoolRow, 'id' | 'logicalNetworkName'>): Promise<PaPoolRow> {
    const created = await uniqueOr(
      this.db.paPool.create({ data: row, include: { logicalNetwork: true } }),
      () => new NetworkError('SUBNET_OVERLAP', 'That cluster already has a PA pool on this logical network'),
    );
    return { ...row, id: created.id, logicalNetworkName: created.logicalNetwork.name };
  }

  async listPaPools(): Promise<PaPoolRow[]> {
    const rows = await this.db.paPool.findMany({ include: { logicalNetwork: true }, orderBy: { createdAt: 'asc' } });
    // As in listNics: a parent read in a second statement may be gone (null) by then; its pools went with it.
    return rows
      .flatMap((r) => {
        const logicalNetwork = r.logicalNetwork as typeof r.logicalNetwork | null;
        return logicalNetwork ? [{ ...r, logicalNetwork }] : [];
      })
      .map((r) => ({
        id: r.id,
        logicalNetworkId: r.logicalNetworkId,
        logicalNetworkName: r.logicalNetwork.name,
        clusterId: r.clusterId,
        prefix: r.prefix,
        gateway: r.gateway,
        vlanId: r.vlanId,
      }));
  }

  async clusterExists(id: string) {
    return (await this.db.cluster.count({ where: { id } })) > 0;
  }

  listHosts() {
    return this.db.host.findMany({ select: { id: true, name: true, clusterId: true }, orderBy: { name: 'asc' } });
  }

  listProviderAddresses(): Promise<ProviderAddressRow[]> {
    return this.db.providerAddress.findMany({ select: { poolId: true, address: true, hostId: true, vmNicId: true } });
  }

  async addProviderAddress(row: ProviderAddressRow) {
    await this.db.providerAddress.create({ data: row });
  }

  async lockNic(nicId: string) {
    // FOR KEY SHARE: what a foreign key check takes; it waits for a delete in progress, then finds nothing.
    const locked = await this.db.$executeRaw`SELECT id FROM vm_nics WHERE id = ${nicId}::uuid FOR KEY SHARE`;
    return locked > 0;
  }

  async lockNicPolicy(nicId: string) {
    // FOR NO KEY UPDATE: two policy changes of one NIC queue up (each reads what the other wrote), while
    // attaches, compiles and PA allocations (FOR KEY SHARE) are not held up.
    const locked = await this.db.$executeRaw`SELECT id FROM vm_nics WHERE id = ${nicId}::uuid FOR NO KEY UPDATE`;
    return locked > 0;
  }

  async removeProviderAddressOfNic(vmNicId: string) {
    await this.db.providerAddress.deleteMany({ where: { vmNicId } });
  }

  async macPool() {
    const row = await this.db.macPool.findFirst({ orderBy: { name: 'asc' } });
    return row ? { first: row.firstMac, last: row.lastMac } : DEFAULT_MAC_POOL;
  }

  async lockMacPool() {
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('fabric.network.mac-pool'))`;
  }

  async setMacPool(pool: { first: string; last: string }) {
    // One row: VM creates read the first by name (prisma-vm-repository.ts withPoolMacs).
    await this.db.macPool.deleteMany({ where: { name: { not: 'default' } } });
    await this.db.macPool.upsert({
      where: { name: 'default' },
      create: { name: 'default', firstMac: pool.first, lastMac: pool.last },
      update: { firstMac: pool.first, lastMac: pool.last },
    });
  }

  countMacsBetween(first: string, last: string) {
    return seeingAllTenants(this.db, () => this.db.vmNic.count({ where: { macAddress: { gte: first, lte: last } } }));
  }

  async usedMacs() {
    const rows = await seeingAllTenants(this.db, () => this.db.vmNic.findMany({ select: { macAddress: true } }));
    return new Set(rows.map((r) => r.macAddress.toUpperCase().replaceAll(':', '-')));
  }

  async lockCompile() {
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('fabric.network.compile'))`;
  }

  async listHostPolicies(): Promise<HostPolicyRow[]> {
    const rows = await this.db.hostNetworkPolicy.findMany();
    return rows.map((r) => ({ ...r, policy: r.policy as unknown as HostPolicy }));
  }

  async findHostPolicy(hostId: string): Promise<HostPolicyRow | null> {
    const r = await this.db.hostNetworkPolicy.findUnique({ where: { hostId } });
    return r ? { ...r, policy: r.policy as unknown as HostPolicy } : null;
  }

  async saveHostPolicy(row: {
    hostId: string;
    version: number;
    digest: string;
    policy: HostPolicy;
    bytes: number;
    delta: PolicyDelta;
  }) {
    const policy = row.policy as unknown as Prisma.InputJsonValue;
    await this.db.hostNetworkPolicy.upsert({
      where: { hostId: row.hostId },
      create: { hostId: row.hostId, version: row.version, digest: row.digest, policy, bytes: row.bytes },
      update: { version: row.version, digest: row.digest, policy, bytes: row.bytes, changedAt: new Date() },
    });
    await this.db.hostNetworkPolicyDelta.create({
      data: { hostId: row.hostId, version: row.version, delta: row.delta as unknown as Prisma.InputJsonValue },
    });
    // Deltas older than 50 versions are not kept: an agent that far behind gets the whole policy.
    await this.db.hostNetworkPolicyDelta.deleteMany({
      where: { hostId: row.hostId, version: { lte: row.version - 50 } },
    });
  }

  async deltasAfter(hostId: string, version: number): Promise<PolicyDelta[]> {
    const rows = await this.db.hostNetworkPolicyDelta.findMany({
      where: { hostId, version: { gt: version } },
      orderBy: { version: 'asc' },
    });
    return rows.map((r) => r.delta as unknown as PolicyDelta);
  }

  async ackHostPolicy(hostId: string, version: number, digest: string, at: Date) {
    await this.db.hostNetworkPolicy.updateMany({
      where: { hostId, appliedVersion: { lte: version } },
      data: { appliedVersion: version, appliedDigest: digest, appliedAt: at },
    });
  }

  async saveIsolationCheck(report: IsolationReport, trigger: string, at: Date) {
    await this.db.isolationCheck.create({
      data: {
        at,
        ok: report.ok,
        hosts: report.hosts,
        ports: report.ports,
        candidates: report.candidates,
        durationMs: Math.round(report.durationMs),
        violations: report.violations as unknown as Prisma.InputJsonValue,
        trigger: trigger.slice(0, 200),
      },
    });
    // Keep the last 200 proofs.
    await this.db
      .$executeRaw`DELETE FROM isolation_checks WHERE id NOT IN (SELECT id FROM isolation_checks ORDER BY at DESC LIMIT 200)`;
  }

  async latestIsolationCheck() {
    const r = await this.db.isolationCheck.findFirst({ orderBy: { at: 'desc' } });
    if (!r) return null;
    return {
      ok: r.ok,
      hosts: r.hosts,
      ports: r.ports,
      candidates: r.candidates,
      durationMs: r.durationMs,
      violations: r.violations as unknown as IsolationReport['violations'],
      at: r.at,
      trigger: r.trigger,
    };
  }

  async listExtensions(): Promise<SwitchExtensionRow[]> {
    const rows = await this.db.switchExtension.findMany({ orderBy: { name: 'asc' } });
    return rows.map((r) => ({ ...r, failurePolicy: r.failurePolicy === 'open' ? 'open' : 'closed' }));
  }

  async createExtension(row: Omit<SwitchExtensionRow, 'id'>) {
    const created = await uniqueOr(
      this.db.switchExtension.create({ data: row }),
      () => new NetworkError('EXTENSION_VETO', `An extension named "${row.name}" already exists`),
    );
    return { ...created, failurePolicy: created.failurePolicy === 'open' ? ('open' as const) : ('closed' as const) };
  }
}

export type NetworkRepos = { network: PrismaNetworkRepository; audit: PrismaAuditRepository };

/** The network's own unit of work (the same transaction rules as prisma-unit-of-work.ts). */
export function networkUnitOfWork(prisma: PrismaClient): UnitOfWork<NetworkRepos> {
  const refusals = new RefusalBudget();
  const on = (db: Db): NetworkRepos => ({
    network: new PrismaNetworkRepository(db),
    audit: new PrismaAuditRepository(db, refusals),
  });
  return {
    repos: on(tenantScopedPrisma(prisma)),
    async run(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await prisma.$transaction(async (tx) => fn(on(await scopeTransaction(tx))), {
            maxWait: 5_000,
            timeout: 30_000,
          });
        } catch (error) {
          const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
          if (attempt >= 3 || !['P2034', '40P01', '40001'].includes(code)) throw error;
        }
      }
    },
  };
}

/** What held a vNIC's bandwidth, as the ingest wrote it (the sample schema's three values). */
function isLimit(value: string | null): value is 'demand' | 'maximum' | 'share' {
  return value === 'demand' || value === 'maximum' || value === 'share';
}
