import type { InvoiceSummary, LineChange } from './invoice.schema';
import type { Invoice } from './rate';

/** What a version freezes: the rated bill and, from version 2, what changed. */
export interface InvoiceDocument {
  invoice: Invoice;
  changes: LineChange[];
}

export interface NewInvoice {
  number: string;
  tenantId: string;
  tenantName: string;
  month: string;
  version: number;
  currency: string;
  subtotal: string;
  discount: string;
  total: string;
  adjustment: string;
  lineCount: number;
  document: InvoiceDocument;
  reason: string;
  createdBy: string;
}

export interface ClosedMonth {
  month: string;
  closedAt: Date;
  closedBy: string;
  invoiceCount: number;
  /** Σ of the latest versions' totals, exact; null when no invoice was written. */
  total: string | null;
  currency: string | null;
  /** The task that closed it (null for months closed before closes were tasks). */
  taskId: string | null;
}

export interface InvoiceRepository {
  closedMonths(): Promise<ClosedMonth[]>;
  isClosed(month: string): Promise<boolean>;
  /** Records the month as closed; PERIOD_CLOSED when it already is (a racing close included). */
  closeMonth(month: string, closedBy: string, closedAt: Date): Promise<void>;
  /** Appends versions; INVOICE_VERSION_CONFLICT when one of them is already taken. */
  addInvoices(rows: readonly NewInvoice[]): Promise<void>;
  /** Appends versions that are not there yet (a resumed close writes each tenant's version 1 once). */
  addMissingInvoices(rows: readonly NewInvoice[]): Promise<number>;
  /** Tenants that already have a version of the month's invoice. */
  tenantsInvoiced(month: string): Promise<Set<string>>;
  /** The latest version of each invoice, newest month first, then by tenant name. */
  latest(filter: { month?: string; tenantId?: string }): Promise<InvoiceSummary[]>;
  /** The latest version's document per tenant for a month. */
  latestDocuments(month: string): Promise<Map<string, { summary: InvoiceSummary; document: InvoiceDocument }>>;
  find(id: string): Promise<{ summary: InvoiceSummary; document: InvoiceDocument } | null>;
  versions(tenantId: string, month: string): Promise<InvoiceSummary[]>;
}
