import { describe, expect, it } from 'vitest';
import {
  dateInRange,
  escapeLike,
  isoDateInRange,
  isoDateTimeInRange,
  likePattern,
  searchText,
  text,
} from './text.schema';

const name = text('Name', { min: 1, max: 10 });
const notes = text('Notes', { max: 100, multiline: true });

describe('text', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['escape', 'a\u001bb'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['line feed inside a name', 'a\nb'],
    ['tab inside a name', 'a\tb'],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', 'a\udc00'],
  ])('refuses a %s with a message naming the field', (_what, value) => {
    const r = name.safeParse(value);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('Name must not contain control characters or line breaks');
  });

  it('trims, then applies the bounds, and says the limit', () => {
    expect(name.parse('  web  ')).toBe('web');
    expect(name.safeParse('   ').error?.issues[0]?.message).toBe('Name is required');
    expect(name.safeParse('x'.repeat(11)).error?.issues[0]?.message).toBe('Name must be at most 10 characters');
    expect(name.safeParse('x'.repeat(100_000)).success).toBe(false);
    expect(name.safeParse(42).error?.issues[0]?.message).toBe('Name must be text');
  });

  it('accepts letters of every script and paired surrogates (emoji), normalised to NFC', () => {
    expect(name.parse('株式会社')).toBe('株式会社');
    expect(name.parse('Вектор')).toBe('Вектор');
    expect(name.parse('ok 😀')).toBe('ok 😀');
    expect(name.parse('Socie\u0301te\u0301')).toBe('Soci\u00e9t\u00e9');
  });

  it('keeps tabs and line breaks in multi-line text but no other control', () => {
    expect(notes.parse('line 1\n\tline 2\r\n')).toBe('line 1\n\tline 2');
    expect(notes.safeParse('a\u0000').success).toBe(false);
  });
});

describe('searchText', () => {
  const search = searchText('Search', 64);
  it('treats blank as no filter and refuses controls', () => {
    expect(search.parse(undefined)).toBeUndefined();
    expect(search.parse('  ')).toBeUndefined();
    expect(search.parse(' web ')).toBe('web');
    expect(search.safeParse('\u0000').success).toBe(false);
  });
});

describe('likePattern', () => {
  it('makes % _ and \\ literal', () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
    expect(likePattern('50%')).toBe('%50\\%%');
  });
});

describe('dates', () => {
  const from = dateInRange('From');
  it.each([
    ['year 0', new Date('0000-01-01T00:00:00Z')],
    ['year 1999', new Date('1999-12-31T23:59:59.999Z')],
    ['year 2201', new Date('2201-01-01T00:00:00Z')],
    ['year +100000', new Date('+100000-01-01T00:00:00Z')],
  ])('refuses %s with the range in the message', (_what, value) => {
    expect(from.safeParse(value).error?.issues[0]?.message).toBe('From must be between the years 2000 and 2200');
  });

  it('accepts the edges of the range and refuses an invalid date', () => {
    expect(from.safeParse(new Date('2000-01-01T00:00:00Z')).success).toBe(true);
    expect(from.safeParse(new Date('2200-12-31T23:59:59.999Z')).success).toBe(true);
    expect(from.safeParse(new Date(Number.NaN)).success).toBe(false);
    expect(from.safeParse('2026-01-01').success).toBe(false);
  });

  it('bounds ISO strings the same way', () => {
    const at = isoDateTimeInRange('Sample time');
    expect(at.safeParse('2026-12-03T10:00:00Z').success).toBe(true);
    expect(at.safeParse('0000-01-01T00:00:00Z').error?.issues[0]?.message).toBe(
      'Sample time must be between the years 2000 and 2200',
    );
    expect(at.safeParse('+100000-01-01T00:00:00Z').success).toBe(false);
    const day = isoDateInRange('Effective date');
    expect(day.safeParse('2026-12-01').success).toBe(true);
    expect(day.safeParse('9999-12-01').success).toBe(false);
  });
});

describe('invisible and deceptive text (final probe)', () => {
  const name = text('Name', { min: 1, max: 100, name: true });
  const free = text('Description', { max: 100 });
  const refusal = (schema: typeof name, value: string) =>
    schema.safeParse(value).error?.issues.map((issue) => issue.message) ?? [];

  it.each([
    ['a right-to-left override posing as Alice', '\u202Eecila', /bidirectional control characters/],
    ['a left-to-right embedding', 'Ali\u202Ace', /bidirectional control characters/],
    ['a pop directional formatting', 'Alice\u202C', /bidirectional control characters/],
    ['a first-strong isolate', '\u2068Alice\u2069', /bidirectional control characters/],
    ['a right-to-left mark', 'Alice\u200F', /bidirectional control characters/],
    ['a private-use character', 'Alice\uE000', /private-use characters/],
    ['a supplementary private-use character', 'Alice\u{F0000}', /private-use characters/],
    ['a tag character', 'Alice\u{E0041}\u{E007F}', /tag characters/],
    ['a noncharacter', 'Alice\uFDD0', /noncharacters/],
    ['a plane’s last code point', 'Alice\u{10FFFF}', /noncharacters/],
  ])('every text refuses %s, saying which rule', (_what, value, rule) => {
    expect(refusal(name, value).some((message) => rule.test(message))).toBe(true);
    expect(refusal(free, value).some((message) => rule.test(message))).toBe(true);
  });

  it.each([
    ['zero width spaces only', '\u200B\u200B\u200B'],
    ['a word joiner and a BOM only', '\u2060\uFEFF\u2060'],
    ['combining marks only', '\u0301\u0308'],
    ['punctuation and symbols only', '-- ** 👍'],
  ])('a name of %s is refused: it must show a letter or digit', (_what, value) => {
    expect(refusal(name, value)).toContain('Name must contain at least one visible letter or digit');
  });

  it('a zero width space inside a name is refused (a twin of the name without it)', () => {
    expect(refusal(name, 'Al\u200Bice').join(' ')).toMatch(/invisible characters/);
  });

  it.each([
    ['Latin', 'Société Générale'],
    ['Japanese', '株式会社東京'],
    ['Cyrillic', 'Газпром'],
    ['Arabic', 'شركة الاتصالات'],
    ['Hebrew', 'בנק הפועלים'],
    ['Persian with a zero width non-joiner', 'می\u200Cخواهم'],
    ['Devanagari with its marks', 'हिन्दी'],
    ['digits only', '42'],
  ])('letters of every script are accepted: %s', (_what, value) => {
    expect(name.safeParse(value).success).toBe(true);
  });

  it('a free text need not hold a letter (a description of dashes)', () => {
    expect(free.safeParse('---').success).toBe(true);
  });
});
