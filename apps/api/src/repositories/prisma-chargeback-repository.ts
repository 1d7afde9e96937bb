import { ChargebackError } from '@fabric/core/chargeback/chargeback.errors';
import type { ChargebackRepository, TenantUsageRow } from '@fabric/core/chargeback/chargeback-repository';
import type { PeriodMs, RateCard } from '@fabric/core/chargeback/rate-card';
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

  async usageBySpan(spans: readonly PeriodMs[], tenantId?: string): Promise<TenantUsageRow[]> {
    // Each span in whole UTC days (from vm_usage_daily) and the hours of its
    // partial first and last days (from vm_usage_hourly).
    const days = { span: [] as number[], from: [] as string[], to: [] as string[] };
    const hours = { span: [] as number[], from: [] as Date[], to: [] as Date[] };
    const addHours = (span: number, fromMs: number, toMs: number) => {
      if (fromMs >= toMs) return;
      hours.span.push(span);
      hours.from.push(new Date(fromMs));
      hours.to.push(new Date(toMs));
    };
    for (const [span, { fromMs, toMs }] of spans.entries()) {
      const firstDayMs = Math.ceil(fromMs / DAY_MS) * DAY_MS;
      const endDayMs = Math.floor(toMs / DAY_MS) * DAY_MS;
      if (firstDayMs < endDayMs) {
        days.span.push(span);
        days.from.push(isoDay(firstDayMs));
        days.to.push(isoDay(endDayMs));
        addHours(span, fromMs, firstDayMs);
        addHours(span, endDayMs, toMs);
      } else {
        addHours(span, fromMs, toMs);
      }
    }
    const byTenant = (table: string) => (tenantId === undefined ? '' : `AND ${table}.tenant_id = $7::uuid`);
    // The VM's name at the latest row of the span: max() over "start key ‖ name"
    // (sortable in the C collation) keeps the aggregate parallel, unlike an
    // ordered array_agg. Day rows key as their 00:00, hour rows as their hour.
    const rows = await this.db.$queryRawUnsafe<
      {
        tenant_id: string;
        vm_id: string;
        span: number;
        vm_name: string;
        vcpu: string;
        mem: string;
        disk: string;
        in_i: string;
        out_i: string;
        in_d: string;
        out_d: string;
      }[]
    >(
      `WITH usage AS (
         SELECT r.span, d.tenant_id, d.vm_id, to_char(d.day, 'YYYY-MM-DD"T00"') || d.vm_name AS keyed_name,
           d.vcpu_seconds::numeric AS vcpu, d.mem_mib_seconds AS mem, d.disk_gib_seconds AS disk,
           d.net_in_internet_bytes AS in_i, d.net_out_internet_bytes AS out_i,
           d.net_in_datacenter_bytes AS in_d, d.net_out_datacenter_bytes AS out_d
         FROM unnest($1::int[], $2::date[], $3::date[]) AS r(span, first_day, end_day)
         JOIN vm_usage_daily d ON d.day >= r.first_day AND d.day < r.end_day ${byTenant('d')}
         UNION ALL
         SELECT r.span, h.tenant_id, h.vm_id,
           to_char(h.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') || h.vm_name,
           h.vcpus::numeric * least(h.running_seconds, 3600), h.mem_mib_seconds, h.disk_gib_seconds,
           h.net_in_internet_bytes, h.net_out_internet_bytes, h.net_in_datacenter_bytes, h.net_out_datacenter_bytes
         FROM unnest($4::int[], $5::timestamptz[], $6::timestamptz[]) AS r(span, from_at, to_at)
         JOIN vm_usage_hourly h ON h.hour >= r.from_at AND h.hour < r.to_at ${byTenant('h')}
       )
       SELECT tenant_id::text, vm_id::text, span, substr(max(keyed_name COLLATE "C"), 14) AS vm_name,
         sum(vcpu)::text AS vcpu, sum(mem)::text AS mem, sum(disk)::text AS disk, sum(in_i)::text AS in_i,
         sum(out_i)::text AS out_i, sum(in_d)::text AS in_d, sum(out_d)::text AS out_d
       FROM usage GROUP BY tenant_id, vm_id, span`,
      days.span,
      days.from,
      days.to,
      hours.span,
      hours.from,
      hours.to,
      ...(tenantId === undefined ? [] : [tenantId]),
    );
    return rows.map((r) => {
      const span = spans[r.span];
      if (span === undefined) throw new Error(`usage for unknown span ${r.span}`);
      return {
        tenantId: r.tenant_id,
        vmId: r.vm_id,
        vmName: r.vm_name,
        from: new Date(span.fromMs).toISOString(),
        to: new Date(span.toMs).toISOString(),
        vcpuSeconds: r.vcpu,
        memMibSeconds: r.mem,
        diskGibSeconds: r.disk,
        replicaGibSeconds: 0,
        networkInBytes: { internet: r.in_i, datacenter: r.in_d },
        networkOutBytes: { internet: r.out_i, datacenter: r.out_d },
      };
    });
  }

  listTenants() {
    return this.db.tenant.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
  }

  async listPlans(): Promise<Map<string, TenantPlan>> {
    const rows = await this.db.tenantPlan.findMany();
    return new Map(rows.map((row) => [row.tenantId, tenantPlanSchema.parse(row.plan)]));
  }
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
