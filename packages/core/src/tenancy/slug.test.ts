import { describe, expect, it } from 'vitest';
import { nameKey, slugify } from './slug';

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
    ['Straße Æon Øre Łódź', 'strasse-aeon-ore-lodz'],
    ['!!!', ''],
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

  it.each([
    ['Japanese', '東京', /^[a-z2-7]{8}$/],
    ['Korean', '삼성전자', /^[a-z2-7]{8}$/],
    ['Arabic', 'شركة النور', /^[a-z2-7]{8}$/],
    ['Cyrillic', 'Газпром', /^gazprom-[a-z2-7]{8}$/],
    ['Greek', 'Αθήνα', /^athina-[a-z2-7]{8}$/],
    ['Latin and Japanese', 'Société Générale 株式会社', /^societe-generale-[a-z2-7]{8}$/],
  ])('gives a %s name a usable slug: what transliterates, and a suffix from the name', (_, name, slug) => {
    expect(slugify(name)).toMatch(slug);
    expect(slugify(name)).toBe(slugify(name));
  });

  it('keeps names in other scripts apart, from each other and from their transliteration', () => {
    const names = ['東京', '大阪', '東京都', 'Газпром', 'Gazprom', 'Société Générale', 'Société Générale 株式会社'];
    expect(new Set(names.map(slugify)).size).toBe(names.length);
  });

  it('makes names in any script that differ only in case or punctuation collide, as Latin ones do', () => {
    expect(slugify('МОСКВА')).toBe(slugify('Москва!'));
    expect(slugify('ΑΘΉΝΑ')).toBe(slugify('Αθήνα'));
    expect(slugify('東京 (本社)')).toBe(slugify('東京・本社'));
    expect(nameKey('東京 (本社)')).toBe('東京-本社');
  });

  it('keeps a long name in another script within 60 characters', () => {
    const slug = slugify(`${'a'.repeat(100)} 東京`);
    expect(slug.length).toBeLessThanOrEqual(60);
    expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('is idempotent', () => {
    for (const name of ['Blue Corp', 'Café Zürich', `${'a'.repeat(59)} tail`]) {
      expect(slugify(slugify(name))).toBe(slugify(name));
    }
  });
});
