import { describe, expect, it } from 'vitest';
import { billCsv, INVOICE_CSV_HEADER } from './invoice-csv';
import { shownQuantity } from './quantity-precision';
import type { Invoice } from './rate';

describe('a quantity as a file shows it', () => {
  it.each([
    ['1.333333333333333333333333333333333333333', 'vCPU-hour', '1.3333'],
    ['0.00004999999999999999999999999999999999999', 'GiB-hour', '0.0000'],
    ['2.000050000000000000000000000000000000000', 'GiB-hour', '2.0000'], // half to even
    ['0.03225806451612903225806451612903225806452', 'GiB-month', '0.032258'],
    ['0.9999999999999999999999999999999999999999', 'GiB', '1.000000'],
    ['12', 'vCPU-hour', '12.0000'],
  ])('%s %s → %s', (exact, unit, shown) => {
    expect(shownQuantity(exact, unit)).toBe(shown);
  });
});

describe('the bill CSV', () => {
  it('rounds each quantity to its unit’s stated decimals; the amounts stay the bill’s, to the cent', () => {
    const invoice: Invoice = {
      period: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      currency: 'USD',
      lines: [
        {
          vmId: 'vm-1',
          vmName: 'web-01',
          resource: 'vcpu',
          quantity: '1.333333333333333333333333333333333333333',
          unit: 'vCPU-hour',
          rate: '0.0125',
          amount: '0.02',
          cardEffectiveFrom: '2026-11-01',
        },
        {
          vmId: 'vm-1',
          vmName: 'web-01',
          resource: 'disk',
          quantity: '0.03225806451612903225806451612903225806452',
          unit: 'GiB-month',
          rate: '0.10',
          amount: '0.00',
          cardEffectiveFrom: '2026-11-01',
        },
      ],
      subtotal: '0.02',
      discount: '0.00',
      total: '0.02',
    };
    const rows = billCsv([{ tenant: { id: 't1', name: 'Blue Corp', slug: 'blue-corp' }, invoice, status: 'estimate' }])
      .trim()
      .split('\r\n')
      .map((r) => r.split(','));
    const col = (name: (typeof INVOICE_CSV_HEADER)[number]) => INVOICE_CSV_HEADER.indexOf(name);
    expect(rows.slice(1, 3).map((r) => [r[col('quantity')], r[col('unit')], r[col('quantity_decimals')]])).toEqual([
      ['1.3333', 'vCPU-hour', '4'],
      ['0.032258', 'GiB-month', '6'],
    ]);
    expect(rows.slice(1).map((r) => r[col('amount')])).toEqual(['0.02', '0.00', '0.02', '0.00', '0.02']);
  });
});
