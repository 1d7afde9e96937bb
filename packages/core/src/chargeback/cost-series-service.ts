import type { TenantScope } from '../shared/tenant-scope';
import { ChargebackError } from './chargeback.errors';
import type { ChargebackRepository } from './chargeback-repository';
import { costBuckets, costSeries } from './cost-series';
import type { CostSeries, CostSeriesInput } from './cost-series.schema';
import { pricedPeriod } from './rate-card';
import { LIST_PLAN } from './tenant-plan';

/**
 * Cost over time for one tenant: a tenant admin always gets its own tenant
 * (whatever it names); finance and provider admins name one. Loads what a
 * bill loads, summed per bucket, and rates each bucket.
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
  const [cards, plan] = await Promise.all([repo.listRateCards(), repo.findPlan(target)]);
  // Summed in Postgres per VM, bucket and card (whole days from the daily rollups, hours only at
  // the edges), as a bill is: a year of days is one row per VM and day instead of 24, and the
  // rating below (synchronous, on the event loop) has that much less to do.
  const spans = cards.length
    ? costBuckets(Date.parse(period.from), Date.parse(period.to), bucket).flatMap(
        (range) => pricedPeriod(cards, range.fromMs, range.toMs).segments,
      )
    : [];
  const usage = spans.length ? await repo.usageBySpan(spans, target) : [];
  return costSeries(target, usage, cards, plan ?? LIST_PLAN, period, bucket);
}
