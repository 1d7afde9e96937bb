import { ChargebackError } from '@fabric/core/chargeback/chargeback.errors';
import type { ChargebackRepository } from '@fabric/core/chargeback/chargeback-repository';
import type { RateCard } from '@fabric/core/chargeback/rate-card';
import { rateCardSchema } from '@fabric/core/chargeback/rate-card.schema';
import type { TenantPlan } from '@fabric/core/chargeback/tenant-plan';
import { tenantPlanSchema } from '@fabric/core/chargeback/tenant-plan.schema';
import type { HourlyUsage } from '@fabric/core/chargeback/usage.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

export class PrismaChargebackRepository implements ChargebackRepository {
  constructor(private readonly db: Db) {}

  async listRateCards(): Promise<RateCard[]> {
    const cards = await this.db.rateCard.findMany({ orderBy: { effectiveFrom: 'asc' } });
    // Stored as written by addRateCard; parsed again so a bad row fails loudly here.
    return cards.map((c) =>
      rateCardSchema.parse({
        currency: c.currency,
        effectiveFrom: c.effectiveFrom.toISOString().slice(0, 10),
        prices: c.prices,
      }),
    );
  }

  async addRateCard(card: RateCard, createdBy: string) {
    const effectiveFrom = new Date(`${card.effectiveFrom}T00:00:00Z`);
    if (await this.db.rateCard.findUnique({ where: { effectiveFrom } })) {
      throw new ChargebackError('DUPLICATE_EFFECTIVE_DATE', `A rate card already starts on ${card.effectiveFrom}`);
    }
    await this.db.rateCard.create({
      data: { currency: card.currency, effectiveFrom, prices: card.prices as Prisma.InputJsonValue, createdBy },
    });
  }

  async findPlan(tenantId: string): Promise<TenantPlan | null> {
    const row = await this.db.tenantPlan.findUnique({ where: { tenantId } });
    return row ? tenantPlanSchema.parse(row.plan) : null;
  }

  async setPlan(tenantId: string, plan: TenantPlan) {
    await this.db.tenantPlan.upsert({
      where: { tenantId },
      create: { tenantId, plan: plan as Prisma.InputJsonValue },
      update: { plan: plan as Prisma.InputJsonValue },
    });
  }

  async tenantExists(tenantId: string) {
    return (await this.db.tenant.count({ where: { id: tenantId } })) === 1;
  }

  async hourlyUsage(tenantId: string, from: Date, to: Date): Promise<HourlyUsage[]> {
    // Numeric counters leave Postgres as text and become numbers only here;
    // per hour they stay far below 2^53, and rateUsage works in decimals.
    const rows = await this.db.$queryRaw<
      {
        vm_id: string;
        vm_name: string;
        hour: Date;
        vcpus: number;
        running_seconds: bigint;
        mem: string;
        disk: string;
        in_i: string;
        out_i: string;
        in_d: string;
        out_d: string;
      }[]
    >`SELECT vm_id, vm_name, hour, vcpus, running_seconds, mem_mib_seconds::text AS mem, disk_gib_seconds::text AS disk,
             net_in_internet_bytes::text AS in_i, net_out_internet_bytes::text AS out_i,
             net_in_datacenter_bytes::text AS in_d, net_out_datacenter_bytes::text AS out_d
      FROM vm_usage_hourly
      WHERE tenant_id = ${tenantId}::uuid AND hour >= ${from} AND hour < ${to}
      ORDER BY vm_id, hour`;
    return rows.map((r) => ({
      vmId: r.vm_id,
      vmName: r.vm_name,
      hour: r.hour.toISOString(),
      vcpus: r.vcpus,
      runningSeconds: Math.min(3600, Number(r.running_seconds)),
      memMibSeconds: Number(r.mem),
      diskGibSeconds: Number(r.disk),
      replicaGibSeconds: 0,
      networkInBytes: { internet: Number(r.in_i), datacenter: Number(r.in_d) },
      networkOutBytes: { internet: Number(r.out_i), datacenter: Number(r.out_d) },
    }));
  }
}
