import { Dec } from './money';

/**
 * How many decimals a line's quantity shows, per unit. The invoice keeps the
 * exact quantity (40 significant digits: its amount is that × the rate,
 * rounded once to the cent); a file people read shows it to a precision that
 * means something: 4 decimals of an hour is 0.36 s, 6 of a GiB-month is 2.6
 * GiB-seconds, 6 of a GiB is about 1 KiB.
 */
export const QUANTITY_DECIMALS = {
  'vCPU-hour': 4,
  'GiB-hour': 4,
  'GiB-month': 6,
  GiB: 6,
} as const satisfies Record<string, number>;

export function quantityDecimals(unit: string): number {
  const byUnit: Readonly<Record<string, number>> = QUANTITY_DECIMALS;
  return byUnit[unit] ?? 6;
}

/** The quantity as shown, rounded half to even to its unit's decimals ("12.5000" stays "12.5000": a fixed width reads as a column). */
export function shownQuantity(quantity: string, unit: string): string {
  if (quantity === '') return '';
  return new Dec(quantity).toFixed(quantityDecimals(unit), Dec.ROUND_HALF_EVEN);
}
