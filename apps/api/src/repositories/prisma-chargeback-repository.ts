import { ChargebackError } from '@fabric/core/chargeback/chargeback.errors';
import type { ChargebackRepository, TenantUsageRow } from '@fabric/core/chargeback/chargeback-repository';
import type { PeriodMs, RateCard } from '@fabric/core/chargeback/rate-card';
import { rateCardSchema } from '@fabric/core/chargeback/rate-card.schema';
import type { TenantPlan } from '@fabric/core/chargeback/tenant-plan';
import { tenantPlanSchema } from '@fabric/core/chargeback/tenant-plan.schema';
import type { HourlyUsage } from '@fabric/core/chargeback/usage.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';
import { uniqueOr } from './prisma-errors';
import { replicaGibSeconds } from './prisma-replication-repository';

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
    // Two cards for one day at once: the unique index decides, with the same refusal.
    await uniqueOr(
      this.db.rateCard.create({
        data: { currency: card.currency, effectiveFrom, prices: card.prices as Prisma.InputJsonValue, createdBy },
      }),
      () => new ChargebackError('DUPLICATE_EFFECTIVE_DATE', `A rate card already starts on ${card.effectiveFrom}`),
    );
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

  findTenant(tenantId: string) {
    return this.db.tenant.findUnique({ where: { id: tenantId }, select: { id: true, name: true, createdAt: true } });
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
    const aclRows = await this.db.$queryRaw<{ vm_id: string; hour: Date; acl: string; in_b: string; out_b: string }[]>`
      SELECT vm_id, hour, acl, in_bytes::text AS in_b, out_bytes::text AS out_b FROM vm_acl_usage_hourly
      WHERE tenant_id = ${tenantId}::uuid AND hour >= ${from} AND hour < ${to}`;
    const aclBytes = new Map<string, Record<string, { inBytes: number; outBytes: number }>>();
    for (const a of aclRows) {
      const key = `${a.vm_id} ${a.hour.toISOString()}`;
      aclBytes.set(key, { ...aclBytes.get(key), [a.acl]: { inBytes: Number(a.in_b), outBytes: Number(a.out_b) } });
    }
    return rows.map((r) => ({
      ...withAclBytes(aclBytes.get(`${r.vm_id} ${r.hour.toISOString()}`)),
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

  async usageBySpan(
    spans: readonly PeriodMs[],
    tenantId?: string | readonly string[],
    { names = true }: { names?: boolean } = {},
  ): Promise<TenantUsageRow[]> {
    // Each span in whole UTC days (from vm_usage_daily) and the hours of its
    // partial first and last days (from vm_usage_hourly). Spans meet at
    // midnights (card dates), so the whole-day parts are contiguous: one
    // query sums them all, bucketed by part; each partial day is one more.
    const dayParts: PeriodMs[] = [];
    const hourParts: PeriodMs[] = [];
    for (const { fromMs, toMs } of spans) {
      const firstDayMs = Math.ceil(fromMs / DAY_MS) * DAY_MS;
      const endDayMs = Math.floor(toMs / DAY_MS) * DAY_MS;
      if (firstDayMs < endDayMs) {
        dayParts.push({ fromMs: firstDayMs, toMs: endDayMs });
        if (fromMs < firstDayMs) hourParts.push({ fromMs, toMs: firstDayMs });
        if (endDayMs < toMs) hourParts.push({ fromMs: endDayMs, toMs });
      } else {
        hourParts.push({ fromMs, toMs });
      }
    }
    // Every tenant's usage is a million rows or more a month: summed in two halves of its time
    // (each its own rows, whole days or hours) on two connections, so Postgres uses two cores
    // (its own parallel plan does not split this aggregate). One tenant's is small: one query.
    const split = tenantId === undefined || (typeof tenantId !== 'string' && tenantId.length > 100);
    const queries: [UsageSource, PeriodMs[]][] = [];
    if (dayParts.length) for (const half of split ? halves(dayParts, DAY_MS) : [dayParts]) queries.push([DAILY, half]);
    for (const part of hourParts)
      for (const half of split ? halves([part], HOUR_MS) : [[part]]) queries.push([HOURLY, half]);
    const sums = await Promise.all(queries.map(([source, parts]) => this.sumParts(source, parts, tenantId, names)));
    return sums.flat();
  }

  /** Usage per tenant, VM and part of contiguous `parts`, summed in Postgres (exact numeric sums, as text). */
  private async sumParts(
    source: UsageSource,
    parts: PeriodMs[],
    tenantId: string | readonly string[] | undefined,
    names: boolean,
  ): Promise<TenantUsageRow[]> {
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]?.fromMs !== parts[i - 1]?.toMs) throw new Error('usage parts must be contiguous');
    }
    const first = parts[0];
    const last = parts.at(-1);
    if (first === undefined || last === undefined) return [];
    const { table, at, type, vcpuSeconds } = source;
    const value = (ms: number) => (type === 'date' ? isoDay(ms) : new Date(ms).toISOString());
    const conditions: string[] = [];
    const parameters: (string | readonly string[])[] = [];
    const where = (sql: (n: number) => string, parameter: string | readonly string[]) => {
      parameters.push(parameter);
      conditions.push(`AND ${sql(3 + parameters.length)}`);
    };
    if (typeof tenantId === 'string') where((n) => `tenant_id = $${n}::uuid`, tenantId);
    else if (tenantId !== undefined) where((n) => `tenant_id = ANY($${n}::uuid[])`, tenantId);
    // The VM's name at its latest row in the part, looked up by primary key after summing
    // (cheaper than carrying names through the aggregate); none when only totals are wanted.
    const vmName = names
      ? `(SELECT u.vm_name FROM ${table} u WHERE u.vm_id = sums.vm_id AND u.${at} = sums.last_at)`
      : `''`;
    const rows = await this.db.$queryRawUnsafe<SummedUsage[]>(
      `WITH sums AS (
         SELECT tenant_id, vm_id, width_bucket(${at}, $3::${type}[]) - 1 AS part, max(${at}) AS last_at,
           sum(${vcpuSeconds}) AS vcpu, sum(mem_mib_seconds) AS mem, sum(disk_gib_seconds) AS disk,
           sum(net_in_internet_bytes) AS in_i, sum(net_out_internet_bytes) AS out_i,
           sum(net_in_datacenter_bytes) AS in_d, sum(net_out_datacenter_bytes) AS out_d
         FROM ${table}
         WHERE ${at} >= $1::${type} AND ${at} < $2::${type} ${conditions.join(' ')}
         GROUP BY tenant_id, vm_id, part
       )
       SELECT tenant_id::text, vm_id::text, part,
         ${vmName} AS vm_name,
         vcpu::text, mem::text, disk::text, in_i::text, out_i::text, in_d::text, out_d::text
       FROM sums`,
      value(first.fromMs),
      value(last.toMs),
      parts.map((part) => value(part.fromMs)),
      ...parameters,
    );
    const aclBytes = await this.sumAclParts(source, parts, conditions, parameters);
    const replica = await replicaGibSeconds(this.db, parts, tenantId);
    return rows.map((r) => {
      const part = parts[Number(r.part)];
      if (part === undefined) throw new Error(`usage for unknown part ${r.part}`);
      return {
        tenantId: r.tenant_id,
        vmId: r.vm_id,
        vmName: r.vm_name,
        from: new Date(part.fromMs).toISOString(),
        to: new Date(part.toMs).toISOString(),
        vcpuSeconds: r.vcpu,
        memMibSeconds: r.mem,
        diskGibSeconds: r.disk,
        replicaGibSeconds: replica.get(`${r.vm_id} ${r.part}`) ?? 0,
        networkInBytes: { internet: r.in_i, datacenter: r.in_d },
        networkOutBytes: { internet: r.out_i, datacenter: r.out_d },
        ...withAclBytes(aclBytes.get(`${r.vm_id} ${r.part}`)),
      };
    });
  }

  /**
   * Bytes per metered address class, by `${vm_id} ${part}`, from the per-ACL twin of the
   * source (same parts and conditions as sumParts; no rows when no ACL was metered).
   */
  private async sumAclParts(
    source: UsageSource,
    parts: PeriodMs[],
    conditions: string[],
    parameters: readonly (string | readonly string[])[],
  ): Promise<Map<string, Record<string, { inBytes: string; outBytes: string }>>> {
    const first = parts[0];
    const last = parts.at(-1);
    const bytes = new Map<string, Record<string, { inBytes: string; outBytes: string }>>();
    if (first === undefined || last === undefined) return bytes;
    const { aclTable, at, type } = source;
    const value = (ms: number) => (type === 'date' ? isoDay(ms) : new Date(ms).toISOString());
    const rows = await this.db.$queryRawUnsafe<SummedAclUsage[]>(
      `SELECT vm_id::text, width_bucket(${at}, $3::${type}[]) - 1 AS part, acl, sum(in_bytes)::text AS in_b,
         sum(out_bytes)::text AS out_b
       FROM ${aclTable}
       WHERE ${at} >= $1::${type} AND ${at} < $2::${type} ${conditions.join(' ')}
       GROUP BY vm_id, part, acl`,
      value(first.fromMs),
      value(last.toMs),
      parts.map((part) => value(part.fromMs)),
      ...parameters,
    );
    for (const a of rows) {
      const key = `${a.vm_id} ${a.part}`;
      bytes.set(key, { ...bytes.get(key), [a.acl]: { inBytes: a.in_b, outBytes: a.out_b } });
    }
    return bytes;
  }

  listTenants(ids?: readonly string[]) {
    return this.db.tenant.findMany({
      where: ids ? { id: { in: [...ids] } } : {},
      select: { id: true, name: true, createdAt: true },
      orderBy: { name: 'asc' },
    });
  }
  async invoicedTenantIds(period: { from: string; to: string }): Promise<ReadonlySet<string>> {
    const rows = await this.db.$queryRaw<{ tenant_id: string }[]>`
      SELECT DISTINCT tenant_id::text AS tenant_id FROM invoices
      WHERE month < ${new Date(period.to)}::timestamptz AND month + interval '1 month' > ${new Date(period.from)}::timestamptz`;
    return new Set(rows.map((r) => r.tenant_id));
  }

  async listPlans(tenantIds?: readonly string[]): Promise<Map<string, TenantPlan>> {
    const rows = await this.db.tenantPlan.findMany({ where: tenantIds ? { tenantId: { in: [...tenantIds] } } : {} });
    return new Map(rows.map((row) => [row.tenantId, tenantPlanSchema.parse(row.plan)]));
  }
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const HOUR_MS = 3_600_000;

/**
 * Contiguous `parts` cut near their middle (on a whole `unit`) into two
 * contiguous lists of pieces (a part across the cut becomes two pieces, each
 * summed on its own: rating adds them exactly). One list when too short to cut.
 */
function halves(parts: PeriodMs[], unit: number): PeriodMs[][] {
  const first = parts[0];
  const last = parts.at(-1);
  if (first === undefined || last === undefined) return [];
  const middle = (first.fromMs + last.toMs) / 2;
  // At the part boundary nearest the middle when there is one (no part is cut), else at the middle.
  const boundaries = parts.slice(1).map((p) => p.fromMs);
  const nearest = boundaries.sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle))[0];
  const cut = nearest ?? Math.round(middle / unit) * unit;
  if (cut <= first.fromMs || cut >= last.toMs) return [parts];
  const before = parts.filter((p) => p.fromMs < cut).map((p) => ({ fromMs: p.fromMs, toMs: Math.min(p.toMs, cut) }));
  const after = parts.filter((p) => p.toMs > cut).map((p) => ({ fromMs: Math.max(p.fromMs, cut), toMs: p.toMs }));
  return [before, after];
}

/** Where usage is summed from: the daily rollups (vCPU-seconds stored) or the hourly ones (multiplied here, per hour). */
interface UsageSource {
  table: string;
  /** The per-ACL twin of `table` (same keys, plus `acl`). */
  aclTable: string;
  at: string;
  type: 'date' | 'timestamptz';
  vcpuSeconds: string;
}
const DAILY: UsageSource = {
  table: 'vm_usage_daily',
  aclTable: 'vm_acl_usage_daily',
  at: 'day',
  type: 'date',
  vcpuSeconds: 'vcpu_seconds',
};
const HOURLY: UsageSource = {
  table: 'vm_usage_hourly',
  aclTable: 'vm_acl_usage_hourly',
  at: 'hour',
  type: 'timestamptz',
  // Capped as the daily rollup caps it: a VM runs at most the hour.
  vcpuSeconds: 'vcpus::bigint * least(running_seconds, 3600)',
};

interface SummedUsage {
  tenant_id: string;
  vm_id: string;
  part: number;
  vm_name: string;
  vcpu: string;
  mem: string;
  disk: string;
  in_i: string;
  out_i: string;
  in_d: string;
  out_d: string;
}

interface SummedAclUsage {
  vm_id: string;
  part: number;
  acl: string;
  in_b: string;
  out_b: string;
}

/** `aclBytes` only when some class was metered: usage without ACLs stays exactly as it was. */
function withAclBytes<T>(bytes: Record<string, T> | undefined): { aclBytes?: Record<string, T> } {
  return bytes === undefined ? {} : { aclBytes: bytes };
}
