import { Decimal } from 'decimal.js';

/**
 * The one Decimal constructor of chargeback. 40 significant digits keeps
 * quantities such as vcpus × seconds / 3600 far more exact than any price
 * needs; a private clone so no other module's Decimal settings change ours.
 */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -100, toExpPos: 100 });
export type Dec = InstanceType<typeof Dec>;

/**
 * ISO 4217 minor units that are not 2. Listed by hand rather than read from
 * Intl: CLDR's display digits differ from ISO's minor unit (ISK, for one),
 * and a bill must not change with the Node version.
 */
const MINOR_UNIT_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export function minorUnitDigits(currency: string): number {
  return MINOR_UNIT_DIGITS[currency] ?? 2;
}

/**
 * THE rounding rule of a bill: an exact amount is rounded once, to the
 * currency's minor unit, half to even (banker's rounding: 0.125 → 0.12,
 * 0.135 → 0.14), so rounding errors do not drift one way across many lines.
 * It is applied to each line amount and to the discount, never to
 * quantities, rates or sums of already-rounded amounts (those are exact).
 */
export function roundMoney(exact: Dec, currency: string): Dec {
  return exact.toDecimalPlaces(minorUnitDigits(currency), Dec.ROUND_HALF_EVEN);
}

export function formatMoney(amount: Dec, currency: string): string {
  return amount.toFixed(minorUnitDigits(currency));
}

/** Exact decimal string, no exponent, no trailing zeros. */
export function formatDecimal(value: Dec): string {
  return value.toFixed();
}
