import type { Invoice } from './rate';

/**
 * A spreadsheet runs a cell that starts with =, +, -, @, tab or CR as a
 * formula (CSV injection). Such text cells get a leading apostrophe; numbers
 * (like -0.01) stay numbers.
 */
export function csvCell(value: string): string {
  const neutral = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(neutral) ? `"${neutral.replaceAll('"', '""')}"` : neutral;
}

export const INVOICE_CSV_HEADER = [
  'tenant',
  'period_from',
  'period_to',
  'vm_id',
  'vm_name',
  'resource',
  'quantity',
  'unit',
  'rate',
  'amount',
  'currency',
  'rate_card_from',
] as const;

/**
 * The bill as CSV: one row per line, then subtotal, discount and total rows.
 * Amounts are the invoice's strings, unchanged, so the file's totals are the
 * bill's totals to the cent.
 */
export function invoiceCsv(invoice: Invoice, tenantName: string): string {
  const rows: string[][] = [[...INVOICE_CSV_HEADER]];
  const { from, to } = invoice.period;
  for (const line of invoice.lines) {
    rows.push([
      tenantName,
      from,
      to,
      line.vmId,
      line.vmName,
      line.resource,
      line.quantity,
      line.unit,
      line.rate,
      line.amount,
      invoice.currency,
      line.cardEffectiveFrom,
    ]);
  }
  for (const [label, amount] of [
    ['subtotal', invoice.subtotal],
    ['discount', invoice.discount],
    ['total', invoice.total],
  ] as const) {
    rows.push([tenantName, from, to, '', '', label, '', '', '', amount, invoice.currency, '']);
  }
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
