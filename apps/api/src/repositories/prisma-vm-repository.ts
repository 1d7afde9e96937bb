import { randomInt } from 'node:crypto';
import { ComputeError } from '@fabric/core/compute/compute.errors';
import type { ListVmsInput, VmHaRecovery, VmState } from '@fabric/core/compute/vm.schema';
import type { NewVm, VmChangeEvent, VmRepository } from '@fabric/core/compute/vm-repository';
import { BACKGROUND_TASK_KINDS } from '@fabric/core/jobs/task-kinds.schema';
import { MIGRATE_VM_JOB_KIND } from '@fabric/core/mobility/migrate-vm';
import { allocateMacs, DEFAULT_MAC_POOL } from '@fabric/core/network/mac-pool';
import { movedSincePlacement, type VmMoveFact } from '@fabric/core/placement/placement-now';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import { escapeLike } from '@fabric/core/shared/text.schema';
import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import { seeingAllTenants } from '../tenancy/scoped-prisma';
import type { Db } from './prisma';
import { diskRows, nicRows, toVmDetail, toVmRecord, toVmSpec, vmColumns, vmRecordSelect } from './prisma-vm-rows';

/** pg_notify channel: a VM's change as JSON (VmChangeEvent), for the console's live list. */
export const VM_EVENTS_CHANNEL = 'fabric_vm_events';

function vmWhere(scope: TenantScope): Prisma.VmWhereInput {
  return scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {};
}

const SORTS: Record<ListVmsInput['sort'], (dir: 'asc' | 'desc') => Prisma.VmOrderByWithRelationInput> = {
  name: (dir) => ({ name: dir }),
  state: (dir) => ({ state: dir }),
  vcpus: (dir) => ({ vcpus: dir }),
  memoryMiB: (dir) => ({ memoryMiB: dir }),
  createdAt: (dir) => ({ createdAt: dir }),
};

/**
 * The unique index on (tenant, lower(name)) decides a name two creates race
 * for; the loser hears the same refusal as the caller's own check gives.
 */
async function refusingDuplicateNames<T>(write: () => Promise<T>, names: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'P2002') {
      throw new ComputeError('DUPLICATE_VM_NAME', `A VM named ${names} already exists`);
    }
    throw error;
  }
}

export class PrismaVmRepository implements VmRepository {
  constructor(private readonly db: Db) {}

  findVmByName(tenantId: string, name: string) {
    return this.db.vm.findFirst({
      where: { tenantId, name: { equals: name, mode: 'insensitive' } },
      select: { id: true },
    });
  }

  async findVmNames(tenantId: string, names: string[]) {
    const rows = await this.db.vm.findMany({
      where: { tenantId, name: { in: names, mode: 'insensitive' } },
      select: { name: true },
    });
    return rows.map((r) => r.name);
  }

  /**
   * The VMs with each vNIC's MAC drawn at random (node:crypto) from the free part of the fabric MAC pool
   * (network/mac-pool.ts says why not highest + 1), under the pool's lock held until this transaction ends,
   * so concurrent creates never draw the same MAC (vm_nics' unique index stands behind it); a deleted VM's
   * vNIC rows go with it, which gives its MACs back.
   */
  private async withPoolMacs<T extends NewVm>(vms: T[]): Promise<T[]> {
    const count = vms.reduce((sum, vm) => sum + vm.spec.nics.length, 0);
    if (count === 0) return vms;
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('fabric.network.mac-pool'))`;
    const row = await this.db.macPool.findFirst({ orderBy: { name: 'asc' } });
    const pool = row ? { first: row.firstMac, last: row.lastMac } : DEFAULT_MAC_POOL;
    // Every tenant's vNICs: a MAC is unique in the fabric, not per tenant.
    const macs = await seeingAllTenants(this.db, () =>
      allocateMacs(pool, count, randomInt, {
        has: async (mac) => (await this.db.vmNic.count({ where: { macAddress: mac } })) > 0,
        between: async (from, to, limit) =>
          (
            await this.db.vmNic.findMany({
              where: { macAddress: { gte: from, lte: to } },
              orderBy: { macAddress: 'asc' },
              select: { macAddress: true },
              take: limit,
            })
          ).map((n) => n.macAddress),
      }),
    );
    let next = 0;
    return vms.map((vm) => ({
      ...vm,
      spec: { ...vm.spec, nics: vm.spec.nics.map((nic) => ({ ...nic, macAddress: macs[next++] ?? nic.macAddress })) },
    }));
  }

  async createVm(input: NewVm) {
    const [vm = input] = await this.withPoolMacs([input]);
    const created = await refusingDuplicateNames(
      () =>
        this.db.vm.create({
          data: { ...vmColumns(vm), disks: { create: diskRows(vm) }, nics: { create: nicRows(vm) } },
          select: vmRecordSelect,
        }),
      `"${vm.name}"`,
    );
    return toVmRecord(created);
  }

  async createVms(input: (NewVm & { id: string })[]) {
    const vms = await this.withPoolMacs(input);
    const data = vms.map((vm) => ({ id: vm.id, ...vmColumns(vm) }));
    await refusingDuplicateNames(() => this.db.vm.createMany({ data }), 'of these names');
    await this.db.vmDisk.createMany({ data: vms.flatMap((vm) => diskRows(vm).map((d) => ({ ...d, vmId: vm.id }))) });
    const nics = vms.flatMap((vm) => nicRows(vm).map((n) => ({ ...n, vmId: vm.id })));
    if (nics.length) await this.db.vmNic.createMany({ data: nics });
  }

  async findVm(scope: TenantScope, id: string) {
    const vm = await this.db.vm.findFirst({ where: { AND: [vmWhere(scope), { id }] }, select: vmRecordSelect });
    return vm ? toVmRecord(vm) : null;
  }

  async findVmForUpdate(scope: TenantScope, id: string) {
    const tenant = scope.kind === 'tenant' ? scope.tenantId : null;
    const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM vms WHERE id = ${id}::uuid
      AND (${tenant}::uuid IS NULL OR tenant_id = ${tenant}::uuid) FOR UPDATE`;
    return rows.length ? this.findVm(scope, id) : null;
  }

  async findVmsByPattern(scope: TenantScope, pattern: RegExp) {
    const vms = await this.db.vm.findMany({ where: vmWhere(scope), select: vmRecordSelect, orderBy: { name: 'asc' } });
    return vms.filter((vm) => pattern.test(vm.name)).map(toVmRecord);
  }

  async setVmState(id: string, state: VmState, reason: string) {
    await this.db.vm.update({ where: { id }, data: { state, stateReason: reason } });
  }

  async deleteVm(id: string) {
    await this.db.vm.delete({ where: { id } });
  }

  async meteringSince(id: string) {
    const vm = await this.db.vm.findUnique({ where: { id }, select: { meteringSince: true } });
    return vm?.meteringSince ?? null;
  }

  async resetMetering(id: string, at: Date) {
    await this.db.vm.update({ where: { id }, data: { meteringSince: at } });
  }

  async vmSpec(id: string): Promise<VmSpec | null> {
    const vm = await this.db.vm.findUnique({ where: { id }, include: { disks: true, nics: true } });
    return vm ? toVmSpec(vm) : null;
  }

  async listVms(scope: TenantScope, q: ListVmsInput) {
    const where: Prisma.VmWhereInput = {
      AND: [
        vmWhere(scope),
        // Prisma's contains is a LIKE that leaves % and _ live: a search for "web_1" must not match "webx1".
        q.search ? { name: { contains: escapeLike(q.search), mode: 'insensitive' } } : {},
        q.state ? { state: q.state } : {},
        scope.kind === 'provider' && q.tenantId ? { tenantId: q.tenantId } : {},
        scope.kind === 'provider' && q.hostId ? { hostId: q.hostId } : {},
      ],
    };
    const [vms, total] = await Promise.all([
      this.db.vm.findMany({
        where,
        orderBy: [SORTS[q.sort](q.dir), { name: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
        include: { tenant: { select: { name: true } }, host: { select: { name: true } } },
      }),
      this.db.vm.count({ where }),
    ]);
    const rows = vms.map((vm) => ({
      id: vm.id,
      name: vm.name,
      state: vm.state,
      stateReason: vm.stateReason,
      tenantId: vm.tenantId,
      tenantName: vm.tenant.name,
      // Tenants do not see which host runs their VM.
      hostId: scope.kind === 'provider' ? vm.hostId : null,
      hostName: scope.kind === 'provider' ? (vm.host?.name ?? null) : null,
      vcpus: vm.vcpus,
      memoryMiB: vm.memoryMiB,
      dynamicMemory: vm.dynamicMemory,
      storageBytes: Number(vm.storageBytes),
      haPriority: vm.haPriority,
      tags: vm.tags,
      createdAt: vm.createdAt,
    }));
    const recovering = await this.haRecoveryOf(rows.map((r) => r.id));
    return { rows: rows.map((r) => withHaRecovery(r, recovering.get(r.id))), total };
  }

  /**
   * The VMs HA is bringing back after their host failed, with where their restart stands (one query for a
   * page of VMs). Only restarts of open events: a cancelled event's rows say nothing about the VM now.
   */
  private async haRecoveryOf(vmIds: string[]): Promise<Map<string, VmHaRecovery>> {
    if (!vmIds.length) return new Map();
    const restarts = await this.db.haRestart.findMany({
      where: {
        vmId: { in: vmIds },
        state: { in: ['pending', 'waiting-capacity', 'restarting'] },
        event: { state: { notIn: ['recovered', 'cancelled', 'failed'] } },
      },
      select: { vmId: true, state: true },
    });
    return new Map(
      restarts.map((r) => [
        r.vmId,
        r.state === 'waiting-capacity' ? 'waiting-capacity' : r.state === 'restarting' ? 'restarting' : 'host-failed',
      ]),
    );
  }

  async getVmDetail(scope: TenantScope, id: string, showHost: boolean) {
    const vm = await this.db.vm.findFirst({
      where: { AND: [vmWhere(scope), { id }] },
      include: {
        tenant: { select: { name: true } },
        host: { select: { name: true } },
        cluster: { select: { name: true } },
        disks: { orderBy: { name: 'asc' } },
        nics: { orderBy: { name: 'asc' } },
      },
    });
    if (!vm) return null;
    const [tasks, decision] = await Promise.all([
      // Scheduled background work (replication cycles every 30 s) would push the VM's own tasks off the list.
      this.db.task.findMany({
        where: { vmId: id, kind: { notIn: [...BACKGROUND_TASK_KINDS] } },
        orderBy: { createdAt: 'desc' },
        take: 20,
      }),
      showHost
        ? this.db.placementDecision.findFirst({
            where: { vmId: id },
            orderBy: { createdAt: 'desc' },
            select: { id: true, summary: true, hostId: true, hostName: true, createdAt: true },
          })
        : null,
    ]);
    const recovering = (await this.haRecoveryOf([id])).get(id);
    if (!decision) return withHaRecovery(toVmDetail(vm, tasks, null, showHost), recovering);
    const moves = await this.movesAfter(id, decision.createdAt);
    const movedSince = movedSincePlacement(decision, { hostId: vm.hostId, hostName: vm.host?.name ?? null }, moves);
    return withHaRecovery(
      toVmDetail(
        vm,
        tasks,
        {
          id: decision.id,
          summary: decision.summary,
          hostName: decision.hostName,
          decidedAt: decision.createdAt,
          movedSince,
        },
        showHost,
      ),
      recovering,
    );
  }

  /**
   * What moved the VM after `since`: its finished live migrations (rebalancing's when a
   * 'vm.rebalance' audit names the task) and HA restarts (their audit events).
   */
  private async movesAfter(vmId: string, since: Date): Promise<VmMoveFact[]> {
    const [migrations, audits] = await Promise.all([
      this.db.job.findMany({
        where: { targetId: vmId, kind: MIGRATE_VM_JOB_KIND, state: 'succeeded', finishedAt: { gt: since } },
        orderBy: { finishedAt: 'desc' },
        take: 10,
        select: { id: true, finishedAt: true },
      }),
      this.db.auditEvent.findMany({
        where: {
          targetType: 'vm',
          targetId: vmId,
          action: { in: ['vm.ha-restart', 'vm.rebalance'] },
          at: { gt: since },
        },
        orderBy: { at: 'desc' },
        take: 20,
        select: { action: true, at: true, details: true },
      }),
    ]);
    const rebalanced = new Set(
      audits
        .filter((a) => a.action === 'vm.rebalance')
        .map((a) => (a.details as { taskId?: unknown } | null)?.taskId)
        .filter((t): t is string => typeof t === 'string'),
    );
    return [
      ...migrations.flatMap((m) =>
        m.finishedAt
          ? [{ cause: rebalanced.has(m.id) ? ('rebalance' as const) : ('migration' as const), at: m.finishedAt }]
          : [],
      ),
      ...audits.filter((a) => a.action === 'vm.ha-restart').map((a) => ({ cause: 'ha' as const, at: a.at })),
    ];
  }

  async notifyVmChange(event: VmChangeEvent) {
    await this.db.$executeRaw`SELECT pg_notify(${VM_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
  }
}

/** The row with where HA's restart of it stands, when HA is bringing it back (absent otherwise). */
function withHaRecovery<T extends object>(
  row: T,
  recovery: VmHaRecovery | undefined,
): T & { haRecovery?: VmHaRecovery } {
  return recovery ? { ...row, haRecovery: recovery } : row;
}
