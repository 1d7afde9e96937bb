import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CounterSum, formatMinor } from './exact-line';
import { Dec, formatDecimal, formatMoney, minorUnitDigits, roundMoney } from './money';

/** The reference: what rating computed with decimal.js alone (sum, divide, multiply, round once). */
function reference(values: (number | string)[], divisor: number, rate: string, currency: string) {
  let sum: Dec | undefined;
  for (const value of values) sum = sum === undefined ? new Dec(value) : sum.plus(value);
  const quantity = (sum ?? new Dec(0)).dividedBy(divisor);
  return {
    quantity: formatDecimal(quantity),
    amount: formatMoney(roundMoney(quantity.times(rate), currency), currency),
  };
}

function fast(values: (number | string)[], divisor: number, rate: string, currency: string) {
  const sum = new CounterSum();
  for (const value of values) sum.add(value);
  const { quantity, amountMinor } = sum.line(divisor, rate, currency);
  return { quantity, amount: formatMinor(amountMinor, currency) };
}

const DIVISORS = [3600, 1024 * 3600, 3600 * 730, 2 ** 30];
const decimalText = (maxInt: bigint, places: number) =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: maxInt }), fc.integer({ min: 0, max: places }))
    .chain(([whole, p]) =>
      fc
        .bigInt({ min: 0n, max: 10n ** BigInt(p) - 1n })
        .map((f) => (p === 0 ? `${whole}` : `${whole}.${`${f}`.padStart(p, '0')}`)),
    );
const counterArb = fc.oneof(
  decimalText(10n ** 20n, 4),
  decimalText(10n ** 29n, 10),
  fc.integer({ min: 0, max: 2 ** 40 }),
  // Floats, exponents and long fractions: the fallback to decimal.js must give the same digits.
  fc.double({ min: 0, max: 1e25, noNaN: true }),
  decimalText(10n ** 35n, 14),
);
const rateArb = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }).map((micros) => new Dec(micros).dividedBy(1_000_000).toFixed()),
  fc.constantFrom('0', '0.005', '0.0125', '1', '999999999999.999999'),
);

describe('exact lines in integers', () => {
  it('give exactly decimal.js’s quantity and amount', () => {
    fc.assert(
      fc.property(
        fc.array(counterArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(...DIVISORS),
        rateArb,
        fc.constantFrom('EUR', 'JPY', 'KWD', 'CLF'),
        (values, divisor, rate, currency) => {
          expect(fast(values, divisor, rate, currency)).toEqual(reference(values, divisor, rate, currency));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it.each([
    // Ties at the currency's unit, after 40-digit rounding of the quantity and the product.
    [['18'], 3600, '0.005', 'EUR'],
    [['54'], 3600, '0.005', 'EUR'],
    [['1'], 3, '3', 'EUR'],
    [['2'], 3, '1.5', 'JPY'],
    [['0.0000000001'], 2 ** 30, '999999999999.999999', 'KWD'],
    [['99999999999999999999999999999.9999999999'], 1, '1', 'EUR'],
    [['99999999999999999999999999999.9999999999', '1'], 7, '0.000001', 'EUR'],
    [[1e-7, '3'], 3600, '0.01', 'EUR'],
  ] as const)('agree on %j / %d × %s %s', (values, divisor, rate, currency) => {
    expect(fast([...values], divisor, rate, currency)).toEqual(reference([...values], divisor, rate, currency));
    expect(minorUnitDigits(currency)).toBeGreaterThanOrEqual(0);
  });
});
