import type { PeriodMs, RateCard } from './rate-card';
import type { TenantPlan } from './tenant-plan';
import type { HourlyUsage, UsageRow } from './usage.schema';

/** A usage row and the tenant it belongs to. */
export interface TenantUsageRow extends UsageRow {
  tenantId: string;
}

/** A tenant as billing sees it: who, and since when it exists (no bill for a period that ended before). */
export interface BilledTenant {
  id: string;
  name: string;
  createdAt: Date;
}

/** True when the tenant existed at some time in the period: a period that ended before it was created is none of its business. */
export function existedDuring(tenant: { createdAt: Date }, period: { to: string }): boolean {
  return tenant.createdAt.getTime() < Date.parse(period.to);
}

/**
 * Whether billing shows the tenant for the period: it existed then, or it
 * holds an invoice for a month of it. Databases from before creation dates
 * were kept (demo tenants re-dated, tenants re-created) hold November
 * invoices of tenants "created" in December: an invoice that exists is
 * always shown, reviewed and re-rated, whatever the creation date says.
 */
export function billedFor(
  tenant: { id: string; createdAt: Date },
  period: { to: string },
  invoiced: ReadonlySet<string>,
): boolean {
  return existedDuring(tenant, period) || invoiced.has(tenant.id);
}

export interface ChargebackRepository {
  listRateCards(): Promise<RateCard[]>;
  /** Fails with DUPLICATE_EFFECTIVE_DATE when a card already starts that day. */
  addRateCard(card: RateCard, createdBy: string): Promise<void>;
  findPlan(tenantId: string): Promise<TenantPlan | null>;
  setPlan(tenantId: string, plan: TenantPlan): Promise<void>;
  tenantExists(tenantId: string): Promise<boolean>;
  /** The tenant's id, name and creation time, or null when there is none. */
  findTenant(tenantId: string): Promise<BilledTenant | null>;
  /** The tenant's hourly rollups in [from, to), one row per VM and hour. */
  hourlyUsage(tenantId: string, from: Date, to: Date): Promise<HourlyUsage[]>;
  /**
   * Usage summed per tenant, VM and span, one row each (from/to = the span):
   * whole UTC days from the daily rollups, partial days at a span's ends from
   * the hourly ones, exact numeric sums. Spans are a period's card segments
   * (a day never straddles two). Every tenant's when `tenant` is omitted;
   * one tenant's, or a list's.
   * With `names: false` every vmName is '' (totals need no names, and looking
   * up each VM's latest name is a lookup per VM and span).
   */
  usageBySpan(
    spans: readonly PeriodMs[],
    tenant?: string | readonly string[],
    options?: { names?: boolean },
  ): Promise<TenantUsageRow[]>;
  /** Every tenant, by name. */
  listTenants(ids?: readonly string[]): Promise<BilledTenant[]>;
  /** The tenants holding an invoice (any version) for a month that overlaps the period. */
  invoicedTenantIds(period: { from: string; to: string }): Promise<ReadonlySet<string>>;
  /** Every tenant's plan that is not the list price, by tenant id. */
  listPlans(tenantIds?: readonly string[]): Promise<Map<string, TenantPlan>>;
}
