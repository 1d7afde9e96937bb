/**
 * A small PDF 1.4 writer: the two standard Helvetica fonts (no embedding),
 * WinAnsi text, lines and filled rectangles, uncompressed content streams.
 * It writes each page as soon as it is added, tracking byte offsets for the
 * cross-reference table, so a long document streams instead of being built
 * in memory. Every byte it emits is ASCII (text outside it is escaped as
 * octal), so a chunk's string length is its byte length.
 */

export type PdfFont = 'regular' | 'bold';

const FONT_NAME: Record<PdfFont, string> = { regular: 'F1', bold: 'F2' };

/** A4 portrait, in points. */
export const PAGE_WIDTH = 595.28;
export const PAGE_HEIGHT = 841.89;

// Advance widths (1/1000 em) of Helvetica and Helvetica-Bold for codes 32–126,
// from the Adobe Core 14 AFM files. Other codes use DEFAULT_WIDTH: they are
// only used to right-align and shorten text, never to place glyphs.
// biome-ignore format: one row per 16 codes reads like the AFM table
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
// biome-ignore format: one row per 16 codes reads like the AFM table
const HELVETICA_BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
  975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
  333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
  611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];
const DEFAULT_WIDTH = 556;

/** WinAnsiEncoding's codes 128–159 (the rest of 160–255 is Latin-1). */
const WIN_ANSI_HIGH: Record<string, number> = {
  '€': 0x80,
  '‚': 0x82,
  ƒ: 0x83,
  '„': 0x84,
  '…': 0x85,
  '†': 0x86,
  '‡': 0x87,
  ˆ: 0x88,
  '‰': 0x89,
  Š: 0x8a,
  '‹': 0x8b,
  Œ: 0x8c,
  Ž: 0x8e,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
  '˜': 0x98,
  '™': 0x99,
  š: 0x9a,
  '›': 0x9b,
  œ: 0x9c,
  ž: 0x9e,
  Ÿ: 0x9f,
};

/** The WinAnsi codes of a string: controls (tab, CR, LF…) become spaces, what it cannot show becomes '?'. */
export function winAnsiCodes(text: string): number[] {
  const codes: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0x3f;
    if (cp < 0x20 || cp === 0x7f) codes.push(0x20);
    else if (cp < 0x7f || (cp >= 0xa0 && cp <= 0xff)) codes.push(cp);
    else codes.push(WIN_ANSI_HIGH[ch] ?? 0x3f);
  }
  return codes;
}

/** A PDF literal string: ( ) and \ escaped, everything outside printable ASCII as \ooo. */
export function pdfString(text: string): string {
  let out = '(';
  for (const code of winAnsiCodes(text)) {
    if (code === 0x28 || code === 0x29 || code === 0x5c) out += `\\${String.fromCharCode(code)}`;
    else if (code >= 0x20 && code < 0x7f) out += String.fromCharCode(code);
    else out += `\\${code.toString(8).padStart(3, '0')}`;
  }
  return `${out})`;
}

export function textWidth(text: string, font: PdfFont, size: number): number {
  const table = font === 'bold' ? HELVETICA_BOLD : HELVETICA;
  let units = 0;
  for (const code of winAnsiCodes(text))
    units += (code >= 32 && code <= 126 ? table[code - 32] : undefined) ?? DEFAULT_WIDTH;
  return (units * size) / 1000;
}

/** The text, shortened with an ellipsis until it fits `width`. */
export function fitText(text: string, font: PdfFont, size: number, width: number): string {
  if (textWidth(text, font, size) <= width) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(`${chars.join('')}…`, font, size) > width) chars.pop();
  return `${chars.join('')}…`;
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** Builds one page's content stream. Coordinates are points from the bottom left. */
export class PdfPage {
  private ops: string[] = [];

  text(
    x: number,
    y: number,
    text: string,
    opts: { font?: PdfFont; size?: number; gray?: number; align?: 'left' | 'right' } = {},
  ): this {
    const font = opts.font ?? 'regular';
    const size = opts.size ?? 9;
    const left = opts.align === 'right' ? x - textWidth(text, font, size) : x;
    this.ops.push(
      `BT ${num(opts.gray ?? 0)} g /${FONT_NAME[font]} ${num(size)} Tf ${num(left)} ${num(y)} Td ${pdfString(text)} Tj ET`,
    );
    return this;
  }

  line(x1: number, y1: number, x2: number, y2: number, opts: { gray?: number; width?: number } = {}): this {
    this.ops.push(
      `${num(opts.gray ?? 0)} G ${num(opts.width ?? 0.5)} w ${num(x1)} ${num(y1)} m ${num(x2)} ${num(y2)} l S`,
    );
    return this;
  }

  fillRect(x: number, y: number, width: number, height: number, gray: number): this {
    this.ops.push(`${num(gray)} g ${num(x)} ${num(y)} ${num(width)} ${num(height)} re f`);
    return this;
  }

  content(): string {
    return this.ops.join('\n');
  }
}

/**
 * Writes a PDF as it goes: header and fonts at once, each page when added,
 * the page tree, catalog, info and cross-reference table at `end`. Object
 * numbers: 1 catalog, 2 page tree, 3–4 fonts, then pages (content, page).
 */
export class PdfWriter {
  private position = 0;
  private readonly offsets = new Map<number, number>();
  private readonly pageIds: number[] = [];
  private nextId = 5;
  private ended = false;

  constructor(private readonly emit: (chunk: string) => void) {
    this.write('%PDF-1.4\n');
    this.object(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
    this.object(4, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  }

  get pageCount(): number {
    return this.pageIds.length;
  }

  addPage(page: PdfPage): void {
    const content = page.content();
    const contentId = this.nextId++;
    const pageId = this.nextId++;
    this.object(contentId, `<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    this.object(
      pageId,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] ` +
        `/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${contentId} 0 R >>`,
    );
    this.pageIds.push(pageId);
  }

  end(info: { title: string }): void {
    if (this.ended) throw new Error('PDF already ended');
    this.ended = true;
    const kids = this.pageIds.map((id) => `${id} 0 R`).join(' ');
    this.object(2, `<< /Type /Pages /Kids [${kids}] /Count ${this.pageIds.length} >>`);
    this.object(1, '<< /Type /Catalog /Pages 2 0 R >>');
    const infoId = this.nextId++;
    this.object(infoId, `<< /Title ${pdfString(info.title)} /Producer (Fabric) /Creator (Fabric) >>`);
    const xrefAt = this.position;
    let xref = `xref\n0 ${infoId + 1}\n0000000000 65535 f \n`;
    for (let id = 1; id <= infoId; id++) {
      xref += `${String(this.offsets.get(id) ?? 0).padStart(10, '0')} 00000 n \n`;
    }
    this.write(xref);
    this.write(`trailer\n<< /Size ${infoId + 1} /Root 1 0 R /Info ${infoId} 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`);
  }

  private object(id: number, body: string): void {
    this.offsets.set(id, this.position);
    this.write(`${id} 0 obj\n${body}\nendobj\n`);
  }

  private write(chunk: string): void {
    this.position += chunk.length;
    this.emit(chunk);
  }
}
