import { type BillDocument, billTitle } from './bill-document';
import { Dec } from './money';
import {
  fitText,
  type MeasureText,
  PAGE_HEIGHT,
  PAGE_WIDTH,
  type PdfDocument,
  PdfPage,
  type PdfRenderer,
} from './pdf-document';

const MARGIN = 48;
const LEFT = MARGIN;
const RIGHT = PAGE_WIDTH - MARGIN;
const TOP = PAGE_HEIGHT - MARGIN;
/** Rows stop above this line; the footer sits below it. */
const BOTTOM = 72;
const ROW = 14;
const TABLE_SIZE = 8.5;
const MUTED = 0.4;
/** Subtotal, discount and total need this much room under the last row. */
const TOTALS_HEIGHT = 3 * 16 + 24;

const RESOURCE_LABELS: Record<string, string> = {
  vcpu: 'vCPU',
  memory: 'Memory',
  disk: 'Disk',
  'replica-storage': 'Replica storage',
  'network-out-internet': 'Network out, internet',
  'network-out-datacenter': 'Network out, datacenter',
  'network-in-internet': 'Network in, internet',
  'network-in-datacenter': 'Network in, datacenter',
};

/** A fixed resource's label, or a metered address class's (`network-out:<class>` → "Network out, <class>"). */
function resourceLabel(resource: string): string {
  const acl = /^network-(out|in):(.+)$/.exec(resource);
  return RESOURCE_LABELS[resource] ?? (acl ? `Network ${acl[1]}, ${acl[2]}` : resource);
}

interface Column {
  title: string;
  width: number;
  align: 'left' | 'right';
}

// VM, resource, quantity, unit, rate, amount: widths add up to the text width (499.28 pt).
const COLUMNS: Column[] = [
  { title: 'VM', width: 130, align: 'left' },
  { title: 'Resource', width: 105, align: 'left' },
  { title: 'Quantity', width: 75, align: 'right' },
  { title: 'Unit', width: 60, align: 'left' },
  { title: 'Rate', width: 60, align: 'right' },
  { title: 'Amount', width: RIGHT - LEFT - 430, align: 'right' },
];
const PAD = 4;

/**
 * A name set inside a longer text, between Unicode's first-strong isolate
 * and its end (FSI … PDI, UAX #9): a right-to-left name keeps its own order
 * without pulling the dates and separators around it into right to left.
 */
function isolate(name: string): string {
  return `\u2068${name}\u2069`;
}

/** "2026-11-02T00:00:00Z" → "2026-11-02 00:00" (instants are UTC). */
function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** Quantities are exact to 40 digits; the document shows 4 decimals (the CSV and JSON keep them exact). */
function shortQuantity(quantity: string): string {
  try {
    return new Dec(quantity).toFixed(4);
  } catch {
    return quantity;
  }
}

function metaLine(doc: BillDocument): string {
  const parts = [
    doc.invoiceNumber ? `Invoice no. ${doc.invoiceNumber}` : null,
    doc.version === undefined ? null : `Version ${doc.version}`,
    `Status: ${doc.status}`,
  ];
  return parts.filter((p) => p !== null).join('  ·  ');
}

function row(page: PdfPage, y: number, cells: string[], font: 'regular' | 'bold', gray = 0): void {
  let x = LEFT;
  COLUMNS.forEach((column, i) => {
    const text = fitText(page.measure, cells[i] ?? '', font, TABLE_SIZE, column.width - 2 * PAD);
    const at = column.align === 'right' ? x + column.width - PAD : x + PAD;
    if (text) page.text(at, y, text, { font, size: TABLE_SIZE, align: column.align, gray });
    x += column.width;
  });
}

function tableHeader(page: PdfPage, top: number, currency: string): number {
  page.fillRect(LEFT, top - 16, RIGHT - LEFT, 16, 0.9);
  const titles = COLUMNS.map((c) =>
    c.title === 'Rate' || c.title === 'Amount' ? `${c.title} (${currency})` : c.title,
  );
  row(page, top - 11.5, titles, 'bold');
  return top - 16 - ROW + 3;
}

/** The first page's header: provider, title, number/version/status, tenant and period. Returns where the table starts. */
function firstPageHeader(page: PdfPage, doc: BillDocument): number {
  const { tenant, invoice } = doc;
  page.text(LEFT, TOP - 14, 'Fabric', { font: 'bold', size: 20 });
  page.text(RIGHT, TOP - 14, billTitle(doc), { font: 'bold', size: 16, align: 'right' });
  page.text(LEFT, TOP - 30, 'Virtualization chargeback', { size: 9, gray: MUTED });
  page.text(RIGHT, TOP - 30, metaLine(doc), { size: 9, align: 'right' });
  page.line(LEFT, TOP - 40, RIGHT, TOP - 40, { gray: 0.6 });

  let y = TOP - 60;
  page.text(LEFT, y, 'Tenant', { size: 8, gray: MUTED });
  page.text(320, y, 'Period (UTC, end excluded)', { size: 8, gray: MUTED });
  y -= 14;
  page.text(LEFT, y, fitText(page.measure, tenant.name, 'bold', 11, 260), { font: 'bold', size: 11 });
  page.text(320, y, `${utc(invoice.period.from)} – ${utc(invoice.period.to)}`, { size: 10 });
  y -= 12;
  page.text(LEFT, y, fitText(page.measure, `${tenant.slug}  ·  ${tenant.id}`, 'regular', 8, 260), {
    size: 8,
    gray: MUTED,
  });
  page.text(320, y, `Currency ${invoice.currency}${doc.issuedAt ? `  ·  Issued ${utc(doc.issuedAt)}` : ''}`, {
    size: 8,
    gray: MUTED,
  });
  y -= 20;
  if (invoice.unpricedBefore) {
    page.text(
      LEFT,
      y,
      `Usage before ${utc(invoice.unpricedBefore)} UTC had no rate card in effect and is not on this bill.`,
      { size: 8.5 },
    );
    y -= 16;
  }
  if (doc.status === 'estimate') {
    page.text(
      LEFT,
      y,
      'Estimate from metered usage so far: not an invoice; amounts may change until the period closes.',
      {
        size: 8,
        gray: MUTED,
      },
    );
    y -= 16;
  }
  return tableHeader(page, y, invoice.currency);
}

function continuationHeader(page: PdfPage, doc: BillDocument): number {
  page.text(LEFT, TOP - 10, 'Fabric', { font: 'bold', size: 12 });
  const what = `${billTitle(doc)}  ·  ${isolate(doc.tenant.name)}  ·  ${utc(doc.invoice.period.from)} – ${utc(doc.invoice.period.to)} (continued)`;
  page.text(RIGHT, TOP - 10, fitText(page.measure, what, 'regular', 9, 400), { size: 9, align: 'right', gray: MUTED });
  page.line(LEFT, TOP - 18, RIGHT, TOP - 18, { gray: 0.6 });
  return tableHeader(page, TOP - 30, doc.invoice.currency);
}

function totals(page: PdfPage, top: number, doc: BillDocument): void {
  const { invoice } = doc;
  const labelX = RIGHT - 200;
  let y = top - 8;
  page.line(labelX, y, RIGHT, y, { gray: 0.6 });
  y -= 14;
  page.text(labelX, y, 'Subtotal', { size: 9 });
  page.text(RIGHT - PAD, y, `${invoice.subtotal} ${invoice.currency}`, { size: 9, align: 'right' });
  y -= 16;
  page.text(labelX, y, 'Discount', { size: 9 });
  page.text(RIGHT - PAD, y, `${invoice.discount} ${invoice.currency}`, { size: 9, align: 'right' });
  y -= 8;
  page.line(labelX, y, RIGHT, y, { width: 1 });
  y -= 14;
  page.text(labelX, y, 'Total', { font: 'bold', size: 10.5 });
  page.text(RIGHT - PAD, y, `${invoice.total} ${invoice.currency}`, { font: 'bold', size: 10.5, align: 'right' });
  page.text(LEFT, y, 'Quantities shown to 4 decimals; each amount is rounded once.', { size: 7.5, gray: MUTED });
}

function footer(page: PdfPage, doc: BillDocument, index: number, count: number): void {
  page.line(LEFT, 44, RIGHT, 44, { gray: 0.8 });
  const left = `Fabric  ·  ${isolate(doc.tenant.name)}  ·  ${utc(doc.invoice.period.from)} – ${utc(doc.invoice.period.to)} UTC`;
  page.text(LEFT, 32, fitText(page.measure, left, 'regular', 7.5, 380), { size: 7.5, gray: MUTED });
  page.text(RIGHT, 32, `Page ${index + 1} of ${count}`, { size: 7.5, gray: MUTED, align: 'right' });
}

/**
 * One tenant's bill as pages: header, period and tenant on the first page,
 * the lines in a table whose header repeats on every page (and the VM name on
 * each page's first row), subtotal / discount / total at the end, and
 * "Page i of n" of this bill in every footer. The amounts are the invoice's
 * strings, so the totals are the CSV's and JSON's.
 */
export function billPdfPages(doc: BillDocument, measure: MeasureText): PdfPage[] {
  const pages: PdfPage[] = [];
  let page = new PdfPage(measure);
  pages.push(page);
  let y = firstPageHeader(page, doc);
  let previousVm: string | null = null;

  if (doc.invoice.lines.length === 0) {
    row(page, y, ['No usage in this period.'], 'regular', MUTED);
    y -= ROW;
  }
  for (const line of doc.invoice.lines) {
    if (y < BOTTOM) {
      page = new PdfPage(measure);
      pages.push(page);
      y = continuationHeader(page, doc);
      previousVm = null;
    }
    if (previousVm !== null && previousVm !== line.vmId)
      page.line(LEFT, y + ROW - 3.5, RIGHT, y + ROW - 3.5, { gray: 0.85 });
    const vm = previousVm === line.vmId ? '' : line.vmName || line.vmId;
    row(
      page,
      y,
      [vm, resourceLabel(line.resource), shortQuantity(line.quantity), line.unit, line.rate, line.amount],
      'regular',
    );
    previousVm = line.vmId;
    y -= ROW;
  }
  if (y - TOTALS_HEIGHT < BOTTOM - ROW) {
    page = new PdfPage(measure);
    pages.push(page);
    y = continuationHeader(page, doc);
  }
  totals(page, y + ROW - 4, doc);
  for (const [i, p] of pages.entries()) footer(p, doc, i, pages.length);
  return pages;
}

/**
 * A PDF of any number of bills, one section (page set) per tenant, written
 * through `emit` a tenant at a time: an all-tenant export never holds more
 * than one tenant's pages.
 */
export class BillPdf {
  private readonly document: PdfDocument;

  constructor(renderer: PdfRenderer, emit: (chunk: Uint8Array) => void) {
    this.document = renderer.open(emit);
  }

  add(doc: BillDocument): void {
    for (const page of billPdfPages(doc, this.document.measure)) this.document.addPage(page);
  }

  /** A document without bills still gets one page saying so (a PDF needs a page). */
  end(title: string): void {
    if (this.document.pageCount === 0) {
      const page = new PdfPage(this.document.measure);
      page.text(LEFT, TOP - 14, 'Fabric', { font: 'bold', size: 20 });
      page.text(LEFT, TOP - 40, 'No tenants to bill.', { size: 10 });
      this.document.addPage(page);
    }
    this.document.end({ title });
  }
}

/** The whole PDF of these bills in one buffer (tests, small documents). */
export function billPdf(renderer: PdfRenderer, docs: Iterable<BillDocument>, title: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  const pdf = new BillPdf(renderer, (chunk) => chunks.push(chunk));
  for (const doc of docs) pdf.add(doc);
  pdf.end(title);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
