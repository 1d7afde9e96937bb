import { z } from 'zod';
import { oneOf } from '../shared/text.schema';
import { ratingPeriodSchema } from './usage.schema';

const DAY_MS = 86_400_000;

/** Most buckets one cost series may have: a little over a year of days, ten years of months. */
export const COST_SERIES_LIMITS = { day: 400, month: 120 } as const;

export const costBucketSchema = oneOf('Bucket', ['day', 'month']);
export type CostBucket = z.infer<typeof costBucketSchema>;

/** UTC days or calendar months that [fromMs, toMs) touches. */
export function costBucketCount(fromMs: number, toMs: number, bucket: CostBucket): number {
  if (bucket === 'day') return Math.ceil(toMs / DAY_MS) - Math.floor(fromMs / DAY_MS);
  const from = new Date(fromMs);
  const last = new Date(toMs - 1);
  return (last.getUTCFullYear() - from.getUTCFullYear()) * 12 + last.getUTCMonth() - from.getUTCMonth() + 1;
}

/** Cost over time: finance and provider admins name the tenant; a tenant admin always gets its own. */
export const costSeriesInput = z
  .object({ tenantId: z.string().uuid().optional(), period: ratingPeriodSchema, bucket: costBucketSchema })
  .superRefine((q, ctx) => {
    const limit = COST_SERIES_LIMITS[q.bucket];
    const count = costBucketCount(Date.parse(q.period.from), Date.parse(q.period.to), q.bucket);
    if (count > limit) {
      ctx.addIssue({
        code: 'custom',
        path: ['period'],
        message: `At most ${limit} ${q.bucket === 'day' ? 'daily' : 'monthly'} buckets per cost series; this period has ${count}. Choose a shorter period${q.bucket === 'day' ? ' or monthly buckets' : ''}.`,
      });
    }
  });
export type CostSeriesInput = z.infer<typeof costSeriesInput>;

const moneySchema = z.string();

export const costSeriesSchema = z.object({
  tenantId: z.string(),
  currency: z.string(),
  period: z.object({ from: z.string(), to: z.string() }),
  bucket: costBucketSchema,
  /** Resources that cost anything in the period, in invoice order: the stacks of a chart. */
  resources: z.array(z.string()),
  buckets: z.array(
    z.object({
      /** Bucket start and end (ISO), cut to the period at either end. */
      from: z.string(),
      to: z.string(),
      /** False when the whole bucket is before the first rate card: nothing is priced, amounts are zero. */
      priced: z.boolean(),
      /** Per resource, Σ of the bucket's rounded lines; Σ amounts = subtotal. */
      byResource: z.array(z.object({ resource: z.string(), amount: moneySchema })),
      subtotal: moneySchema,
      discount: moneySchema,
      /** subtotal − discount: the bucket rated as a bill of its own. */
      total: moneySchema,
    }),
  ),
  /** Σ bucket totals, exact. */
  bucketsTotal: moneySchema,
  /** The whole period's bill total (chargeback.bill); null only if the bill could not be rated. */
  periodTotal: moneySchema.nullable(),
  /** Set when the period starts before the first rate card: hours before this instant are not charged. */
  unpricedBefore: z.string().nullable(),
  /** Said wherever the series is shown: why bucketsTotal may differ from periodTotal. */
  roundingNote: z.string(),
});
export type CostSeries = z.infer<typeof costSeriesSchema>;
