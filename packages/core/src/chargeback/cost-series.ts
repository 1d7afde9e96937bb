import { ChargebackError } from './chargeback.errors';
import type { CostBucket, CostSeries } from './cost-series.schema';
import { Dec, formatMoney } from './money';
import { type Invoice, rateUsage } from './rate';
import type { RateCard } from './rate-card';
import type { TenantPlan } from './tenant-plan';
import type { HourlyUsage, RatingPeriod, UsageRow } from './usage.schema';

const DAY_MS = 86_400_000;

export const COST_ROUNDING_NOTE =
  'Each bucket is rated and rounded on its own, like a bill for that day or month, so the buckets may add up to a few cents more or less than the bill for the whole period.';

/** UTC days or calendar months covering [fromMs, toMs), the first and last cut to the period. */
export function costBuckets(fromMs: number, toMs: number, bucket: CostBucket): { fromMs: number; toMs: number }[] {
  const out: { fromMs: number; toMs: number }[] = [];
  let start =
    bucket === 'day'
      ? Math.floor(fromMs / DAY_MS) * DAY_MS
      : Date.UTC(new Date(fromMs).getUTCFullYear(), new Date(fromMs).getUTCMonth(), 1);
  while (start < toMs) {
    const d = new Date(start);
    const next = bucket === 'day' ? start + DAY_MS : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    out.push({ fromMs: Math.max(start, fromMs), toMs: Math.min(next, toMs) });
    start = next;
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The index of the range holding `ms` in sorted, contiguous ranges that cover it. */
function bucketIndexAt(ranges: readonly { fromMs: number; toMs: number }[], ms: number): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((ranges[mid]?.fromMs ?? Number.POSITIVE_INFINITY) <= ms) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function isNoRateCard(error: unknown): boolean {
  return error instanceof ChargebackError && error.code === 'NO_RATE_CARD';
}

/**
 * A tenant's cost over time: each bucket rated as its own period by the same
 * pure `rateUsage` as a bill (lines rounded once, discount rounded once), so
 * a bucket's total is what a bill for that day or month would say. Per
 * resource, the bucket's rounded line amounts are summed exactly, so
 * Σ byResource = subtotal and subtotal − discount = total. The whole
 * period is rated once more for its bill total; rounding per bucket may
 * differ from it by a few minor units (COST_ROUNDING_NOTE).
 */
export function costSeries(
  tenantId: string,
  usage: readonly (UsageRow | HourlyUsage)[],
  cards: readonly RateCard[],
  plan: TenantPlan,
  period: RatingPeriod,
  bucket: CostBucket,
): CostSeries {
  const fromMs = Date.parse(period.from);
  const toMs = Date.parse(period.to);
  const ranges = costBuckets(fromMs, toMs, bucket);

  // Each row to its bucket once, by its start (rows outside the period are dropped, as rateUsage
  // would; a row that spans two buckets is refused by rateUsage as USAGE_SPAN). Buckets are sorted
  // and contiguous: a binary search, not a scan per row (400 buckets × thousands of rows).
  const rowsOf = ranges.map(() => [] as (UsageRow | HourlyUsage)[]);
  for (const row of usage) {
    const startMs = Date.parse('hour' in row ? row.hour : row.from);
    if (startMs < fromMs || startMs >= toMs) continue;
    rowsOf[bucketIndexAt(ranges, startMs)]?.push(row);
  }

  const invoices: (Invoice | null)[] = ranges.map((range, i) => {
    try {
      return rateUsage(rowsOf[i] ?? [], cards, plan, { from: iso(range.fromMs), to: iso(range.toMs) });
    } catch (error) {
      // Before the first rate card: nothing to price yet. Any other failure is the bill's too.
      if (isNoRateCard(error)) return null;
      throw error;
    }
  });
  let whole: Invoice | null = null;
  try {
    whole = rateUsage(usage, cards, plan, period);
  } catch (error) {
    if (!isNoRateCard(error)) throw error;
  }
  const currency = whole?.currency ?? invoices.find((inv) => inv !== null)?.currency;
  if (currency === undefined) throw new ChargebackError('NO_RATE_CARD', 'No rate card is in effect in the period');
  // Hours before the first rate card are not charged (rateUsage says from when a period is priced).
  const pricedFromMs = (invoice: Invoice | null) =>
    invoice === null ? Number.POSITIVE_INFINITY : invoice.unpricedBefore ? Date.parse(invoice.unpricedBefore) : 0;

  const used = new Set<string>();
  let bucketsTotal = new Dec(0);
  const zero = formatMoney(new Dec(0), currency);
  const buckets = ranges.map((range, i) => {
    const invoice = invoices[i] ?? null;
    const byResource = new Map<string, Dec>();
    for (const line of invoice?.lines ?? []) {
      byResource.set(line.resource, (byResource.get(line.resource) ?? new Dec(0)).plus(line.amount));
    }
    for (const [resource, amount] of byResource) if (!amount.isZero()) used.add(resource);
    if (invoice) bucketsTotal = bucketsTotal.plus(invoice.total);
    return {
      from: iso(range.fromMs),
      to: iso(range.toMs),
      priced: pricedFromMs(invoice) < range.toMs,
      byResource: [...byResource].map(([resource, amount]) => ({ resource, amount: formatMoney(amount, currency) })),
      subtotal: invoice?.subtotal ?? zero,
      discount: invoice?.discount ?? zero,
      total: invoice?.total ?? zero,
    };
  });

  // Stacks in invoice order: the order lines first appear across the buckets.
  const resources: string[] = [];
  for (const b of buckets)
    for (const { resource } of b.byResource)
      if (used.has(resource) && !resources.includes(resource)) resources.push(resource);

  return {
    tenantId,
    currency,
    period: { from: period.from, to: period.to },
    bucket,
    resources,
    buckets,
    bucketsTotal: formatMoney(bucketsTotal, currency),
    periodTotal: whole?.total ?? null,
    unpricedBefore: whole?.unpricedBefore ?? null,
    roundingNote: COST_ROUNDING_NOTE,
  };
}
