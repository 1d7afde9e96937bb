import type {
  ComputeRepository,
  NewVm,
  StoredDecision,
  TaskRecord,
  VmChangeEvent,
  VmRecord,
} from '@fabric/core/compute/compute-repository';
import { DEFAULT_QUOTA } from '@fabric/core/compute/quota';
import type { ListVmsInput, Quota, Usage, VmState } from '@fabric/core/compute/vm.schema';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import type { TaskKind, VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

export const TASKS_CHANNEL = 'fabric_tasks';
export const VM_EVENTS_CHANNEL = 'fabric_vm_events';

function vmWhere(scope: TenantScope): Prisma.VmWhereInput {
  return scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {};
}

const vmRecordSelect = {
  id: true,
  tenantId: true,
  name: true,
  state: true,
  hostId: true,
  clusterId: true,
  vcpus: true,
  memoryMiB: true,
  storageBytes: true,
} satisfies Prisma.VmSelect;

function toVmRecord(vm: Prisma.VmGetPayload<{ select: typeof vmRecordSelect }>): VmRecord {
  return { ...vm, storageBytes: Number(vm.storageBytes) };
}

function toQuota(row: Prisma.TenantQuotaGetPayload<object>): Quota {
  return {
    maxVms: row.maxVms,
    maxVcpus: row.maxVcpus,
    maxMemoryMiB: row.maxMemoryMiB,
    maxStorageBytes: Number(row.maxStorageBytes),
    maxRunningVms: row.maxRunningVms,
    maxRunningVcpus: row.maxRunningVcpus,
    maxRunningMemoryMiB: row.maxRunningMemoryMiB,
  };
}

const SORTS: Record<ListVmsInput['sort'], (dir: 'asc' | 'desc') => Prisma.VmOrderByWithRelationInput> = {
  name: (dir) => ({ name: dir }),
  state: (dir) => ({ state: dir }),
  vcpus: (dir) => ({ vcpus: dir }),
  memoryMiB: (dir) => ({ memoryMiB: dir }),
  createdAt: (dir) => ({ createdAt: dir }),
};

export class PrismaComputeRepository implements ComputeRepository {
  constructor(private readonly db: Db) {}

  async lockQuota(tenantId: string): Promise<Quota> {
    // Insert-if-missing, then lock: concurrent first creates of a tenant meet on one row.
    await this.db.$executeRaw`INSERT INTO tenant_quotas (tenant_id, updated_at) VALUES (${tenantId}::uuid, now())
      ON CONFLICT (tenant_id) DO NOTHING`;
    await this.db.$queryRaw`SELECT tenant_id FROM tenant_quotas WHERE tenant_id = ${tenantId}::uuid FOR UPDATE`;
    return this.getQuota(tenantId);
  }

  async getQuota(tenantId: string): Promise<Quota> {
    const row = await this.db.tenantQuota.findUnique({ where: { tenantId } });
    return row ? toQuota(row) : DEFAULT_QUOTA;
  }

  async tenantExists(tenantId: string) {
    return (await this.db.tenant.count({ where: { id: tenantId } })) === 1;
  }

  async setQuota(tenantId: string, quota: Quota) {
    await this.db.tenantQuota.update({
      where: { tenantId },
      data: { ...quota, maxStorageBytes: BigInt(quota.maxStorageBytes) },
    });
  }

  async usage(tenantId: string): Promise<Usage> {
    // A VM being created counts as running: it may start right after, and the
    // running quota must hold then too (conservative, never over).
    const rows = await this.db.$queryRaw<
      { vms: bigint; vcpus: bigint; memory: bigint; storage: bigint; rvms: bigint; rvcpus: bigint; rmemory: bigint }[]
    >`SELECT count(*) AS vms, coalesce(sum(vcpus), 0) AS vcpus, coalesce(sum(memory_mib), 0) AS memory,
             coalesce(sum(storage_bytes), 0) AS storage,
             count(*) FILTER (WHERE state IN ('creating','starting','running','paused','stopping')) AS rvms,
             coalesce(sum(vcpus) FILTER (WHERE state IN ('creating','starting','running','paused','stopping')), 0) AS rvcpus,
             coalesce(sum(memory_mib) FILTER (WHERE state IN ('creating','starting','running','paused','stopping')), 0) AS rmemory
      FROM vms WHERE tenant_id = ${tenantId}::uuid`;
    const r = rows[0];
    return {
      vms: Number(r?.vms ?? 0),
      vcpus: Number(r?.vcpus ?? 0),
      memoryMiB: Number(r?.memory ?? 0),
      storageBytes: Number(r?.storage ?? 0),
      runningVms: Number(r?.rvms ?? 0),
      runningVcpus: Number(r?.rvcpus ?? 0),
      runningMemoryMiB: Number(r?.rmemory ?? 0),
    };
  }

  findVmByName(tenantId: string, name: string) {
    return this.db.vm.findFirst({
      where: { tenantId, name: { equals: name, mode: 'insensitive' } },
      select: { id: true },
    });
  }

  async createVm(vm: NewVm): Promise<VmRecord> {
    const created = await this.db.vm.create({
      data: {
        ...vmColumns(vm),
        disks: { create: diskRows(vm) },
        nics: { create: nicRows(vm) },
      },
      select: vmRecordSelect,
    });
    return toVmRecord(created);
  }

  async createVms(vms: (NewVm & { id: string })[]) {
    await this.db.vm.createMany({ data: vms.map((vm) => ({ id: vm.id, ...vmColumns(vm) })) });
    await this.db.vmDisk.createMany({ data: vms.flatMap((vm) => diskRows(vm).map((d) => ({ ...d, vmId: vm.id }))) });
    const nics = vms.flatMap((vm) => nicRows(vm).map((n) => ({ ...n, vmId: vm.id })));
    if (nics.length) await this.db.vmNic.createMany({ data: nics });
  }

  async findVmNames(tenantId: string, names: string[]) {
    const rows = await this.db.vm.findMany({
      where: { tenantId, name: { in: names, mode: 'insensitive' } },
      select: { name: true },
    });
    return rows.map((r) => r.name);
  }

  async saveDecisions(decisions: StoredDecision[]) {
    await this.db.placementDecision.createMany({
      data: decisions.map(decisionRow),
    });
  }

  async createTasks(tasks: { kind: TaskKind; vmId: string; hostId: string; tenantId: string; requestedBy: string }[]) {
    await this.db.task.createMany({ data: tasks.map((t) => ({ ...t, createdAt: nextTaskTime() })) });
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

  async meteringSince(id: string) {
    const vm = await this.db.vm.findUnique({ where: { id }, select: { meteringSince: true } });
    return vm?.meteringSince ?? null;
  }

  async resetMetering(id: string, at: Date) {
    await this.db.vm.update({ where: { id }, data: { meteringSince: at } });
  }

  async deleteVm(id: string) {
    await this.db.vm.delete({ where: { id } });
  }

  async vmSpec(id: string): Promise<VmSpec | null> {
    const vm = await this.db.vm.findUnique({ where: { id }, include: { disks: true, nics: true } });
    if (!vm) return null;
    const byId = new Map(vm.disks.map((d) => [d.id, d.name]));
    return {
      vmId: vm.id,
      name: vm.name,
      vcpus: vm.vcpus,
      memory: {
        dynamic: vm.dynamicMemory,
        startupMiB: vm.memoryMiB,
        minimumMiB: vm.minimumMemoryMiB,
        maximumMiB: vm.maximumMemoryMiB,
        bufferPercent: vm.memoryBufferPercent,
        weight: vm.memoryWeight,
      },
      disks: vm.disks.map((d) => ({
        name: d.name,
        pool: d.pool,
        sizeBytes: Number(d.sizeBytes),
        logicalSectorBytes: d.logicalSectorBytes === 512 ? 512 : 4096,
        kind: d.kind === 'fixed' || d.kind === 'differencing' ? d.kind : 'dynamic',
        parent: d.parentDiskId ? (byId.get(d.parentDiskId) ?? null) : null,
      })),
      nics: vm.nics.map((n) => ({
        name: n.name,
        macAddress: n.macAddress,
        network: n.network,
        minimumBandwidthMbps: n.minimumBandwidthMbps,
        minimumBandwidthWeight: n.minimumBandwidthWeight,
        maximumBandwidthMbps: n.maximumBandwidthMbps,
      })),
    };
  }

  async listVms(scope: TenantScope, q: ListVmsInput) {
    const where: Prisma.VmWhereInput = {
      AND: [
        vmWhere(scope),
        q.search ? { name: { contains: q.search, mode: 'insensitive' } } : {},
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
    return { rows, total };
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
      this.db.task.findMany({ where: { vmId: id }, orderBy: { createdAt: 'desc' }, take: 20 }),
      this.db.placementDecision.findFirst({
        where: { vmId: id },
        orderBy: { createdAt: 'desc' },
        select: { id: true, summary: true },
      }),
    ]);
    return {
      id: vm.id,
      name: vm.name,
      state: vm.state,
      stateReason: vm.stateReason,
      tenantId: vm.tenantId,
      tenantName: vm.tenant.name,
      hostId: showHost ? vm.hostId : null,
      hostName: showHost ? (vm.host?.name ?? null) : null,
      clusterName: showHost ? (vm.cluster?.name ?? null) : null,
      vcpus: vm.vcpus,
      memory: {
        dynamic: vm.dynamicMemory,
        startupMiB: vm.memoryMiB,
        minimumMiB: vm.minimumMemoryMiB,
        maximumMiB: vm.maximumMemoryMiB,
        bufferPercent: vm.memoryBufferPercent,
        weight: vm.memoryWeight,
      },
      storageBytes: Number(vm.storageBytes),
      haPriority: vm.haPriority,
      tags: vm.tags,
      groups: vm.groups,
      createdAt: vm.createdAt,
      disks: vm.disks.map((d) => ({
        name: d.name,
        pool: showHost ? d.pool : null,
        sizeBytes: Number(d.sizeBytes),
        logicalSectorBytes: d.logicalSectorBytes,
        kind: d.kind,
      })),
      nics: vm.nics.map((n) => ({
        name: n.name,
        macAddress: n.macAddress,
        network: n.network,
        minimumBandwidthMbps: n.minimumBandwidthMbps,
        minimumBandwidthWeight: n.minimumBandwidthWeight,
        maximumBandwidthMbps: n.maximumBandwidthMbps,
      })),
      tasks: tasks.map((t) => ({
        id: t.id,
        kind: t.kind,
        state: t.state,
        progress: t.progress,
        message: t.message,
        errorCode: t.errorCode,
        requestedBy: t.requestedBy,
        createdAt: t.createdAt,
        finishedAt: t.finishedAt,
      })),
      decision: showHost ? decision : null,
    };
  }

  async saveDecision(d: StoredDecision) {
    const created = await this.db.placementDecision.create({
      data: decisionRow(d),
      select: { id: true },
    });
    return created.id;
  }

  findDecision(scope: TenantScope, id: string) {
    // The row is the stored decision as it was written (decisionRow), plus id and time.
    return this.db.placementDecision.findFirst({
      where: { id, ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}) },
    });
  }

  async createTask(task: { kind: TaskKind; vmId: string; hostId: string; tenantId: string; requestedBy: string }) {
    const created = await this.db.task.create({ data: { ...task, createdAt: nextTaskTime() } });
    return toTask(created);
  }

  async claimTasks(hostId: string, max: number, now: Date, leaseUntil: Date) {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      UPDATE tasks SET state = 'running', attempt = attempt + 1, lease_until = ${leaseUntil},
                       started_at = coalesce(started_at, ${now})
      WHERE id IN (
        SELECT id FROM tasks
        WHERE host_id = ${hostId}::uuid
          AND (state = 'queued' OR (state = 'running' AND lease_until < ${now}))
        ORDER BY created_at
        LIMIT ${max}
        FOR UPDATE SKIP LOCKED)
      RETURNING id`;
    if (!rows.length) return [];
    const tasks = await this.db.task.findMany({
      where: { id: { in: rows.map((r) => r.id) } },
      orderBy: { createdAt: 'asc' },
    });
    return tasks.map((t) => ({ ...toTask(t), attempt: t.attempt }));
  }

  async findTaskForUpdate(hostId: string, taskId: string) {
    const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM tasks
      WHERE id = ${taskId}::uuid AND host_id = ${hostId}::uuid FOR UPDATE`;
    if (!rows.length) return null;
    const task = await this.db.task.findUnique({ where: { id: taskId } });
    return task ? { ...toTask(task), progress: task.progress } : null;
  }

  async updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date) {
    await this.db.task.update({ where: { id: taskId }, data: { progress, message, leaseUntil } });
  }

  async finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
  ) {
    await this.db.task.update({
      where: { id: taskId },
      data: {
        state,
        message,
        errorCode,
        finishedAt: now,
        progress: state === 'succeeded' ? 100 : undefined,
        leaseUntil: null,
      },
    });
  }

  async notifyTasksQueued(hostId: string) {
    await this.db.$executeRaw`SELECT pg_notify(${TASKS_CHANNEL}, ${hostId})`;
  }

  async notifyVmChange(event: VmChangeEvent) {
    await this.db.$executeRaw`SELECT pg_notify(${VM_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
  }
}

function decisionRow(d: StoredDecision) {
  return {
    tenantId: d.tenantId,
    vmId: d.vmId,
    vmName: d.vmName,
    clusterId: d.clusterId,
    hostId: d.hostId,
    hostName: d.hostName,
    policy: d.policy,
    seed: d.seed,
    summary: d.summary,
    request: d.request as Prisma.InputJsonValue,
    trace: d.trace as Prisma.InputJsonValue,
  };
}

/** A new VM's own columns (its disks and NICs are rows of their own). */
function vmColumns(vm: NewVm) {
  const m = vm.spec.memory;
  return {
    tenantId: vm.tenantId,
    name: vm.name,
    state: 'creating' as const,
    clusterId: vm.clusterId,
    hostId: vm.hostId,
    vcpus: vm.spec.vcpus,
    dynamicMemory: m.dynamic,
    memoryMiB: m.startupMiB,
    minimumMemoryMiB: m.minimumMiB,
    maximumMemoryMiB: m.maximumMiB,
    memoryBufferPercent: m.bufferPercent,
    memoryWeight: m.weight,
    storageBytes: BigInt(vm.storageBytes),
    haPriority: vm.haPriority,
    tags: vm.tags,
    groups: vm.groups,
  };
}

function diskRows(vm: NewVm) {
  return vm.spec.disks.map((d) => ({
    name: d.name,
    pool: d.pool,
    sizeBytes: BigInt(d.sizeBytes),
    logicalSectorBytes: d.logicalSectorBytes,
    kind: d.kind,
  }));
}

function nicRows(vm: NewVm) {
  return vm.spec.nics.map((n) => ({
    name: n.name,
    macAddress: n.macAddress,
    network: n.network,
    minimumBandwidthMbps: n.minimumBandwidthMbps,
    minimumBandwidthWeight: n.minimumBandwidthWeight,
    maximumBandwidthMbps: n.maximumBandwidthMbps,
  }));
}

/**
 * Tasks are handed out in created_at order, and a VM's tasks must run in the
 * order they were queued (create before start). Postgres' now() is the same
 * for a whole transaction, so the time is set here, strictly increasing.
 */
let lastTaskTime = 0;
function nextTaskTime(): Date {
  lastTaskTime = Math.max(Date.now(), lastTaskTime + 1);
  return new Date(lastTaskTime);
}

function toTask(t: Prisma.TaskGetPayload<object>): TaskRecord {
  return {
    id: t.id,
    kind: t.kind as TaskKind,
    state: t.state,
    vmId: t.vmId,
    hostId: t.hostId,
    tenantId: t.tenantId,
  };
}
