import { describe, expect, it } from 'vitest';
import { slugify } from './slug';

describe('slugify', () => {
  it.each([
    ['Blue Corp', 'blue-corp'],
    ['Yellow Corp', 'yellow-corp'],
    ['ACME, Inc.', 'acme-inc'],
    ['  --Hello__World--  ', 'hello-world'],
    ['Café Zürich', 'cafe-zurich'],
    ['Ångström Labs', 'angstrom-labs'],
    ['ﬁnance Team', 'finance-team'], // NFKD unfolds the ligature
    ['R2-D2 & C-3PO', 'r2-d2-c-3po'],
    ['2024', '2024'],
    ['!!!', ''],
    ['東京', ''],
    ['', ''],
  ])('%j → %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it('names differing only in case or punctuation share a slug (so they collide)', () => {
    expect(new Set(['Blue Corp', 'blue corp', 'BLUE-CORP', 'Blue  Corp!'].map(slugify))).toEqual(
      new Set(['blue-corp']),
    );
  });

  it.each([
    ['a long name', 'x'.repeat(100)],
    ['a cut that lands on a separator', `${'a'.repeat(59)} tail`],
    ['a cut inside a run of separators', `${'a'.repeat(58)} -- tail`],
  ])('keeps %s to at most 60 characters with no dangling hyphen', (_, name) => {
    const slug = slugify(name);
    expect(slug.length).toBeLessThanOrEqual(60);
    expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('is idempotent', () => {
    for (const name of ['Blue Corp', 'Café Zürich', `${'a'.repeat(59)} tail`]) {
      expect(slugify(slugify(name))).toBe(slugify(name));
    }
  });
});
