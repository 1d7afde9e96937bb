import {
  closePeriodInput,
  invoiceByIdInput,
  invoiceSummarySchema,
  listInvoicesInput,
  periodReviewSchema,
  periodSchema,
  reratePeriodInput,
  reviewPeriodInput,
  storedInvoiceSchema,
} from '@fabric/core/chargeback/invoice.schema';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { procedureFor } from '../../trpc/procedures';

/** Closing months and re-rating them is finance's work (and the provider's admins'). */
const billing = procedureFor('provider-admin', 'finance');
/** Invoices are read by finance, provider admins, and a tenant admin for its own tenant. */
const invoiceReader = procedureFor('provider-admin', 'finance', 'tenant-admin');

export const invoiceProcedures = {
  /** Months from the first rate card to now: open (live bill) or closed (frozen invoices). */
  periods: billing.output(z.array(periodSchema)).query(({ ctx }) => ctx.services.invoices.periods()),
  /**
   * Freezes every tenant's invoice for a month that is over: a task (Tasks
   * panel); answers when it is done, or 'closing' with its task id when it
   * takes longer than FABRIC_CLOSE_WAIT_MS.
   */
  closePeriod: billing
    .input(closePeriodInput)
    .output(periodSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.closeMonth.request(actorOf(ctx.caller), input.month, () => ctx.services.invoices.periods()),
    ),
  /** For a closed month: whose bill today differs from its frozen invoice, and by how much. */
  reviewPeriod: billing
    .input(reviewPeriodInput)
    .output(periodReviewSchema)
    .query(({ ctx, input }) => ctx.services.invoices.review(input.month)),
  /** Writes a new version for each changed invoice (or the one tenant named); older versions stay. */
  rerate: billing
    .input(reratePeriodInput)
    .output(z.array(invoiceSummarySchema))
    .mutation(({ ctx, input }) =>
      ctx.services.invoices.rerate(actorOf(ctx.caller), input.month, input.reason, input.tenantId),
    ),
  /** Latest version of each invoice; a tenant admin gets only its own. */
  invoices: invoiceReader
    .input(listInvoicesInput)
    .output(z.array(invoiceSummarySchema))
    .query(({ ctx, input }) => ctx.services.invoices.list(scopeOf(ctx.caller), input)),
  /** One version: lines, totals, what changed since the previous version, all versions. */
  invoice: invoiceReader
    .input(invoiceByIdInput)
    .output(storedInvoiceSchema)
    .query(({ ctx, input }) => ctx.services.invoices.get(scopeOf(ctx.caller), input.id)),
};
