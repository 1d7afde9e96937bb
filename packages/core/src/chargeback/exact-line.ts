import { Dec, minorUnitDigits } from './money';

/**
 * The hot loop of rating in integers. An invoice line is
 *   quantity = Σ counter / divisor        (rounded to 40 significant digits)
 *   amount   = quantity × rate            (rounded to 40 significant digits,
 *                                          then to the currency, half to even)
 * exactly as decimal.js computes it with `Dec` (precision 40, half to even),
 * but on BigInt scaled integers: the all-tenant report rates ~500,000 lines,
 * and decimal.js's 40-digit division made that seconds. Any input this path
 * cannot represent exactly (a counter in exponent notation, more than
 * SCALE decimals, a sum beyond 40 digits) falls back to `Dec`, which is what
 * this replicates; exact-line.test.ts checks both agree on random inputs.
 */

/** Counters are summed as integers scaled by 10^SCALE (the usage schema allows 10 decimals). */
const SCALE = 10;
const TEN = 10n;
const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  let p = pow10Cache[n];
  if (p === undefined) {
    p = TEN ** BigInt(n);
    pow10Cache[n] = p;
  }
  return p;
}
const PRECISION = 40;
const PRECISION_LOW = pow10(PRECISION - 1);
const PRECISION_HIGH = pow10(PRECISION);

const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** `value` × 10^SCALE as an integer, or null when it is not a plain decimal with at most SCALE decimals. */
export function scaledCounter(value: number | string): bigint | null {
  const text = typeof value === 'number' ? String(value) : value;
  const match = PLAIN_DECIMAL.exec(text);
  if (match === null) return null;
  const fraction = match[2] ?? '';
  if (fraction.length > SCALE) return null;
  return BigInt(match[1] + fraction.padEnd(SCALE, '0'));
}

function digitCount(n: bigint): number {
  return n === 0n ? 1 : n.toString().length;
}

/** A sum of counters: exact integers while decimal.js's own sum would be exact too, then decimal.js. */
export class CounterSum {
  private scaled: bigint | null = 0n;
  private decimal: Dec | null = null;
  private empty = true;

  add(value: number | string): void {
    if (this.scaled !== null) {
      const scaled = scaledCounter(value);
      const next = scaled === null ? null : this.scaled + scaled;
      // Past 40 digits decimal.js would round the running sum: hand over to it from the exact sum so far.
      if (next !== null && next < PRECISION_HIGH) {
        this.scaled = next;
        this.empty = false;
        return;
      }
      this.decimal = this.empty ? new Dec(value) : new Dec(formatScaled(this.scaled, SCALE)).plus(value);
      this.scaled = null;
      this.empty = false;
      return;
    }
    this.decimal = (this.decimal ?? new Dec(0)).plus(value);
  }

  isZero(): boolean {
    return this.scaled !== null ? this.scaled === 0n : (this.decimal?.isZero() ?? true);
  }

  /** The line's exact quantity string (empty without `withQuantity`) and its amount in minor units (e.g. cents). */
  line(
    divisor: number,
    rate: string,
    currency: string,
    withQuantity = true,
  ): { quantity: string; amountMinor: bigint } {
    const minor = minorUnitDigits(currency);
    const rateMatch = PLAIN_DECIMAL.exec(rate);
    if (this.scaled === null || rateMatch === null) {
      const quantity = (this.decimal ?? new Dec(0)).dividedBy(divisor);
      const amount = quantity.times(rate).toDecimalPlaces(minor, Dec.ROUND_HALF_EVEN);
      return { quantity: quantity.toFixed(), amountMinor: BigInt(amount.times(pow10(minor).toString()).toFixed(0)) };
    }
    // quantity = q × 10^-e with q of exactly 40 digits (or 0).
    const [q, e] = divideRounded(this.scaled, pow10(SCALE) * BigInt(divisor));
    const rateFraction = rateMatch[2] ?? '';
    const rateScaled = BigInt(rateMatch[1] + rateFraction);
    // The product q × rate, exact, is p × 10^-(e + rate decimals); decimal.js rounds it to 40 digits first.
    const [p, pExponent] = roundSignificant(q * rateScaled, e + rateFraction.length);
    return { quantity: withQuantity ? formatScaled(q, e) : '', amountMinor: roundToPlaces(p, pExponent, minor) };
  }
}

/** Half to even: n / d rounded to an integer (n, d > 0). */
function divideHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twice = (n - q * d) * 2n;
  if (twice > d || (twice === d && q % 2n === 1n)) return q + 1n;
  return q;
}

/** n / d rounded to 40 significant digits, half to even, as [q, e] meaning q × 10^-e. */
function divideRounded(n: bigint, d: bigint): [bigint, number] {
  if (n === 0n) return [0n, 0];
  let e = PRECISION - 1 - (digitCount(n) - digitCount(d));
  for (;;) {
    const numerator = e >= 0 ? n * pow10(e) : n;
    const denominator = e >= 0 ? d : d * pow10(-e);
    const floor = numerator / denominator;
    if (floor >= PRECISION_HIGH) e -= 1;
    else if (floor < PRECISION_LOW) e += 1;
    else {
      const q = divideHalfEven(numerator, denominator);
      // 9.99…95 rounds up to 10^40: one digit too many, and exact, so drop a zero.
      return q === PRECISION_HIGH ? [PRECISION_LOW, e - 1] : [q, e];
    }
  }
}

/** p × 10^-e rounded to 40 significant digits, half to even, as [p', e']. */
function roundSignificant(p: bigint, e: number): [bigint, number] {
  const extra = digitCount(p) - PRECISION;
  if (p === 0n || extra <= 0) return [p, e];
  const rounded = divideHalfEven(p, pow10(extra));
  return rounded === PRECISION_HIGH ? [PRECISION_LOW, e - extra - 1] : [rounded, e - extra];
}

/** p × 10^-e rounded to `places` decimals, half to even, in units of 10^-places. */
function roundToPlaces(p: bigint, e: number, places: number): bigint {
  if (e <= places) return p * pow10(places - e);
  return divideHalfEven(p, pow10(e - places));
}

/** n × 10^-e in plain notation without trailing zeros (decimal.js's toFixed()). */
function formatScaled(n: bigint, e: number): string {
  if (e <= 0) return (n * pow10(-e)).toString();
  const digits = n.toString().padStart(e + 1, '0');
  const point = digits.length - e;
  let end = digits.length;
  while (end > point && digits.charCodeAt(end - 1) === 48 /* '0' */) end--;
  return end > point ? `${digits.slice(0, point)}.${digits.slice(point, end)}` : digits.slice(0, point);
}

/** An amount in minor units as the currency writes it ("12.30", "5", "0.012"). */
export function formatMinor(amountMinor: bigint, currency: string): string {
  const minor = minorUnitDigits(currency);
  if (minor === 0) return amountMinor.toString();
  const digits = amountMinor.toString().padStart(minor + 1, '0');
  return `${digits.slice(0, -minor)}.${digits.slice(-minor)}`;
}
