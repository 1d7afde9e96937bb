import type { BillDocument } from './bill-document';
import type { PdfRenderer } from './pdf-document';
import type { InvoiceLine } from './rate';

/**
 * Test helpers shared by the unit and integration tests of the bill exports:
 * a document builder and a renderer that records what the PDF layout draws.
 */

export function billLine(
  vmId: string,
  vmName: string,
  amount: string,
  resource: InvoiceLine['resource'] = 'vcpu',
): InvoiceLine {
  return {
    vmId,
    vmName,
    resource,
    quantity: '4',
    unit: 'vCPU-hour',
    rate: '0.0125',
    amount,
    cardEffectiveFrom: '2026-11-01',
  } as InvoiceLine;
}

export function billDoc(overrides: Partial<BillDocument> & { lines?: InvoiceLine[] } = {}): BillDocument {
  const lines = overrides.lines ?? [
    billLine('v1', 'web-01', '0.05'),
    { ...billLine('v1', 'web-01', '0.04'), resource: 'memory', unit: 'GiB-hour', quantity: '8', rate: '0.005' },
  ];
  const cents = lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0);
  const subtotal = (cents / 100).toFixed(2);
  return {
    tenant: { id: '11111111-1111-4111-8111-111111111111', name: 'Blue Corp', slug: 'blue' },
    status: 'estimate',
    ...overrides,
    invoice: overrides.invoice ?? {
      currency: 'USD',
      period: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      lines,
      subtotal,
      discount: '0.00',
      total: subtotal,
    },
  };
}

/** What the recording renderer saw: the pages' texts and the title, as written (in order). */
export interface RecordedPdf {
  pageCount: number;
  /** Every text drawn, page by page, as the layout gave it. */
  texts: string[];
  pages: string[][];
  title: string | null;
}

/**
 * A `PdfRenderer` for layout tests: it "writes" each page as one JSON line of
 * the texts drawn on it and the title at the end, and measures text as half
 * an em per character (about Helvetica's average). The bytes a real PDF holds
 * are the adapter's business (apps/api/src/pdf, tested there).
 */
export const recordingPdfRenderer: PdfRenderer = {
  open(emit) {
    const encoder = new TextEncoder();
    let pages = 0;
    return {
      measure: (text, _font, size) => [...text].length * size * 0.5,
      get pageCount() {
        return pages;
      },
      addPage(page) {
        pages++;
        const texts = page.ops.flatMap((op) => (op.kind === 'text' ? [op.text] : []));
        emit(encoder.encode(`${JSON.stringify({ page: texts })}\n`));
      },
      end(info) {
        emit(encoder.encode(`${JSON.stringify({ title: info.title })}\n`));
      },
    };
  },
};

/** Reads what `recordingPdfRenderer` wrote. */
export function readRecordedPdf(bytes: Uint8Array | string): RecordedPdf {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
  const pages: string[][] = [];
  let title: string | null = null;
  for (const line of text.split('\n').filter(Boolean)) {
    const entry: { page?: string[]; title?: string } = JSON.parse(line);
    if (entry.page) pages.push(entry.page);
    if (entry.title !== undefined) title = entry.title;
  }
  return { pageCount: pages.length, texts: pages.flat(), pages, title };
}
