import {
  addRateCardInput,
  billInput,
  invoiceSchema,
  reportInput,
  reportRowSchema,
  setPlanInput,
} from '@fabric/core/chargeback/chargeback.schema';
import { costSeriesInput, costSeriesSchema } from '@fabric/core/chargeback/cost-series.schema';
import { rateCardSchema } from '@fabric/core/chargeback/rate-card.schema';
import { tenantPlanSchema } from '@fabric/core/chargeback/tenant-plan.schema';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { procedureFor } from '../../trpc/procedures';
import { invoiceProcedures } from './invoices';

const pricing = procedureFor('provider-admin', 'finance');

export const chargebackRouter = t.router({
  ...invoiceProcedures,
  rateCards: pricing.output(z.array(rateCardSchema)).query(({ ctx }) => ctx.services.chargeback.rateCards()),
  /** A new price list from today or later: past bills never change. */
  addRateCard: pricing
    .input(addRateCardInput)
    .output(z.array(rateCardSchema))
    .mutation(({ ctx, input }) => ctx.services.chargeback.addRateCard(actorOf(ctx.caller), input)),
  setPlan: pricing
    .input(setPlanInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.chargeback.setPlan(actorOf(ctx.caller), input.tenantId, input.plan);
      return { ok: true as const };
    }),
  /** A tenant's plan (list prices when none was set); a tenant admin reads its own. */
  getPlan: procedureFor('provider-admin', 'finance', 'tenant-admin')
    .input(z.object({ tenantId: z.string().uuid().optional() }))
    .output(tenantPlanSchema)
    .query(({ ctx, input }) => ctx.services.chargeback.getPlan(scopeOf(ctx.caller), input.tenantId)),
  /** Showback: a tenant admin's own bill; finance and provider admins any tenant's. */
  bill: procedureFor('provider-admin', 'finance', 'tenant-admin')
    .input(billInput)
    .output(invoiceSchema)
    .query(({ ctx, input }) => ctx.services.chargeback.bill(scopeOf(ctx.caller), input.tenantId, input.period)),
  /** Finance's report: every tenant's totals for a period (or one named tenant's), each equal to its bill to the cent. */
  report: pricing
    .input(reportInput)
    .output(z.array(reportRowSchema))
    .query(({ ctx, input }) => ctx.services.chargeback.report(input.period, input.tenantId)),
  /** Cost over time (charts): each day or month rated as its own bill; same roles and tenant rule as the bill. */
  costSeries: procedureFor('provider-admin', 'finance', 'tenant-admin')
    .input(costSeriesInput)
    .output(costSeriesSchema)
    .query(({ ctx, input }) => ctx.services.chargeback.costSeries(scopeOf(ctx.caller), input)),
});
