import { describe, expect, it } from 'vitest';
import { billCsv } from './invoice-csv';
import { BillPdf, billPdf } from './invoice-pdf';
import { billDoc, billLine, readRecordedPdf, recordingPdfRenderer } from './invoice-pdf.testing';
import { fitText } from './pdf-document';

// The layout, drawn on a recording renderer: which texts go on which page. The
// PDF bytes (fonts, scripts, structure) are tested with the pdfkit adapter in apps/api/src/pdf.
const render = (...args: Parameters<typeof billPdf> extends [unknown, ...infer R] ? R : never) =>
  readRecordedPdf(billPdf(recordingPdfRenderer, ...args));

function manyLines(count: number) {
  return Array.from({ length: count }, (_, i) => billLine(`vm-${i}`, `web-${String(i).padStart(3, '0')}`, '0.05'));
}

describe('fitText', () => {
  const measure = (text: string, _font: unknown, size: number) => [...text].length * size * 0.5;

  it('shortens text that does not fit with an ellipsis', () => {
    const long = 'a-very-long-virtual-machine-name-that-does-not-fit';
    const short = fitText(measure, long, 'regular', 8.5, 60);
    expect(short.endsWith('…')).toBe(true);
    expect(short.length).toBeLessThan(long.length);
    expect(fitText(measure, 'web-01', 'regular', 8.5, 60)).toBe('web-01');
  });

  it('never cuts a character outside the Basic Multilingual Plane in half', () => {
    const short = fitText(measure, '𠀋𠀋𠀋𠀋𠀋𠀋𠀋𠀋𠀋𠀋𠀋𠀋', 'regular', 10, 30);
    expect(short).toBe('𠀋𠀋𠀋𠀋𠀋…');
  });
});

describe('bill PDF layout', () => {
  it('has the provider, title, number, version, tenant, period and exact totals', () => {
    const doc = billDoc({
      status: 'closed',
      invoiceNumber: 'INV-2026-11-0007',
      version: 3,
      issuedAt: '2026-12-01T02:00:00Z',
      tenant: { id: '11111111-1111-4111-8111-111111111111', name: 'Blue (Corp) \\ Ltd', slug: 'blue' },
    });
    const pdf = render([doc], 'Invoice');
    expect(pdf.pageCount).toBe(1);
    expect(pdf.title).toBe('Invoice');
    const text = pdf.texts.join('\n');
    expect(text).toContain('Fabric');
    expect(text).toContain('Invoice');
    expect(text).toContain('Invoice no. INV-2026-11-0007');
    expect(text).toContain('Version 3');
    expect(pdf.texts).toContain('Blue (Corp) \\ Ltd');
    expect(text).toContain('2026-11-01 00:00 – 2026-12-01 00:00');
    for (const header of ['VM', 'Resource', 'Quantity', 'Unit', 'Rate (USD)', 'Amount (USD)']) {
      expect(pdf.texts).toContain(header);
    }
    expect(pdf.texts).toContain('web-01');
    expect(pdf.texts).toContain(`${doc.invoice.subtotal} USD`);
    expect(pdf.texts).toContain(`${doc.invoice.total} USD`);
  });

  it('its total is the CSV’s total', () => {
    const doc = billDoc({ lines: manyLines(7) });
    const csvTotal = billCsv([doc])
      .trim()
      .split('\r\n')
      .find((r) => r.includes(',total,'))
      ?.split(',')[9];
    expect(csvTotal).toBe('0.35');
    expect(render([doc], 'x').texts).toContain(`${csvTotal} USD`);
  });

  it('breaks long bills into pages, repeating the table header and numbering the pages', () => {
    const short = render([billDoc({ lines: manyLines(10) })], 'x');
    const long = render([billDoc({ lines: manyLines(200) })], 'x');
    expect(short.pageCount).toBe(1);
    expect(long.pageCount).toBeGreaterThanOrEqual(4);
    expect(long.texts.filter((t) => t === 'Resource')).toHaveLength(long.pageCount);
    expect(long.texts).toContain(`Page ${long.pageCount} of ${long.pageCount}`);
    // Every line is there once, and the total is on the last page.
    for (let i = 0; i < 200; i++) expect(long.texts).toContain(`web-${String(i).padStart(3, '0')}`);
    expect(long.pages.at(-1)).toContain('10.00 USD');
  });

  it('sets a name inside a longer text as a bidi isolate, so a right-to-left name keeps the dates in order', () => {
    const doc = billDoc({ tenant: { id: 't', name: 'شركة النور', slug: 's' } });
    const footer = render([doc], 'x').texts.find((t) => t.startsWith('Fabric  ·'));
    expect(footer).toBe('Fabric  ·  \u2068شركة النور\u2069  ·  2026-11-01 00:00 – 2026-12-01 00:00 UTC');
  });

  it('prints a note for usage before the first rate card, and an estimate says it is not an invoice', () => {
    const doc = billDoc();
    doc.invoice.unpricedBefore = '2026-11-03T00:00:00Z';
    const text = render([doc], 'x').texts.join('\n');
    expect(text).toContain('Usage before 2026-11-03 00:00 UTC had no rate card');
    expect(text).toContain('Bill estimate');
    expect(text).toContain('not an invoice');
  });

  it('an empty bill says so and totals 0.00', () => {
    const pdf = render([billDoc({ lines: [] })], 'x');
    expect(pdf.texts).toContain('No usage in this period.');
    expect(pdf.texts).toContain('0.00 USD');
  });

  it('streams one tenant at a time: each tenant’s pages are written when added', () => {
    const chunks: Uint8Array[] = [];
    const pdf = new BillPdf(recordingPdfRenderer, (chunk) => chunks.push(chunk));
    pdf.add(billDoc({ lines: manyLines(100) }));
    const blueOnly = readRecordedPdf(Buffer.concat(chunks));
    expect(blueOnly.texts).toContain('Blue Corp');
    expect(blueOnly.title).toBeNull();
    pdf.add(billDoc({ tenant: { id: 't2', name: 'Yellow Corp', slug: 'yellow' }, lines: manyLines(3) }));
    pdf.end('All tenants');
    const whole = readRecordedPdf(Buffer.concat(chunks));
    expect(whole.texts).toContain('Yellow Corp');
    expect(whole.pageCount).toBe(blueOnly.pageCount + 1);
    expect(whole.title).toBe('All tenants');
  });

  it('a document with no bills still has a page', () => {
    const pdf = render([], 'x');
    expect(pdf.pageCount).toBe(1);
    expect(pdf.texts).toContain('No tenants to bill.');
  });
});
