import { DEFAULT_QUOTA } from '@fabric/core/compute/quota';
import type { QuotaRepository } from '@fabric/core/compute/quota-repository';
import type { Quota, Usage } from '@fabric/core/compute/vm.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

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

export class PrismaQuotaRepository implements QuotaRepository {
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
}
