import type { RateCard } from './rate-card';
import type { TenantPlan } from './tenant-plan';
import type { HourlyUsage } from './usage.schema';

export interface ChargebackRepository {
  listRateCards(): Promise<RateCard[]>;
  /** Fails with DUPLICATE_EFFECTIVE_DATE when a card already starts that day. */
  addRateCard(card: RateCard, createdBy: string): Promise<void>;
  findPlan(tenantId: string): Promise<TenantPlan | null>;
  setPlan(tenantId: string, plan: TenantPlan): Promise<void>;
  tenantExists(tenantId: string): Promise<boolean>;
  /** The tenant's hourly rollups in [from, to), one row per VM and hour. */
  hourlyUsage(tenantId: string, from: Date, to: Date): Promise<HourlyUsage[]>;
}
