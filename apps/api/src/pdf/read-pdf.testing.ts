import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { TextItem } from 'pdfjs-dist/types/src/display/api';

/** What a reader gets out of one of our PDFs, read with Mozilla's PDF.js (what Firefox shows and copies). */
export interface PdfText {
  version: string;
  pageCount: number;
  /** Every drawn text (pieces on one baseline that touch, as one), each page top to bottom, left to right. */
  texts: string[];
  /** The same, per page. */
  pages: string[][];
}

// U+034F marks the Arabic dot glyphs (see pdfkit-renderer.ts): invisible, dropped like a reader's search does.
const JOINER = /\u034f/g;

/**
 * Reads a PDF through PDF.js: the text comes back through each embedded
 * font's ToUnicode map, so a name that prints as boxes or '?' does not read
 * back as itself. Pieces of one drawn text (a name in two fonts) are joined,
 * with a space where the gap is one; an RTL piece comes back in reading order.
 */
export async function readPdf(bytes: Uint8Array): Promise<PdfText> {
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
  const version = /^%PDF-(\d\.\d)/.exec(header)?.[1];
  if (!version) throw new Error('no %PDF- header');
  // PDF.js takes the buffer over: give it a copy.
  const pdf = await getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
  const pages: string[][] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    const items = content.items
      .filter((i): i is TextItem => 'str' in i && i.str.replace(JOINER, '').trim() !== '')
      .map((i) => ({
        text: i.str.replace(JOINER, ''),
        x: i.transform[4] ?? 0,
        y: i.transform[5] ?? 0,
        width: i.width,
        size: Math.hypot(i.transform[2] ?? 0, i.transform[3] ?? 0),
      }))
      // Top to bottom, then left to right; a raised mark's item sits within 3 pt of its line.
      .sort((a, b) => (Math.abs(a.y - b.y) > 3 ? b.y - a.y : a.x - b.x));
    const texts: Array<{ text: string; y: number; end: number; size: number }> = [];
    for (const item of items) {
      const last = texts.at(-1);
      const gap = last ? item.x - last.end : Number.POSITIVE_INFINITY;
      if (last && Math.abs(last.y - item.y) <= 3 && gap < 0.75 * item.size) {
        last.text += (gap > 0.1 * item.size && !last.text.endsWith(' ') ? ' ' : '') + item.text;
        last.end = Math.max(last.end, item.x + item.width);
      } else texts.push({ text: item.text, y: item.y, end: item.x + item.width, size: item.size });
    }
    pages.push(texts.map((t) => t.text.trim()));
  }
  await pdf.destroy();
  return { version, pageCount: pdf.numPages, texts: pages.flat(), pages };
}
