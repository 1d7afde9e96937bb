import { describe, expect, it } from 'vitest';
import { billCsv, billCsvHeader, billCsvRows, csvCell, INVOICE_CSV_HEADER } from './invoice-csv';
import { billDoc, billLine } from './invoice-pdf.testing';

/** A minimal RFC 4180 reader, to check the file as a spreadsheet would split it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

const FORMULA = /^[=+\-@\t\r]/;

describe('CSV cells', () => {
  it.each([
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+cmd', "'+cmd"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tTAB', "'\tTAB"],
    ['\rCR', `"'\rCR"`],
    ['-0.01', '-0.01'],
    ['web-01', 'web-01'],
    ['a,b', '"a,b"'],
  ])('neutralises %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });
});

describe('bill CSV', () => {
  it('keeps the amounts as given, so the file totals to the bill', () => {
    const doc = billDoc();
    const rows = parseCsv(billCsv([doc]));
    expect(rows[0]).toEqual([...INVOICE_CSV_HEADER]);
    expect(rows).toHaveLength(1 + 2 + 3);
    const col = (name: (typeof INVOICE_CSV_HEADER)[number]) => INVOICE_CSV_HEADER.indexOf(name);
    expect(rows.slice(1, 3).map((r) => r[col('amount')])).toEqual(['0.05', '0.04']);
    const total = rows.find((r) => r[col('resource')] === 'total');
    expect(total?.[col('amount')]).toBe(doc.invoice.total);
    expect(total?.[col('amount')]).toBe('0.09');
    expect(rows.slice(1).every((r) => r[col('tenant_id')] === doc.tenant.id && r[col('status')] === 'estimate')).toBe(
      true,
    );
  });

  it('neutralises every text cell that a spreadsheet would run, tenant and VM names included', () => {
    const evil = ['=HYPERLINK("http://x","y")', '+1+1', '-cmd', '@SUM(A1)', '\tx', '\rx'];
    const docs = evil.map((name, i) =>
      billDoc({
        tenant: { id: `t${i}`, name, slug: name },
        lines: [billLine(name, name, '0.05')],
        invoiceNumber: name,
      }),
    );
    const rows = parseCsv(billCsv(docs)).slice(1);
    expect(rows.length).toBe(evil.length * 4);
    for (const row of rows) {
      for (const cell of row) {
        // Numbers (amounts like -0.01) are not text; every other cell must not start a formula.
        if (!/^-?\d+(\.\d+)?$/.test(cell)) expect(cell, JSON.stringify(row)).not.toMatch(FORMULA);
      }
    }
    expect(rows[0]?.[0]).toBe(`'${evil[0]}`);
  });

  it('an all-tenant file is the header then each tenant’s part, and each part totals to its bill', () => {
    const blue = billDoc();
    const yellow = billDoc({
      tenant: { id: '22222222-2222-4222-8222-222222222222', name: 'Yellow Corp', slug: 'yellow' },
      lines: [billLine('v9', 'db-01', '1.25')],
    });
    const file = billCsv([blue, yellow]);
    expect(file).toBe(billCsvHeader() + billCsvRows(blue) + billCsvRows(yellow));
    const totals = parseCsv(file)
      .filter((r) => r[5] === 'total')
      .map((r) => [r[0], r[9]]);
    expect(totals).toEqual([
      ['Blue Corp', '0.09'],
      ['Yellow Corp', '1.25'],
    ]);
  });

  it('prints the invoice number, version and unpriced-before instant when the document has them', () => {
    const doc = billDoc({ status: 'closed', invoiceNumber: 'INV-2026-11-0001', version: 2 });
    doc.invoice.unpricedBefore = '2026-11-03T00:00:00Z';
    const row = parseCsv(billCsv([doc]))[1] ?? [];
    expect(row.slice(-5, -1)).toEqual(['closed', 'INV-2026-11-0001', '2', '2026-11-03T00:00:00Z']);
  });
});
