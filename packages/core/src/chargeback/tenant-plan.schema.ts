import { z } from 'zod';
import { RESOURCES } from './rate-card';
import { priceSchema } from './rate-card.schema';

/** 0 to 100 inclusive, at most 4 decimals ("12.5" is 12.5 %). */
export const percentSchema = z
  .string()
  .regex(/^(100(\.0{1,4})?|\d{1,2}(\.\d{1,4})?)$/, 'A percentage is a decimal from 0 to 100 (at most 4 decimals)');

export const tenantPlanSchema = z.discriminatedUnion(
  'kind',
  [
    /** The provider's card as is. */
    z.object({ kind: z.literal('list') }),
    /** A percentage off the subtotal, rounded once on the invoice. */
    z.object({ kind: z.literal('discount'), percent: percentSchema }),
    /** Per-resource prices that replace the card's; resources not listed use the card. */
    z.object({
      kind: z.literal('override'),
      prices: z.partialRecord(
        z.enum(RESOURCES, { error: `An override prices the resources ${RESOURCES.join(', ')}` }),
        priceSchema,
      ),
    }),
  ],
  {
    error: 'A plan is { kind: "list" }, { kind: "discount", percent } or { kind: "override", prices } (per resource)',
  },
);
