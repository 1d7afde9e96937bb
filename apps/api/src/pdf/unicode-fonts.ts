import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import type { PdfFont } from '@fabric/core/chargeback/pdf-document';

/**
 * The fonts bills are printed in, from the @fontsource packages: Noto Sans
 * (Latin, Cyrillic, Greek, Vietnamese), Noto Sans Arabic, and Noto Sans JP,
 * KR and SC for Chinese, Japanese and Korean. Fontsource ships
 * each font cut into unicode-range subsets; a code point is drawn with the
 * first subset whose range holds it, in the order below (Latin first, so
 * digits and punctuation look alike everywhere). The WOFF (1) files are used,
 * unpacked once to plain TrueType (`woffToSfnt`): fontkit's subsetter
 * mis-writes composite glyphs (é, ö…) read from WOFF2 ("Offset is outside the
 * bounds of the DataView"), and it re-inflates a WOFF table, in JavaScript, on
 * every glyph it reads (a 2-line bill took 100 ms of CPU). pdfkit embeds only
 * the glyphs a document uses, so none of this shows in the PDF's size.
 */

export interface FontFace {
  /** Unique per file: the name the document registers it under. */
  key: string;
  file: string;
  /** Inclusive code point ranges, sorted. */
  ranges: Array<[number, number]>;
  /** Right-to-left script: its runs are shaped as one and laid right to left. */
  rtl: boolean;
}

const WEIGHT: Record<PdfFont, number> = { regular: 400, bold: 700 };

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  // The packages export only their CSS and files; LICENSE is exported and sits at the root.
  return path.dirname(require.resolve(`${name}/LICENSE`));
}

/** "U+0000-00FF,U+0131" → [[0, 255], [305, 305]]. */
export function parseUnicodeRange(range: string): Array<[number, number]> {
  return range
    .split(',')
    .map((part) => part.trim().replace(/^U\+/i, ''))
    .filter(Boolean)
    .map((part): [number, number] => {
      const [lo = '0', hi] = part.split('-');
      return [Number.parseInt(lo, 16), Number.parseInt(hi ?? lo, 16)];
    })
    .sort((a, b) => a[0] - b[0]);
}

/** Package, subsets in order of preference (undefined: every subset its unicode.json lists, in its order). */
const SOURCES: Array<{ pkg: string; prefix: string; subsets?: string[]; rtl: boolean }> = [
  {
    pkg: '@fontsource/noto-sans',
    prefix: 'noto-sans',
    subsets: ['latin', 'latin-ext', 'cyrillic', 'cyrillic-ext', 'greek', 'greek-ext', 'vietnamese'],
    rtl: false,
  },
  { pkg: '@fontsource/noto-sans-arabic', prefix: 'noto-sans-arabic', subsets: ['arabic'], rtl: true },
  // CJK: the numbered subsets ([0]…[119]) of each. Japanese first (kana, and kanji in their Japanese
  // forms), then Korean (all 11,172 Hangul syllables; Noto Sans SC has 80), then Simplified Chinese
  // for the hanzi neither has (银, 简…). Measured on their unicode.json: JP 12,747 of the 20,992 CJK
  // unified ideographs, SC 12,258, KR 4,620.
  { pkg: '@fontsource/noto-sans-jp', prefix: 'noto-sans-jp', rtl: false },
  { pkg: '@fontsource/noto-sans-kr', prefix: 'noto-sans-kr', rtl: false },
  { pkg: '@fontsource/noto-sans-sc', prefix: 'noto-sans-sc', rtl: false },
];

function loadFaces(font: PdfFont): FontFace[] {
  const faces: FontFace[] = [];
  for (const source of SOURCES) {
    const dir = packageDir(source.pkg);
    const unicode: Record<string, string> = JSON.parse(readFileSync(path.join(dir, 'unicode.json'), 'utf8'));
    const subsets = source.subsets ?? Object.keys(unicode).filter((s) => /^\[\d+\]$/.test(s));
    for (const subset of subsets) {
      const range = unicode[subset];
      if (!range) throw new Error(`${source.pkg} has no subset ${subset}`);
      const name = `${source.prefix}-${subset.replace(/[[\]]/g, '')}-${WEIGHT[font]}-normal`;
      faces.push({
        key: `${name}`,
        file: path.join(dir, 'files', `${name}.woff`),
        ranges: parseUnicodeRange(range),
        rtl: source.rtl,
      });
    }
  }
  return faces;
}

export function covers(face: FontFace, cp: number): boolean {
  let lo = 0;
  let hi = face.ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = face.ranges[mid];
    if (!range) return false;
    if (cp < range[0]) hi = mid - 1;
    else if (cp > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Which face draws a code point; built once per process (reads three small JSON files), font bytes read on first use. */
export class FontCatalogue {
  private readonly faces: Record<PdfFont, FontFace[]>;
  private readonly chosen: Record<PdfFont, Map<number, FontFace>> = { regular: new Map(), bold: new Map() };
  private readonly bytes = new Map<string, Buffer>();

  constructor() {
    this.faces = { regular: loadFaces('regular'), bold: loadFaces('bold') };
  }

  /** The primary face (Latin): draws what no face covers, as the font's missing-glyph box. */
  primary(font: PdfFont): FontFace {
    const face = this.faces[font][0];
    if (!face) throw new Error('no fonts');
    return face;
  }

  faceFor(cp: number, font: PdfFont): FontFace | undefined {
    const cache = this.chosen[font];
    if (cache.has(cp)) return cache.get(cp);
    const face = this.faces[font].find((f) => covers(f, cp));
    if (face) cache.set(cp, face);
    return face;
  }

  /** The font as TrueType bytes, read and unpacked once per process (a few of the 250 files are ever needed). */
  fileOf(face: FontFace): Buffer {
    let bytes = this.bytes.get(face.file);
    if (!bytes) {
      bytes = woffToSfnt(readFileSync(face.file));
      this.bytes.set(face.file, bytes);
    }
    return bytes;
  }
}

/**
 * A WOFF 1.0 file (W3C, 2012) as the TrueType/OpenType file it wraps: the same
 * tables, each inflated when stored compressed, behind a fresh sfnt directory.
 */
export function woffToSfnt(woff: Buffer): Buffer {
  if (woff.readUInt32BE(0) !== 0x774f4646) throw new Error('not a WOFF file');
  const flavor = woff.readUInt32BE(4);
  const numTables = woff.readUInt16BE(12);
  const tables: Array<{ tag: number; checksum: number; data: Buffer }> = [];
  for (let i = 0; i < numTables; i++) {
    const at = 44 + i * 20;
    const offset = woff.readUInt32BE(at + 4);
    const compLength = woff.readUInt32BE(at + 8);
    const origLength = woff.readUInt32BE(at + 12);
    const stored = woff.subarray(offset, offset + compLength);
    tables.push({
      tag: woff.readUInt32BE(at),
      checksum: woff.readUInt32BE(at + 16),
      data: compLength < origLength ? inflateSync(stored) : stored,
    });
  }
  const entrySelector = Math.floor(Math.log2(numTables));
  const searchRange = 2 ** entrySelector * 16;
  const pad = (n: number) => (n + 3) & ~3;
  let offset = 12 + numTables * 16;
  const out = Buffer.alloc(offset + tables.reduce((n, t) => n + pad(t.data.length), 0));
  out.writeUInt32BE(flavor, 0);
  out.writeUInt16BE(numTables, 4);
  out.writeUInt16BE(searchRange, 6);
  out.writeUInt16BE(entrySelector, 8);
  out.writeUInt16BE(numTables * 16 - searchRange, 10);
  for (const [i, table] of tables.entries()) {
    const at = 12 + i * 16;
    out.writeUInt32BE(table.tag, at);
    out.writeUInt32BE(table.checksum, at + 4);
    out.writeUInt32BE(offset, at + 8);
    out.writeUInt32BE(table.data.length, at + 12);
    table.data.copy(out, offset);
    offset += pad(table.data.length);
  }
  return out;
}
