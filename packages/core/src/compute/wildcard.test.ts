import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wildcardToRegExp } from './vm-state';

/** The wildcard rule by dynamic programming over code points: the reference the RegExp must agree with. */
function reference(pattern: string, name: string): boolean {
  const p = Array.from(pattern.toLowerCase());
  const n = Array.from(name.toLowerCase());
  let row = [true, ...n.map(() => false)];
  for (const c of p) {
    const next = n.map(() => false);
    next.unshift(c === '*' && row[0] === true);
    for (let j = 1; j <= n.length; j++) {
      next[j] =
        c === '*'
          ? (row[j] ?? false) || (next[j - 1] ?? false)
          : (row[j - 1] ?? false) && (c === '?' || c === n[j - 1]);
    }
    row = next;
  }
  return row[n.length] ?? false;
}

describe('VM name wildcards (Start-VM -Name web*)', () => {
  it('agrees with the rule on every pattern of stars, question marks and letters', () => {
    const pattern = fc.string({ unit: fc.constantFrom('*', '?', 'a', 'b', 'A', '-'), maxLength: 12 });
    const name = fc.string({ unit: fc.constantFrom('a', 'b', 'B', '-'), maxLength: 14 });
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        expect(wildcardToRegExp(p).test(n)).toBe(reference(p, n));
      }),
      { seed: 20261204, numRuns: 2000 },
    );
  });

  it('matches the console examples', () => {
    expect(wildcardToRegExp('web*').test('web-01')).toBe(true);
    expect(wildcardToRegExp('web*').test('db-01')).toBe(false);
    expect(wildcardToRegExp('*-0?').test('web-01')).toBe(true);
    expect(wildcardToRegExp('w*b*0*1').test('web-01')).toBe(true);
    expect(wildcardToRegExp('a*a').test('a')).toBe(false);
    expect(wildcardToRegExp('ВЕБ*-*1').test('веб-сервер-1')).toBe(true);
    expect(wildcardToRegExp('(web)*').test('(web)-01')).toBe(true);
    expect(wildcardToRegExp('we.*').test('web-01')).toBe(false);
  });

  // A plain translation (* → .*) backtracked exponentially: the first pattern against a 9-character name held an
  // API's event loop for 22 minutes. These finish at once now; before, the test would time out.
  it('answers hostile patterns of the longest allowed length at once', () => {
    const hostile = [`${'*'.repeat(63)}!`, '*a'.repeat(32), `${'*?'.repeat(31)}*!`, '?*'.repeat(32)];
    const names = ['dr-web-01', 'a'.repeat(64), `${'a'.repeat(63)}b`, '𠀋'.repeat(64)];
    for (const p of hostile) for (const n of names) expect(wildcardToRegExp(p).test(n)).toBe(reference(p, n));
  });
});
