import type { z } from 'zod';

const DAY_MS = 86_400_000;

/**
 * Longest period one bill, report or bill export may cover: a little over a
 * year, as a cost series or a measurement. A report sums every tenant's
 * rollups over the period in Postgres (a month is about a million rows at
 * bench scale), so an unbounded one could keep a core busy for minutes.
 */
export const BILLING_MAX_DAYS = 400;

/** Adds the issue (on `period`) when [from, to) is longer than BILLING_MAX_DAYS. */
export function checkBillingSpan(period: { from: string; to: string }, ctx: z.RefinementCtx, what: string): void {
  const spanMs = Date.parse(period.to) - Date.parse(period.from);
  if (!(spanMs > BILLING_MAX_DAYS * DAY_MS)) return;
  const days = Math.ceil(spanMs / DAY_MS);
  ctx.addIssue({
    code: 'custom',
    path: ['period'],
    message: `${what} covers at most ${BILLING_MAX_DAYS} days; this period has ${days.toLocaleString('en-US')}. Choose a shorter period.`,
  });
}
