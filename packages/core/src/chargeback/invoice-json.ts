import type { BillDocument } from './bill-document';
import { Dec, formatMoney } from './money';

/**
 * The JSON export, version `fabric.bills/v1`. Every amount, quantity and rate
 * is a decimal string exactly as on the bill (never a float); absent optional
 * values are `null`, so the keys are always the same:
 *
 * ```
 * { "format": "fabric.bills/v1",
 *   "provider": "Fabric",
 *   "period": { "from": ISO, "to": ISO },            // half-open, UTC
 *   "bills": [ {
 *       "tenant": { "id", "name", "slug" },
 *       "status": "estimate" | "closed", "invoiceNumber": string|null,
 *       "version": number|null, "issuedAt": ISO|null,
 *       "currency": "USD", "period": { "from", "to" },
 *       "unpricedBefore": ISO|null,                   // usage before it had no rate card
 *       "lines": [ { "vmId", "vmName", "resource", "quantity", "unit",
 *                    "rate", "amount", "cardEffectiveFrom" } ],
 *       "subtotal", "discount", "total" } ],
 *   "summary": { "tenants": n, "currency": "USD"|null, "total": string|null } }
 * ```
 *
 * `summary.total` is the exact sum of the bills' totals when they share one
 * currency, else `null`. The file is written in parts (open, one part per
 * bill, close) so an all-tenant export streams; `billJson` joins them.
 */
export const BILL_JSON_FORMAT = 'fabric.bills/v1';

export function billJsonOpen(period: { from: string; to: string }): string {
  return `{"format":${JSON.stringify(BILL_JSON_FORMAT)},"provider":"Fabric","period":${JSON.stringify({ from: period.from, to: period.to })},"bills":[`;
}

/** One bill; `index` 0 for the first (the others are preceded by a comma). */
export function billJsonPart(doc: BillDocument, index: number): string {
  const { invoice } = doc;
  const bill = {
    tenant: { id: doc.tenant.id, name: doc.tenant.name, slug: doc.tenant.slug },
    status: doc.status,
    invoiceNumber: doc.invoiceNumber ?? null,
    version: doc.version ?? null,
    issuedAt: doc.issuedAt ?? null,
    currency: invoice.currency,
    period: { from: invoice.period.from, to: invoice.period.to },
    unpricedBefore: invoice.unpricedBefore ?? null,
    lines: invoice.lines.map((l) => ({
      vmId: l.vmId,
      vmName: l.vmName,
      resource: l.resource,
      quantity: l.quantity,
      unit: l.unit,
      rate: l.rate,
      amount: l.amount,
      cardEffectiveFrom: l.cardEffectiveFrom,
    })),
    subtotal: invoice.subtotal,
    discount: invoice.discount,
    total: invoice.total,
  };
  return `${index === 0 ? '' : ','}${JSON.stringify(bill)}`;
}

/** Sums bill totals as they stream by, for the closing summary. */
export class BillTotals {
  tenants = 0;
  private currencies = new Set<string>();
  private sum = new Dec(0);

  add(doc: BillDocument): void {
    this.tenants += 1;
    this.currencies.add(doc.invoice.currency);
    this.sum = this.sum.plus(doc.invoice.total);
  }

  /** One currency (or none yet) → the exact sum in it; mixed currencies have no total. */
  summary(): { tenants: number; currency: string | null; total: string | null } {
    const [only, ...others] = [...this.currencies];
    if (others.length > 0) return { tenants: this.tenants, currency: null, total: null };
    if (only === undefined) return { tenants: this.tenants, currency: null, total: '0' };
    return { tenants: this.tenants, currency: only, total: formatMoney(this.sum, only) };
  }
}

export function billJsonClose(totals: BillTotals): string {
  return `],"summary":${JSON.stringify(totals.summary())}}`;
}

export function billJson(period: { from: string; to: string }, docs: Iterable<BillDocument>): string {
  const totals = new BillTotals();
  let out = billJsonOpen(period);
  for (const doc of docs) {
    out += billJsonPart(doc, totals.tenants);
    totals.add(doc);
  }
  return out + billJsonClose(totals);
}
