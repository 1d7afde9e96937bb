import { z } from 'zod';
import { DATE_RANGE, text } from '../shared/text.schema';
import { invoiceSchema } from './chargeback.schema';

/** A calendar month in UTC, "2026-11". Months are what finance closes. */
export const monthSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'A month is written YYYY-MM, e.g. 2026-11')
  .refine(
    (m) => m >= `${DATE_RANGE.minYear}-01` && m <= `${DATE_RANGE.maxYear}-12`,
    `A month lies between ${DATE_RANGE.minYear}-01 and ${DATE_RANGE.maxYear}-12`,
  );

export const closePeriodInput = z.object({ month: monthSchema });
export const reviewPeriodInput = z.object({ month: monthSchema });
export const reratePeriodInput = z.object({
  month: monthSchema,
  /** One tenant's invoice, or every tenant whose bill changed. */
  tenantId: z.string().uuid().optional(),
  /** Why, shown on the new version (e.g. "late samples from hv-07"). */
  reason: text('Reason', { min: 3, max: 200 }),
});
export const listInvoicesInput = z.object({ month: monthSchema.optional(), tenantId: z.string().uuid().optional() });
export const invoiceByIdInput = z.object({ id: z.string().uuid() });

export const periodSchema = z.object({
  month: z.string(),
  /** `closing`: its invoices are being written (a durable job; a restart resumes it). */
  status: z.enum(['open', 'closing', 'closed']),
  /** An open month that has ended and may be closed. */
  closable: z.boolean(),
  closedAt: z.string().nullable(),
  closedBy: z.string().nullable(),
  invoiceCount: z.number().int(),
  /** Σ of the latest versions' totals; null while open. */
  total: z.string().nullable(),
  currency: z.string().nullable(),
  /** The close's task (Tasks panel) while closing, and after it for closes run as tasks. */
  taskId: z.string().nullable(),
});

export const invoiceSummarySchema = z.object({
  id: z.string(),
  number: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  month: z.string(),
  version: z.number().int(),
  /** Versions of this invoice there are; the summary is of the latest unless asked for one. */
  latestVersion: z.number().int(),
  currency: z.string(),
  subtotal: z.string(),
  discount: z.string(),
  total: z.string(),
  adjustment: z.string(),
  lineCount: z.number().int(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});

export const lineChangeSchema = z.object({
  vmId: z.string(),
  vmName: z.string(),
  resource: z.string(),
  cardEffectiveFrom: z.string(),
  quantityBefore: z.string().nullable(),
  quantityAfter: z.string().nullable(),
  amountBefore: z.string(),
  amountAfter: z.string(),
  delta: z.string(),
});

export const storedInvoiceSchema = invoiceSummarySchema.extend({
  invoice: invoiceSchema,
  changes: z.array(lineChangeSchema),
  versions: z.array(invoiceSummarySchema),
});

export const periodReviewSchema = z.object({
  month: z.string(),
  currency: z.string(),
  /** Tenants whose bill today differs from their latest frozen version. */
  changed: z.array(
    z.object({
      tenantId: z.string(),
      tenantName: z.string(),
      invoiceId: z.string().nullable(),
      version: z.number().int().nullable(),
      frozenTotal: z.string(),
      currentTotal: z.string(),
      difference: z.string(),
    }),
  ),
  unchanged: z.number().int(),
});

export type Period = z.infer<typeof periodSchema>;
export type InvoiceSummary = z.infer<typeof invoiceSummarySchema>;
export type LineChange = z.infer<typeof lineChangeSchema>;
export type StoredInvoice = z.infer<typeof storedInvoiceSchema>;
export type PeriodReview = z.infer<typeof periodReviewSchema>;
