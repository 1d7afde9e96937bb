import { describe, expect, it } from 'vitest';
import { billCsv } from './invoice-csv';
import { BillPdf, billPdf } from './invoice-pdf';
import { billDoc, billLine, readPdf } from './invoice-pdf.testing';
import { fitText, pdfString, winAnsiCodes } from './invoice-pdf-writer';

function manyLines(count: number) {
  return Array.from({ length: count }, (_, i) => billLine(`vm-${i}`, `web-${String(i).padStart(3, '0')}`, '0.05'));
}

describe('PDF strings', () => {
  it('escapes parentheses and backslashes and writes WinAnsi bytes outside ASCII as octal', () => {
    expect(pdfString('a(b)c\\d')).toBe('(a\\(b\\)c\\\\d)');
    expect(pdfString('Zürich – 5 €')).toBe('(Z\\374rich \\226 5 \\200)');
    expect(pdfString('tab\there')).toBe('(tab here)');
    expect(winAnsiCodes('日')).toEqual([0x3f]);
  });

  it('shortens text that does not fit with an ellipsis', () => {
    const long = 'a-very-long-virtual-machine-name-that-does-not-fit';
    const short = fitText(long, 'regular', 8.5, 60);
    expect(short.endsWith('…')).toBe(true);
    expect(short.length).toBeLessThan(long.length);
    expect(fitText('web-01', 'regular', 8.5, 60)).toBe('web-01');
  });
});

describe('bill PDF', () => {
  it('is a well-formed PDF with the provider, title, tenant, period and exact totals', () => {
    const doc = billDoc({
      status: 'closed',
      invoiceNumber: 'INV-2026-11-0007',
      version: 3,
      issuedAt: '2026-12-01T02:00:00Z',
      tenant: { id: '11111111-1111-4111-8111-111111111111', name: 'Blue (Corp) \\ Ltd', slug: 'blue' },
    });
    const pdf = readPdf(billPdf([doc], 'Invoice'));
    expect(pdf.version).toBe('1.4');
    expect(pdf.pageCount).toBe(1);
    const text = pdf.texts.join('\n');
    expect(text).toContain('Fabric');
    expect(text).toContain('Invoice');
    expect(text).toContain('Invoice no. INV-2026-11-0007');
    expect(text).toContain('Version 3');
    expect(text).toContain('Blue (Corp) \\ Ltd');
    expect(text).toContain('2026-11-01 00:00 \u0096 2026-12-01 00:00');
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
    expect(readPdf(billPdf([doc], 'x')).texts).toContain(`${csvTotal} USD`);
  });

  it('breaks long bills into pages, repeating the table header and numbering the pages', () => {
    const short = readPdf(billPdf([billDoc({ lines: manyLines(10) })], 'x'));
    const long = readPdf(billPdf([billDoc({ lines: manyLines(200) })], 'x'));
    expect(short.pageCount).toBe(1);
    expect(long.pageCount).toBeGreaterThanOrEqual(4);
    expect(long.texts.filter((t) => t === 'Resource')).toHaveLength(long.pageCount);
    expect(long.texts).toContain(`Page ${long.pageCount} of ${long.pageCount}`);
    // Every line is there once, and the total is on the last page.
    for (let i = 0; i < 200; i++) expect(long.texts).toContain(`web-${String(i).padStart(3, '0')}`);
    expect(long.texts).toContain('10.00 USD');
  });

  it('prints a note for usage before the first rate card, and an estimate says it is not an invoice', () => {
    const doc = billDoc();
    doc.invoice.unpricedBefore = '2026-11-03T00:00:00Z';
    const text = readPdf(billPdf([doc], 'x')).texts.join('\n');
    expect(text).toContain('Usage before 2026-11-03 00:00 UTC had no rate card');
    expect(text).toContain('Bill estimate');
    expect(text).toContain('not an invoice');
  });

  it('an empty bill says so and totals 0.00', () => {
    const pdf = readPdf(billPdf([billDoc({ lines: [] })], 'x'));
    expect(pdf.texts).toContain('No usage in this period.');
    expect(pdf.texts).toContain('0.00 USD');
  });

  it('streams one tenant at a time: each tenant’s section is written when added', () => {
    const chunks: string[] = [];
    const pdf = new BillPdf((chunk) => chunks.push(chunk));
    pdf.add(billDoc({ lines: manyLines(100) }));
    const afterBlue = chunks.join('');
    expect(afterBlue).toContain('(Blue Corp)');
    pdf.add(billDoc({ tenant: { id: 't2', name: 'Yellow Corp', slug: 'yellow' }, lines: manyLines(3) }));
    pdf.end('All tenants');
    const whole = readPdf(chunks.join(''));
    expect(whole.texts).toContain('Yellow Corp');
    expect(whole.pageCount).toBe(readPdf(billPdf([billDoc({ lines: manyLines(100) })], 'x')).pageCount + 1);
    expect(/^[\x20-\x7e\n]*$/.test(chunks.join(''))).toBe(true);
  });

  it('a document with no bills still has a page', () => {
    const pdf = readPdf(billPdf([], 'x'));
    expect(pdf.pageCount).toBe(1);
    expect(pdf.texts).toContain('No tenants to bill.');
  });
});
