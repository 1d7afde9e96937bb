import type { BillDocument } from './bill-document';
import { quantityDecimals, shownQuantity } from './quantity-precision';

/**
 * A spreadsheet runs a cell that starts with =, +, -, @, tab or CR as a
 * formula (CSV injection). Such text cells get a leading apostrophe; numbers
 * (like -0.01) stay numbers.
 */
export function csvCell(value: string): string {
  const neutral = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(neutral) ? `"${neutral.replaceAll('"', '""')}"` : neutral;
}

/**
 * One row per line, then subtotal, discount and total rows (resource column)
 * per tenant. The first twelve columns are the original single-tenant file's;
 * the tenant's id and slug and the document's status come after them, so a
 * multi-tenant file is the single-tenant files concatenated under one header.
 * Quantities are rounded to their unit's decimals, said in the last column.
 */
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
  'tenant_id',
  'tenant_slug',
  'status',
  'invoice_number',
  'version',
  'unpriced_before',
  'quantity_decimals',
] as const;

const CRLF = '\r\n';

function csvRow(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}${CRLF}`;
}

/** The header row, written once at the top of a file. */
export function billCsvHeader(): string {
  return csvRow(INVOICE_CSV_HEADER);
}

/**
 * One tenant's rows (no header), so an all-tenant export can write each
 * tenant's part as soon as it is computed. Amounts are the invoice's strings,
 * unchanged: the file's totals are the bill's totals to the cent.
 */
export function billCsvRows(doc: BillDocument): string {
  const { tenant, invoice } = doc;
  const { from, to } = invoice.period;
  const trailer = [
    tenant.id,
    tenant.slug,
    doc.status,
    doc.invoiceNumber ?? '',
    doc.version === undefined ? '' : String(doc.version),
    invoice.unpricedBefore ?? '',
  ];
  let out = '';
  for (const line of invoice.lines) {
    out += csvRow([
      tenant.name,
      from,
      to,
      line.vmId,
      line.vmName,
      line.resource,
      // Rounded per unit and the precision said in its own column; the amount is the exact quantity's, to the cent.
      shownQuantity(line.quantity, line.unit),
      line.unit,
      line.rate,
      line.amount,
      invoice.currency,
      line.cardEffectiveFrom,
      ...trailer,
      String(quantityDecimals(line.unit)),
    ]);
  }
  for (const [label, amount] of [
    ['subtotal', invoice.subtotal],
    ['discount', invoice.discount],
    ['total', invoice.total],
  ] as const) {
    out += csvRow([tenant.name, from, to, '', '', label, '', '', '', amount, invoice.currency, '', ...trailer, '']);
  }
  return out;
}

/** Whole file for any number of tenants: header, then each tenant's rows. */
export function billCsv(docs: Iterable<BillDocument>): string {
  let out = billCsvHeader();
  for (const doc of docs) out += billCsvRows(doc);
  return out;
}
