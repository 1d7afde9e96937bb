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
