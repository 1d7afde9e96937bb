import type { BillDocument } from './bill-document';
import type { InvoiceLine } from './rate';

/**
 * Test helpers shared by the unit and integration tests of the bill exports:
 * a document builder and a structural reader of the PDFs we write.
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

export interface PdfStructure {
  version: string;
  pageCount: number;
  /** Every string shown with Tj, unescaped (WinAnsi bytes as Latin-1 characters). */
  texts: string[];
}

function unescapePdf(literal: string): string {
  return literal.replace(/\\([0-7]{3}|.)/g, (_, esc: string) =>
    /^[0-7]{3}$/.test(esc) ? String.fromCharCode(Number.parseInt(esc, 8)) : esc,
  );
}

/**
 * Reads a PDF as a viewer would start to: the header, `startxref`, the
 * cross-reference table (every in-use entry must point at "<n> 0 obj"), each
 * stream's /Length, the page tree's count, and the text drawn. Throws with
 * what is wrong.
 */
export function readPdf(pdf: string): PdfStructure {
  const version = /^%PDF-(\d\.\d)\n/.exec(pdf)?.[1];
  if (!version) throw new Error('no %PDF- header');
  if (!pdf.endsWith('%%EOF\n')) throw new Error('no %%EOF at the end');
  const startxref = /startxref\n(\d+)\n%%EOF\n$/.exec(pdf);
  if (!startxref?.[1]) throw new Error('no startxref');
  const xrefAt = Number(startxref[1]);
  if (!pdf.startsWith('xref\n', xrefAt)) throw new Error(`startxref ${xrefAt} does not point at xref`);
  const head = /^xref\n0 (\d+)\n/.exec(pdf.slice(xrefAt));
  if (!head?.[1]) throw new Error('bad xref subsection');
  const size = Number(head[1]);
  const entriesAt = xrefAt + head[0].length;
  for (let id = 0; id < size; id++) {
    const entry = pdf.slice(entriesAt + id * 20, entriesAt + (id + 1) * 20);
    const m = /^(\d{10}) (\d{5}) ([nf]) \n$/.exec(entry);
    if (!m) throw new Error(`xref entry ${id} malformed: ${JSON.stringify(entry)}`);
    if (m[3] === 'n' && !pdf.startsWith(`${id} 0 obj\n`, Number(m[1]))) {
      throw new Error(`xref entry ${id} (offset ${m[1]}) does not point at "${id} 0 obj"`);
    }
  }
  const trailerSize = /trailer\n<< \/Size (\d+)/.exec(pdf.slice(xrefAt))?.[1];
  if (Number(trailerSize) !== size) throw new Error('trailer /Size differs from the xref');
  for (const m of pdf.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
    const start = (m.index ?? 0) + m[0].length;
    if (!pdf.startsWith('\nendstream', start + Number(m[1]))) throw new Error(`stream at ${start} has a wrong /Length`);
  }
  const count = /\/Type \/Pages \/Kids \[[^\]]*\] \/Count (\d+)/.exec(pdf)?.[1];
  const pageObjects = pdf.match(/\/Type \/Page /g)?.length ?? 0;
  if (Number(count) !== pageObjects) throw new Error(`/Count ${count} but ${pageObjects} page objects`);
  const texts = [...pdf.matchAll(/\(((?:\\.|[^\\)])*)\) Tj/g)].map((m) => unescapePdf(m[1] ?? ''));
  return { version, pageCount: pageObjects, texts };
}
