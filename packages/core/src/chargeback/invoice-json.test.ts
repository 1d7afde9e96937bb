import { describe, expect, it } from 'vitest';
import { BILL_JSON_FORMAT, BillTotals, billJson, billJsonClose, billJsonOpen, billJsonPart } from './invoice-json';
import { billDoc, billLine } from './invoice-pdf.testing';

const period = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };

describe('bill JSON', () => {
  it('has the documented shape with decimal strings, never floats', () => {
    const doc = billDoc();
    const parsed = JSON.parse(billJson(period, [doc]));
    expect(parsed).toMatchObject({ format: BILL_JSON_FORMAT, provider: 'Fabric', period });
    expect(Object.keys(parsed.bills[0]).sort()).toEqual(
      [
        'tenant',
        'status',
        'invoiceNumber',
        'version',
        'issuedAt',
        'currency',
        'period',
        'unpricedBefore',
        'lines',
        'subtotal',
        'discount',
        'total',
      ].sort(),
    );
    expect(parsed.bills[0]).toMatchObject({ invoiceNumber: null, version: null, issuedAt: null, unpricedBefore: null });
    expect(parsed.bills[0].total).toBe(doc.invoice.total);
    for (const line of parsed.bills[0].lines) {
      for (const key of ['quantity', 'rate', 'amount']) expect(typeof line[key]).toBe('string');
    }
    expect(parsed.summary).toEqual({ tenants: 1, currency: 'USD', total: '0.09' });
  });

  it('keeps exact decimals that a float would lose', () => {
    const doc = billDoc({
      lines: [{ ...billLine('v1', 'a', '0.10'), quantity: '0.1000000000000000000000000000000000000001' }],
    });
    const text = billJson(period, [doc]);
    expect(text).toContain('"quantity":"0.1000000000000000000000000000000000000001"');
    expect(text).toContain('"amount":"0.10"');
  });

  it('streams in parts that join to the whole file; the summary total is the exact sum of the tenants’ totals', () => {
    const docs = [
      billDoc({ lines: [billLine('v1', 'a', '0.10')] }),
      billDoc({ tenant: { id: 't2', name: 'Yellow Corp', slug: 'yellow' }, lines: [billLine('v2', 'b', '0.20')] }),
    ];
    const totals = new BillTotals();
    let streamed = billJsonOpen(period);
    docs.forEach((doc, i) => {
      streamed += billJsonPart(doc, i);
      totals.add(doc);
    });
    streamed += billJsonClose(totals);
    expect(streamed).toBe(billJson(period, docs));
    const parsed = JSON.parse(streamed);
    expect(parsed.bills.map((b: { tenant: { name: string }; total: string }) => [b.tenant.name, b.total])).toEqual([
      ['Blue Corp', '0.10'],
      ['Yellow Corp', '0.20'],
    ]);
    // 0.1 + 0.2 in floats is 0.30000000000000004.
    expect(parsed.summary).toEqual({ tenants: 2, currency: 'USD', total: '0.30' });
  });

  it('an export with no tenants is still valid JSON', () => {
    expect(JSON.parse(billJson(period, []))).toMatchObject({ bills: [], summary: { tenants: 0 } });
  });
});
