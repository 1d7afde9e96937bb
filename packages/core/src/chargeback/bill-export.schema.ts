import { z } from 'zod';
import { oneOf } from '../shared/text.schema';
import { checkBillingSpan } from './period-limit';

/** The longest period a bill export covers (the console says so before it asks). */
export { BILLING_MAX_DAYS } from './period-limit';

import { ratingPeriodSchema } from './usage.schema';

export const BILL_EXPORT_FORMATS = ['csv', 'json', 'pdf'] as const;
export type BillExportFormat = (typeof BILL_EXPORT_FORMATS)[number];

/**
 * GET /api/exports/bill.{csv,json,pdf}?tenantId=…|all=1&from&to, as strings
 * from the query. A tenant admin's own tenant is implied (whatever it names);
 * finance and provider admins name one tenant or ask for all.
 */
export const billExportInput = z
  .object({
    format: oneOf('Format', BILL_EXPORT_FORMATS),
    tenantId: z.string().uuid('tenantId must be a tenant id (UUID)').optional(),
    all: z
      .enum(['1', 'true', '0', 'false'], { message: 'all must be 1 or 0' })
      .optional()
      .transform((value) => value === '1' || value === 'true'),
    period: ratingPeriodSchema,
  })
  .refine((input) => !(input.all && input.tenantId), {
    message: 'Name one tenant (tenantId) or ask for all tenants (all=1), not both',
    path: ['all'],
  })
  .superRefine((input, ctx) => checkBillingSpan(input.period, ctx, 'An export'));
export type BillExportInput = z.infer<typeof billExportInput>;
