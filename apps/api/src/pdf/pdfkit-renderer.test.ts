import { BillPdf, billPdf } from '@fabric/core/chargeback/invoice-pdf';
import { billDoc, billLine, readRecordedPdf, recordingPdfRenderer } from '@fabric/core/chargeback/invoice-pdf.testing';
import { describe, expect, it } from 'vitest';
import { PdfkitRenderer } from './pdfkit-renderer';
import { readPdf } from './read-pdf.testing';

// Real PDFs, read back with PDF.js through the embedded fonts' ToUnicode maps:
// a name printed as '?' or as missing-glyph boxes does not read back as itself.
const renderer = new PdfkitRenderer();

function manyLines(count: number) {
  return Array.from({ length: count }, (_, i) => billLine(`vm-${i}`, `web-${String(i).padStart(3, '0')}`, '0.05'));
}

const tenant = (name: string) => ({ id: '11111111-1111-4111-8111-111111111111', name, slug: 'tenant' });
const PERIOD = '2026-11-01 00:00 – 2026-12-01 00:00 UTC';

describe('bill PDF through pdfkit', () => {
  it.each([
    ['Latin with diacritics and Japanese', 'Société Générale 株式会社'],
    ['Cyrillic', 'ООО «Газпром нефть»'],
    ['Greek', 'Αθηναϊκή Ζυθοποιία Α.Ε.'],
    ['Simplified Chinese', '北京银行股份有限公司'],
    ['Korean', '삼성전자 주식회사'],
    ['Vietnamese', 'Công ty Cổ phần Đầu tư'],
  ])('prints a %s tenant name as itself, on the first page and in the footer', async (_, name) => {
    const pdf = await readPdf(billPdf(renderer, [billDoc({ tenant: tenant(name) })], 'Bill'));
    expect(pdf.texts).toContain(name);
    expect(pdf.texts).toContain(`Fabric · ${name} · ${PERIOD}`);
  });

  it('prints VM names of any script in the table', async () => {
    const lines = [
      billLine('v1', 'ウェブ-01', '0.05'),
      billLine('v2', 'веб-сервер_1', '0.05'),
      billLine('v3', 'διακομιστής.2', '0.05'),
    ];
    const pdf = await readPdf(billPdf(renderer, [billDoc({ lines })], 'Bill'));
    for (const vm of ['ウェブ-01', 'веб-сервер_1', 'διακομιστής.2']) expect(pdf.texts).toContain(vm);
  });

  it('prints an Arabic name shaped, right to left, and keeps the dates around it in order', async () => {
    const pdf = await readPdf(billPdf(renderer, [billDoc({ tenant: tenant('شركة النور') })], 'Bill'));
    // Texts are read left to right across the page: the first word of a
    // right-to-left name is the rightmost, so "شركة النور" reads back as
    // "النور" then "شركة" (each word's letters in reading order, joined
    // forms mapped back to the letters).
    expect(pdf.texts).toContain('النور شركة');
    expect(pdf.texts).toContain(`Fabric · النور شركة · ${PERIOD}`);
  });

  it('prints a mixed-direction name as the Unicode bidi algorithm orders it', async () => {
    const pdf = await readPdf(billPdf(renderer, [billDoc({ tenant: tenant('Blue شركة النور Corp') })], 'Bill'));
    expect(pdf.texts).toContain('Blue النور شركة Corp');
  });

  it('embeds its fonts and uses none of the standard ones (whose WinAnsi has no room for these scripts)', async () => {
    const bytes = billPdf(renderer, [billDoc({ tenant: tenant('Société Générale 株式会社') })], 'Bill');
    const raw = Buffer.from(bytes).toString('latin1');
    expect(raw).toContain('/FontFile2');
    expect(raw).not.toContain('/Helvetica');
    expect(raw).not.toContain('/WinAnsiEncoding');
  });

  it('keeps the layout: the same pages and texts as the layout draws, totals included', async () => {
    const docs = [
      billDoc({
        status: 'closed',
        invoiceNumber: 'INV-2026-11-0007',
        version: 3,
        issuedAt: '2026-12-01T02:00:00Z',
        tenant: tenant('Blue (Corp) \\ Ltd'),
        lines: manyLines(200),
      }),
      billDoc({ tenant: { id: 't2', name: 'Yellow Corp', slug: 'yellow' }, lines: manyLines(3) }),
    ];
    const pdf = await readPdf(billPdf(renderer, docs, 'Invoices'));
    const layout = readRecordedPdf(billPdf(recordingPdfRenderer, docs, 'Invoices'));
    expect(pdf.pageCount).toBeGreaterThanOrEqual(5);
    // The layout measured text with the real fonts, so its page breaks are the PDF's.
    expect(pdf.pageCount).toBe(layout.pageCount);
    expect(pdf.texts.filter((t) => t === 'Resource')).toHaveLength(pdf.pageCount);
    for (const text of [
      'Invoice no. INV-2026-11-0007 · Version 3 · Status: closed',
      'Blue (Corp) \\ Ltd',
      'Yellow Corp',
    ]) {
      expect(pdf.texts).toContain(text);
    }
    for (let i = 0; i < 200; i++) expect(pdf.texts).toContain(`web-${String(i).padStart(3, '0')}`);
    expect(pdf.texts).toContain('10.00 USD');
    expect(pdf.texts).toContain('0.15 USD');
    expect(pdf.texts).toContain('Rate (USD)');
  });

  it('writes each tenant’s pages as they are added, and the fonts and trailer at the end', async () => {
    const chunks: Uint8Array[] = [];
    const pdf = new BillPdf(renderer, (chunk) => chunks.push(chunk));
    pdf.add(billDoc({ lines: manyLines(100) }));
    pdf.add(billDoc({ tenant: { id: 't2', name: 'Yellow Corp', slug: 'yellow' }, lines: manyLines(3) }));
    const beforeEnd = Buffer.concat(chunks).toString('latin1');
    const pagesIn = (raw: string) => raw.match(/\/Type \/Page(?!s)/g)?.length ?? 0;
    const pageCount =
      readRecordedPdf(billPdf(recordingPdfRenderer, [billDoc({ lines: manyLines(100) })], 'x')).pageCount + 1;
    // Every page but the last is out before the document ends (pdfkit finishes a page when the next one starts).
    expect(pagesIn(beforeEnd)).toBe(pageCount - 1);
    expect(beforeEnd).not.toContain('%%EOF');
    pdf.end('All tenants');
    const whole = Buffer.concat(chunks);
    expect(whole.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(pagesIn(whole.toString('latin1'))).toBe(pageCount);
    const read = await readPdf(whole);
    expect(read.pageCount).toBe(pageCount);
    expect(read.texts).toContain('Yellow Corp');
    expect(read.texts).toContain('Blue Corp');
  });

  it('a document with no bills still has a page', async () => {
    const pdf = await readPdf(billPdf(renderer, [], 'x'));
    expect(pdf.pageCount).toBe(1);
    expect(pdf.texts).toContain('No tenants to bill.');
  });
});
