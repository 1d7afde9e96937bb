import { describe, expect, it } from 'vitest';
import { bidiLevels, isolatedLevels, textRuns, visualOrder } from './text-runs';
import { FontCatalogue } from './unicode-fonts';

const fonts = new FontCatalogue();
/** The runs left to right; a right-to-left run holds its letters in reading order (the shaper lays them out). */
const visual = (text: string) =>
  textRuns(text, 'regular', fonts)
    .map((r) => r.text)
    .join('');

describe('bidi levels (UAX #9, reduced)', () => {
  it.each([
    ['abc', [0, 0, 0]],
    ['אב', [1, 1]],
    ['a אב b', [0, 0, 1, 1, 0, 0]],
    ['אב 12', [1, 1, 1, 2, 2]],
    ['a 12', [0, 0, 0, 0]],
  ])('%j → %j', (text, levels) => {
    expect(bidiLevels([...text])).toEqual(levels);
  });

  it('an isolate is one neutral outside and its own paragraph inside', () => {
    // "a ⁨אב⁩ 1": without the isolate the digit would follow the Hebrew; with it, it stays left to right.
    expect(isolatedLevels([...'a \u2068אב\u2069 1'])).toEqual([0, 0, 0, 1, 1, 0, 0, 0]);
  });

  it('reverses every run from the highest level down (L2)', () => {
    expect(visualOrder([...'abcde'], [0, 1, 1, 2, 2]).join('')).toBe('adecb');
  });
});

describe('text runs', () => {
  it('draws Latin, Cyrillic and Greek in Noto Sans, kanji in Noto Sans JP, Arabic in Noto Sans Arabic', () => {
    const faces = (text: string) => textRuns(text, 'regular', fonts).map((r) => r.face.key.replace(/-\d+-normal$/, ''));
    expect(faces('Société Générale')).toEqual(['noto-sans-latin']);
    expect(faces('Łódź')).toEqual(['noto-sans-latin-ext', 'noto-sans-latin', 'noto-sans-latin-ext']);
    expect(faces('Газпром')).toEqual(['noto-sans-cyrillic']);
    expect(faces('Αθήνα')).toEqual(['noto-sans-greek']);
    expect(faces('株式会社')).toEqual(['noto-sans-jp-117']);
    expect(faces('شركة')).toEqual(['noto-sans-arabic-arabic']);
  });

  it('lays out right-to-left words right to left, digits and Latin inside them left to right', () => {
    expect(visual('شركة النور')).toBe('النور شركة');
    expect(visual('Blue شركة النور 2024 Corp')).toBe('Blue 2024 النور شركة Corp');
    expect(visual('Fabric · \u2068شركة النور\u2069 · 2026-11-01')).toBe('Fabric · النور شركة · 2026-11-01');
  });

  it('draws controls as spaces and bidi controls not at all', () => {
    expect(visual('a\tb\u2068c\u2069')).toBe('a bc');
  });
});
