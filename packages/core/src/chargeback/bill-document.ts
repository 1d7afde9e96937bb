import type { Invoice } from './rate';

/**
 * What every bill renderer (CSV, JSON, PDF) takes: one tenant's invoice and
 * what it is. Today's bills are computed on demand (`status: 'estimate'`);
 * frozen invoices of closed periods carry a number, a version and when they
 * were issued. Renderers print the invoice's strings as they are, so every
 * format totals to the same cent.
 */
export interface BillDocument {
  tenant: { id: string; name: string; slug: string };
  /**
   * `unpricedBefore`: usage before this instant had no rate card in effect and
   * is not on the bill (optional; printed when present).
   */
  invoice: Invoice & { unpricedBefore?: string };
  status: 'estimate' | 'closed';
  version?: number;
  invoiceNumber?: string;
  issuedAt?: string;
}

/** The document title a reader sees: a closed invoice, or an estimate that may still change. */
export function billTitle(doc: Pick<BillDocument, 'status'>): string {
  return doc.status === 'closed' ? 'Invoice' : 'Bill estimate';
}
