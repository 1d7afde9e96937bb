import type { z } from 'zod';
import type { RatePrices, Resource } from './rate-card';
import { priceOf } from './rate-card';
import type { tenantPlanSchema } from './tenant-plan.schema';

export type TenantPlan = z.infer<typeof tenantPlanSchema>;

export const LIST_PLAN: TenantPlan = { kind: 'list' };

/** The price a tenant pays per unit of `resource` while `prices` is the card in effect. */
export function planPrice(plan: TenantPlan, prices: RatePrices, resource: Resource): string {
  if (plan.kind === 'override') return plan.prices[resource] ?? priceOf(prices, resource);
  return priceOf(prices, resource);
}
