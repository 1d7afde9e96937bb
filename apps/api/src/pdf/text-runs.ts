import type { PdfFont } from '@fabric/core/chargeback/pdf-document';
import { covers, type FontCatalogue, type FontFace } from './unicode-fonts';

/** A piece of a line drawn with one face, in visual (left-to-right) order. */
export interface TextRun {
  text: string;
  face: FontFace;
}

// Strong right-to-left letters: Hebrew, Arabic (with its supplements and presentation forms), Syriac, Thaana, NKo.
const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]/u;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const CONTROL = /[\p{Cc}]/gu;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** First-strong, left-to-right and right-to-left isolates (FSI, LRI, RLI) and their end (PDI). */
const ISOLATE_START = new Set(['\u2068', '\u2066', '\u2067']);
const ISOLATE_END = '\u2069';
/** Bidi controls shape the order but are not drawn (LRM, RLM, ALM, embeddings, overrides, isolates). */
const BIDI_CONTROL = /^[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]$/u;

type Kind = 'L' | 'R' | 'EN' | 'N';

function kindOf(ch: string): Kind {
  if (RTL.test(ch)) return 'R';
  if (LETTER.test(ch)) return 'L';
  if (DIGIT.test(ch)) return 'EN';
  return 'N';
}

/**
 * Embedding levels of a single line, a reduced Unicode Bidirectional
 * Algorithm (UAX #9) for names: the paragraph takes the direction of its
 * first strong letter (P2–P3); digits after right-to-left letters stay
 * left-to-right inside them (W2, I2); neutrals between letters of one
 * direction take it, others the paragraph's (N1–N2). No explicit embeddings,
 * no mirrored brackets: names do not carry them.
 */
export function bidiLevels(chars: string[]): number[] {
  const kinds = chars.map(kindOf);
  const base = kinds.find((k) => k === 'L' || k === 'R') === 'R' ? 1 : 0;
  let lastStrong: 'L' | 'R' = base === 1 ? 'R' : 'L';
  const resolved: Array<'L' | 'R' | 'EN' | 'N'> = kinds.map((k) => {
    if (k === 'L' || k === 'R') lastStrong = k;
    // W2/W7: a digit after L (or at the start of an LTR line) is simply L.
    if (k === 'EN' && lastStrong === 'L') return 'L';
    return k;
  });
  // N1/N2: a run of neutrals between the same direction takes it (digits count as R here), else the base.
  for (let i = 0; i < resolved.length; ) {
    if (resolved[i] !== 'N') {
      i++;
      continue;
    }
    let j = i;
    while (j < resolved.length && resolved[j] === 'N') j++;
    const dir = (k: Kind | undefined) => (k === 'EN' ? 'R' : k);
    const before = i === 0 ? (base ? 'R' : 'L') : dir(resolved[i - 1]);
    const after = j === resolved.length ? (base ? 'R' : 'L') : dir(resolved[j]);
    const fill: Kind = before === after && before ? (before as Kind) : base ? 'R' : 'L';
    for (let k = i; k < j; k++) resolved[k] = fill;
    i = j;
  }
  // I1/I2.
  return resolved.map((k) => {
    if (base === 0) return k === 'L' ? 0 : k === 'R' ? 1 : 2;
    return k === 'R' ? 1 : 2;
  });
}

/**
 * Levels with isolates: a span from FSI/LRI/RLI to its PDI counts as one
 * neutral in the text around it, and its inside is laid out on its own (its
 * own first strong letter decides), one level up when its direction differs.
 * The layout isolates interpolated names, so an Arabic tenant name does not
 * pull the dates after it into right-to-left order.
 */
export function isolatedLevels(chars: string[]): number[] {
  const outer: string[] = [];
  const spans: Array<{ start: number; end: number; at: number }> = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (!ISOLATE_START.has(ch)) {
      outer.push(ch);
      continue;
    }
    let depth = 1;
    let end = i + 1;
    for (; end < chars.length && depth > 0; end++) {
      if (ISOLATE_START.has(chars[end] ?? '')) depth++;
      else if (chars[end] === ISOLATE_END) depth--;
    }
    // `end` is one past the PDI (or the end of the text when it has none).
    spans.push({ start: i, end, at: outer.length });
    outer.push(ch);
    i = end - 1;
  }
  const outerLevels = bidiLevels(outer);
  const levels: number[] = [];
  let o = 0;
  for (let i = 0; i < chars.length; ) {
    const span = spans.find((s) => s.start === i);
    const at = outerLevels[o++] ?? 0;
    if (!span) {
      levels.push(at);
      i++;
      continue;
    }
    const closed = chars[span.end - 1] === ISOLATE_END && span.end - 1 > span.start;
    const inner = chars.slice(span.start + 1, closed ? span.end - 1 : span.end);
    const innerLevels = isolatedLevels(inner);
    const innerBase = inner.map(kindOf).find((k) => k === 'L' || k === 'R') === 'R' ? 1 : 0;
    const base = at % 2 === innerBase ? at : at + 1;
    levels.push(at, ...innerLevels.map((l) => l - innerBase + base));
    if (closed) levels.push(at);
    i = span.end;
  }
  return levels;
}

/** UAX #9 L2: from the highest level down to the lowest odd one, reverse every run at that level or above. */
export function visualOrder<T>(items: T[], levels: number[]): T[] {
  const order = items.map((_, i) => i);
  const max = Math.max(0, ...levels);
  const minOdd = Math.min(...levels.filter((l) => l % 2 === 1), max + 1);
  const lv = [...levels];
  for (let level = max; level >= minOdd; level--) {
    for (let i = 0; i < order.length; ) {
      if ((lv[i] ?? 0) < level) {
        i++;
        continue;
      }
      let j = i;
      while (j < order.length && (lv[j] ?? 0) >= level) j++;
      order.splice(i, j - i, ...order.slice(i, j).reverse());
      lv.splice(i, j - i, ...lv.slice(i, j).reverse());
      i = j;
    }
  }
  return order.map((i) => items[i] as T);
}

/**
 * A line of text as runs of one face each, in the order they are drawn left
 * to right. Neutrals (spaces, punctuation) stay in the face of the run they
 * sit in when it has them, so a name is not cut into more fonts than needed.
 * A right-to-left run holds its letters in logical order: the shaper (fontkit)
 * joins them and lays them right to left. Controls print as spaces.
 */
export function textRuns(text: string, font: PdfFont, fonts: FontCatalogue): TextRun[] {
  // Most of a bill is ASCII (numbers, units, labels): one run in the Latin face, no bidi to resolve.
  if (PRINTABLE_ASCII.test(text)) return text ? [{ text, face: fonts.primary(font) }] : [];
  const chars = [...text.replace(CONTROL, ' ')];
  if (chars.length === 0) return [];
  const levels = isolatedLevels(chars);
  // Logical runs: same face, same level.
  const logical: Array<{ chars: string[]; face: FontFace; level: number }> = [];
  for (const [i, ch] of chars.entries()) {
    if (BIDI_CONTROL.test(ch)) continue;
    const cp = ch.codePointAt(0) ?? 0x3f;
    const level = levels[i] ?? 0;
    const last = logical.at(-1);
    const own = fonts.faceFor(cp, font) ?? fonts.primary(font);
    const neutral = kindOf(ch) === 'N';
    const face = neutral && last && last.level === level && covers(last.face, cp) ? last.face : own;
    if (last && last.face === face && last.level === level) last.chars.push(ch);
    else logical.push({ chars: [ch], face, level });
  }
  return visualOrder(
    logical,
    logical.map((r) => r.level),
  ).map((run) => ({
    // An odd-level run in a left-to-right face (a space or a dash between Arabic words) is reversed here;
    // an RTL face's run is reversed by the shaper.
    text: run.level % 2 === 1 && !run.face.rtl ? [...run.chars].reverse().join('') : run.chars.join(''),
    face: run.face,
  }));
}
