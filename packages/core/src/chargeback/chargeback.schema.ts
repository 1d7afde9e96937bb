import { z } from 'zod';
import { checkBillingSpan } from './period-limit';
import { rateCardSchema } from './rate-card.schema';
import { tenantPlanSchema } from './tenant-plan.schema';
import { ratingPeriodSchema } from './usage.schema';

export const addRateCardInput = rateCardSchema;
export const setPlanInput = z.object({ tenantId: z.string().uuid(), plan: tenantPlanSchema });

/** A bill (showback): finance and provider admins name the tenant; a tenant admin gets its own. */
export const billInput = z
  .object({ tenantId: z.string().uuid().optional(), period: ratingPeriodSchema })
  .superRefine((input, ctx) => checkBillingSpan(input.period, ctx, 'A bill'));

export const invoiceSchema = z.object({
  currency: z.string(),
  period: z.object({ from: z.string(), to: z.string() }),
  lines: z.array(
    z.object({
      vmId: z.string(),
      vmName: z.string(),
      resource: z.string(),
      quantity: z.string(),
      unit: z.string(),
      rate: z.string(),
      amount: z.string(),
      cardEffectiveFrom: z.string(),
    }),
  ),
  subtotal: z.string(),
  discount: z.string(),
  total: z.string(),
  /**
   * When the period starts before the first rate card: the instant it is
   * priced from (earlier hours are not charged). Absent when all is priced.
   */
  unpricedBefore: z.string().nullish(),
});

/** Finance's report: every tenant's bill for a period, in totals; one tenant's row alone when `tenantId` is named. */
export const reportInput = z
  .object({ period: ratingPeriodSchema, tenantId: z.string().uuid().optional() })
  .superRefine((input, ctx) => checkBillingSpan(input.period, ctx, 'A report'));

export const reportRowSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  currency: z.string(),
  subtotal: z.string(),
  discount: z.string(),
  total: z.string(),
  /** VMs with at least one line. */
  vmCount: z.number().int(),
  lineCount: z.number().int(),
  unpricedBefore: z.string().nullable(),
});
export type ReportRow = z.infer<typeof reportRowSchema>;
