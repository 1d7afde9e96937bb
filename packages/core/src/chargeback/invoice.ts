import type { LineChange } from './invoice.schema';
import { Dec, formatMoney } from './money';
import type { Invoice, InvoiceLine } from './rate';
import type { RatingPeriod } from './usage.schema';

/** The kind of the task that closes a month (Tasks panel, jobs.kind). */
export const CLOSE_MONTH_KIND = 'billing.close-month';

/** [first instant of the month, first instant of the next), UTC. */
export function monthPeriod(month: string): RatingPeriod {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return {
    from: new Date(Date.UTC(year, m - 1, 1)).toISOString(),
    to: new Date(Date.UTC(year, m, 1)).toISOString(),
  };
}

/** The month an instant falls in, "YYYY-MM". */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

export function addMonths(month: string, delta: number): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return monthOf(new Date(Date.UTC(year, m - 1 + delta, 1)));
}

/** A month may close once it is over: its last hour can no longer be metered live. */
export function monthIsOver(month: string, now: Date): boolean {
  return Date.parse(monthPeriod(month).to) <= now.getTime();
}

/** Stable per tenant and month; the version is shown beside it ("… v2"). */
export function invoiceNumber(month: string, tenantId: string): string {
  return `FAB-${month.replace('-', '')}-${tenantId.replace(/-/g, '').slice(0, 8).toUpperCase()}`;
}

const lineKey = (line: InvoiceLine) => `${line.vmId}\u0000${line.resource}\u0000${line.cardEffectiveFrom}`;

/**
 * What changed between two versions, line by line (a line is a VM, a
 * resource and the card it is priced under). Lines that are the same are
 * left out; a line only in one version has the other side's amount as zero.
 */
export function diffInvoices(before: Invoice, after: Invoice): LineChange[] {
  const zero = formatMoney(new Dec(0), after.currency);
  const old = new Map(before.lines.map((line) => [lineKey(line), line]));
  const next = new Map(after.lines.map((line) => [lineKey(line), line]));
  const keys = [...new Set([...old.keys(), ...next.keys()])].sort();
  const changes: LineChange[] = [];
  for (const key of keys) {
    const a = old.get(key);
    const b = next.get(key);
    const line = b ?? a;
    if (line === undefined) continue;
    if (a && b && a.quantity === b.quantity && a.amount === b.amount && a.rate === b.rate) continue;
    const amountBefore = a?.amount ?? zero;
    const amountAfter = b?.amount ?? zero;
    changes.push({
      vmId: line.vmId,
      vmName: line.vmName,
      resource: line.resource,
      cardEffectiveFrom: line.cardEffectiveFrom,
      quantityBefore: a?.quantity ?? null,
      quantityAfter: b?.quantity ?? null,
      amountBefore,
      amountAfter,
      delta: formatMoney(new Dec(amountAfter).minus(amountBefore), after.currency),
    });
  }
  return changes;
}

/** Two ratings are the same bill when every line and every total is the same. */
export function sameInvoice(a: Invoice, b: Invoice): boolean {
  return (
    a.currency === b.currency &&
    a.subtotal === b.subtotal &&
    a.discount === b.discount &&
    a.total === b.total &&
    a.lines.length === b.lines.length &&
    diffInvoices(a, b).length === 0
  );
}

/** Exact sum of money strings, formatted to the currency's minor unit. */
export function sumMoney(amounts: readonly string[], currency: string): string {
  return formatMoney(
    amounts.reduce((sum, amount) => sum.plus(amount), new Dec(0)),
    currency,
  );
}

export function subtractMoney(a: string, b: string, currency: string): string {
  return formatMoney(new Dec(a).minus(b), currency);
}
