import { describe, expect, it } from 'vitest';
import { csvCell, invoiceCsv } from './invoice-csv';
import type { Invoice } from './rate';

describe('invoice CSV', () => {
  it.each([
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+cmd', "'+cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['-0.01', '-0.01'],
    ['web-01', 'web-01'],
    ['a,b', '"a,b"'],
  ])('neutralises %s', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('keeps the amounts as given, so the file totals to the bill', () => {
    const invoice: Invoice = {
      currency: 'USD',
      period: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      lines: [
        {
          vmId: 'v1',
          vmName: 'web-01',
          resource: 'vcpu',
          quantity: '4',
          unit: 'vCPU-hour',
          rate: '0.0125',
          amount: '0.05',
          cardEffectiveFrom: '2026-11-01',
        },
        {
          vmId: 'v1',
          vmName: 'web-01',
          resource: 'memory',
          quantity: '8',
          unit: 'GiB-hour',
          rate: '0.005',
          amount: '0.04',
          cardEffectiveFrom: '2026-11-01',
        },
      ],
      subtotal: '0.09',
      discount: '0.01',
      total: '0.08',
    };
    const rows = invoiceCsv(invoice, 'Blue Corp').trim().split('\r\n');
    expect(rows).toHaveLength(1 + 2 + 3);
    const amounts = rows.slice(1, 3).map((r) => r.split(',')[9]);
    expect(amounts).toEqual(['0.05', '0.04']);
    expect(rows.at(-1)).toContain(',total,,,,0.08,USD,');
  });
});
