import type { AuditRepository } from '../audit/audit-repository';
import type { AddressClassRepository } from '../metering/address-class-repository';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { ChargebackError } from './chargeback.errors';
import type { ReportRow } from './chargeback.schema';
import { billedFor, type ChargebackRepository, existedDuring, type TenantUsageRow } from './chargeback-repository';
import type { CostSeries, CostSeriesInput } from './cost-series.schema';
import { loadCostSeries } from './cost-series-service';
import { type Invoice, rateUsage, rateUsageTotals } from './rate';
import { pricedAclClasses, pricedPeriod, type RateCard } from './rate-card';
import { LIST_PLAN, type TenantPlan } from './tenant-plan';
import type { RatingPeriod } from './usage.schema';

export class ChargebackService {
  constructor(
    private readonly deps: {
      chargeback: ChargebackRepository;
      audit: AuditRepository;
      clock: Clock;
      /** Metered address classes a card may price (absent: a card may price none). */
      addressClasses?: Pick<AddressClassRepository, 'list'>;
    },
  ) {}

  rateCards() {
    return this.deps.chargeback.listRateCards();
  }

  /**
   * Adds a price list from a future day (today at the earliest, 00:00 UTC):
   * a card never reaches back into hours already billed, so a past bill
   * computed again is the same to the cent.
   */
  async addRateCard(actor: Actor, card: RateCard): Promise<RateCard[]> {
    const today = this.deps.clock.now().toISOString().slice(0, 10);
    if (card.effectiveFrom < today) {
      throw new ChargebackError(
        'RATE_CARD_IN_PAST',
        `A rate card starts today (${today}) or later, not ${card.effectiveFrom}`,
      );
    }
    const existing = await this.deps.chargeback.listRateCards();
    if (existing.length && existing.some((c) => c.currency !== card.currency)) {
      throw new ChargebackError('CURRENCY_MISMATCH', `Rate cards are in ${existing[0]?.currency ?? ''}`);
    }
    const priced = pricedAclClasses(card.prices);
    if (priced.length) {
      const defined = new Set((await this.deps.addressClasses?.list())?.map((c) => c.name));
      const unknown = priced.filter((name) => !defined.has(name));
      if (unknown.length) {
        throw new ChargebackError(
          'UNKNOWN_ADDRESS_CLASS',
          `The card prices address classes that are not defined: ${unknown.join(', ')}. Define them first (metered address classes)`,
        );
      }
    }
    await this.deps.chargeback.addRateCard(card, actor.label);
    await this.deps.audit.append({
      actor,
      action: 'chargeback.rate-card.add',
      targetType: 'rate-card',
      targetLabel: `${card.currency} from ${card.effectiveFrom}`,
      result: 'success',
      details: { ...card },
    });
    return this.deps.chargeback.listRateCards();
  }

  async setPlan(actor: Actor, tenantId: string, plan: TenantPlan) {
    if (!(await this.deps.chargeback.tenantExists(tenantId))) {
      throw new ChargebackError('BILL_TENANT_NOT_FOUND', 'Tenant not found');
    }
    await this.deps.chargeback.setPlan(tenantId, plan);
    await this.deps.audit.append({
      actor,
      action: 'chargeback.plan.set',
      targetType: 'tenant',
      targetId: tenantId,
      tenantId,
      result: 'success',
      details: { ...plan },
    });
  }

  /** A tenant's plan (list prices when none was set); a tenant admin reads its own, whatever it names. */
  async getPlan(scope: TenantScope, tenantId: string | undefined): Promise<TenantPlan> {
    const target = scope.kind === 'tenant' ? scope.tenantId : tenantId;
    if (!target || !(await this.deps.chargeback.tenantExists(target))) {
      throw new ChargebackError('BILL_TENANT_NOT_FOUND', 'Tenant not found');
    }
    return (await this.deps.chargeback.findPlan(target)) ?? LIST_PLAN;
  }

  /**
   * The tenant's bill for a period, from the hourly rollups: lines per VM and
   * resource, each rounded once; totals that are exact sums of the lines.
   * A tenant gets its own; finance and provider admins name the tenant.
   */
  async bill(scope: TenantScope, tenantId: string | undefined, period: RatingPeriod): Promise<Invoice> {
    this.refuseUnstarted(period);
    const target = scope.kind === 'tenant' ? scope.tenantId : tenantId;
    const tenant = target ? await this.deps.chargeback.findTenant(target) : null;
    if (!target || !tenant) throw new ChargebackError('BILL_TENANT_NOT_FOUND', 'Tenant not found');
    await this.refuseBeforeTenant(tenant, period);
    const [cards, plan] = await Promise.all([
      this.deps.chargeback.listRateCards(),
      this.deps.chargeback.findPlan(target),
    ]);
    // Summed per VM and card in Postgres (days, plus hours at the edges): the same invoice as rating the hours.
    const { segments } = pricedPeriod(cards, Date.parse(period.from), Date.parse(period.to));
    const usage = segments.length ? await this.deps.chargeback.usageBySpan(segments, target) : [];
    return rateUsage(usage, cards, plan ?? LIST_PLAN, period);
  }

  /** Cost over time, each bucket rated as its own period (see cost-series.ts). */
  costSeries(scope: TenantScope, input: CostSeriesInput): Promise<CostSeries> {
    return loadCostSeries(this.deps.chargeback, scope, input);
  }

  /**
   * Every tenant's bill for a period (tenants without usage get a zero
   * invoice), the same to the cent as `bill` for each: usage is summed per
   * tenant, VM and card segment in Postgres (exact numeric sums), then rated
   * here tenant by tenant. No per-tenant round trips.
   */
  async billAll(period: RatingPeriod): Promise<Array<{ tenantId: string; tenantName: string; invoice: Invoice }>> {
    const { tenants, cards, plans, usage } = await this.usageOfAll(period, true);
    return tenants.map((tenant) => ({
      tenantId: tenant.id,
      tenantName: tenant.name,
      invoice: rateUsage(usage.get(tenant.id) ?? [], cards, plans.get(tenant.id) ?? LIST_PLAN, period),
    }));
  }

  /** `billAll` for some tenants only: their usage alone, rated the same way (a month close's chunk). */
  async billTenants(
    period: RatingPeriod,
    tenantIds: readonly string[],
  ): Promise<Array<{ tenantId: string; tenantName: string; invoice: Invoice }>> {
    if (tenantIds.length === 0) return [];
    const wanted = new Set(tenantIds);
    const { tenants, cards, plans, usage } = await this.usageOfAll(period, true, tenantIds);
    return tenants
      .filter((tenant) => wanted.has(tenant.id))
      .map((tenant) => ({
        tenantId: tenant.id,
        tenantName: tenant.name,
        invoice: rateUsage(usage.get(tenant.id) ?? [], cards, plans.get(tenant.id) ?? LIST_PLAN, period),
      }));
  }

  /** The id of every tenant that existed during the period, by name (a tenant created later gets no bill for it). */
  async tenantIds(period: RatingPeriod): Promise<string[]> {
    const [tenants, invoiced] = await Promise.all([
      this.deps.chargeback.listTenants(),
      this.deps.chargeback.invoicedTenantIds(period),
    ]);
    return tenants.filter((t) => billedFor(t, period, invoiced)).map((t) => t.id);
  }

  /**
   * Finance's report: every tenant's totals for a period, each equal to its
   * bill's (see `billAll`); with `tenantId`, that tenant's row alone, from its
   * own usage only (the bill's query, without building and sending the lines).
   */
  async report(period: RatingPeriod, tenantId?: string): Promise<ReportRow[]> {
    this.refuseUnstarted(period);
    const { tenants, cards, plans, usage } =
      tenantId === undefined ? await this.usageOfAll(period, false) : await this.usageOfOne(period, tenantId);
    return tenants.map((tenant) => {
      // The totals without the lines: the same amounts by the same code as the bill's.
      const totals = rateUsageTotals(usage.get(tenant.id) ?? [], cards, plans.get(tenant.id) ?? LIST_PLAN, period);
      return { tenantId: tenant.id, tenantName: tenant.name, ...totals, unpricedBefore: totals.unpricedBefore ?? null };
    });
  }

  /**
   * A bill or report is of time that has begun (issue 9, class 5: a bill came out for a month in the future).
   * A period under way is showback so far ("this month so far" ends with the current hour); invoices are
   * issued only for months that are over (close-month.ts, PERIOD_NOT_OVER).
   */
  private refuseUnstarted(period: RatingPeriod): void {
    const now = this.deps.clock.now();
    if (Date.parse(period.from) > now.getTime()) {
      throw new ChargebackError(
        'PERIOD_NOT_STARTED',
        `The period starts ${period.from}, after now (${now.toISOString()}): there is no usage to bill yet`,
      );
    }
  }

  /** PERIOD_BEFORE_TENANT for a period that ended before the tenant was created, unless it holds an invoice of it. */
  private async refuseBeforeTenant(tenant: { id: string; name: string; createdAt: Date }, period: RatingPeriod) {
    if (existedDuring(tenant, period)) return;
    if ((await this.deps.chargeback.invoicedTenantIds(period)).has(tenant.id)) return;
    throw periodBeforeTenant(tenant);
  }

  /** `usageOfAll`'s shape for one tenant: its usage, plan and name. */
  private async usageOfOne(period: RatingPeriod, tenantId: string) {
    const [tenant, cards, plan] = await Promise.all([
      this.deps.chargeback.findTenant(tenantId),
      this.deps.chargeback.listRateCards(),
      this.deps.chargeback.findPlan(tenantId),
    ]);
    if (!tenant) throw new ChargebackError('BILL_TENANT_NOT_FOUND', 'Tenant not found');
    await this.refuseBeforeTenant(tenant, period);
    const { segments } = pricedPeriod(cards, Date.parse(period.from), Date.parse(period.to));
    // Totals only: no VM names (they label lines).
    const rows = segments.length ? await this.deps.chargeback.usageBySpan(segments, tenantId, { names: false }) : [];
    const plans = new Map<string, TenantPlan>(plan ? [[tenantId, plan]] : []);
    return { tenants: [tenant], cards, plans, usage: new Map([[tenantId, rows]]) };
  }

  /** `names`: whether the usage rows carry VM names (lines need them, totals do not). */
  private async usageOfAll(period: RatingPeriod, names: boolean, tenantIds?: readonly string[]) {
    const [everyTenant, cards, plans, invoiced] = await Promise.all([
      // A chunk of a month close reads only its own tenants and plans.
      this.deps.chargeback.listTenants(tenantIds),
      this.deps.chargeback.listRateCards(),
      this.deps.chargeback.listPlans(tenantIds),
      this.deps.chargeback.invoicedTenantIds(period),
    ]);
    // A tenant created after the period ended is not billed for it (not even a zero invoice),
    // unless an invoice of it for the period exists (billedFor: older databases hold such).
    const tenants = everyTenant.filter((t) => billedFor(t, period, invoiced));
    const { segments } = pricedPeriod(cards, Date.parse(period.from), Date.parse(period.to));
    const rows = segments.length ? await this.deps.chargeback.usageBySpan(segments, tenantIds, { names }) : [];
    const usage = new Map<string, TenantUsageRow[]>();
    for (const row of rows) {
      const own = usage.get(row.tenantId);
      if (own === undefined) usage.set(row.tenantId, [row]);
      else own.push(row);
    }
    return { tenants, cards, plans, usage };
  }
}

function periodBeforeTenant(tenant: { name: string; createdAt: Date }): ChargebackError {
  return new ChargebackError(
    'PERIOD_BEFORE_TENANT',
    `${tenant.name} was created on ${tenant.createdAt.toISOString().slice(0, 10)}: it has no bill for a period that ended before`,
  );
}
