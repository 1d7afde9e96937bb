import type { TenantScope } from '../shared/tenant-scope';
import { ChargebackError } from './chargeback.errors';
import type { ChargebackRepository } from './chargeback-repository';
import { costSeries } from './cost-series';
import type { CostSeries, CostSeriesInput } from './cost-series.schema';
import { LIST_PLAN } from './tenant-plan';

/**
 * Cost over time for one tenant: a tenant admin always gets its own tenant
 * (whatever it names); finance and provider admins name one. Loads what a
 * bill loads, once for the whole period, and rates it per bucket.
 */
export async function loadCostSeries(
  repo: ChargebackRepository,
  scope: TenantScope,
  input: CostSeriesInput,
): Promise<CostSeries> {
  const target = scope.kind === 'tenant' ? scope.tenantId : input.tenantId;
  if (!target || !(await repo.tenantExists(target))) {
    throw new ChargebackError('BILL_TENANT_NOT_FOUND', 'Tenant not found');
  }
  const { period, bucket } = input;
  const [cards, plan, usage] = await Promise.all([
    repo.listRateCards(),
    repo.findPlan(target),
    repo.hourlyUsage(target, new Date(period.from), new Date(period.to)),
  ]);
  return costSeries(target, usage, cards, plan ?? LIST_PLAN, period, bucket);
}
