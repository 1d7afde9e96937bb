/**
 * The PDF port: bill layouts draw on pages of this display list and hand them
 * to a `PdfDocument`, which turns them into bytes. The renderer (fonts, glyph
 * shaping, the file format) is infrastructure and lives in apps/api; core only
 * decides what goes where, so its layouts stay pure and testable.
 */

export type PdfFont = 'regular' | 'bold';

/** A4 portrait, in points. */
export const PAGE_WIDTH = 595.28;
export const PAGE_HEIGHT = 841.89;

/** Coordinates are points from the bottom left; `y` of a text is its baseline. Gray: 0 black, 1 white. */
export type PdfOp =
  | { kind: 'text'; x: number; y: number; text: string; font: PdfFont; size: number; gray: number }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; gray: number; width: number }
  | { kind: 'rect'; x: number; y: number; width: number; height: number; gray: number };

/** How wide a text is in the renderer's fonts, in points. */
export type MeasureText = (text: string, font: PdfFont, size: number) => number;

/** One document being written: pages go out as they are added. */
export interface PdfDocument {
  readonly measure: MeasureText;
  readonly pageCount: number;
  addPage(page: PdfPage): void;
  /** Writes what remains (fonts, page tree, trailer); the document is complete once it returns. */
  end(info: { title: string }): void;
}

/** Starts documents whose bytes go to `emit` (synchronously, in order). */
export interface PdfRenderer {
  open(emit: (chunk: Uint8Array) => void): PdfDocument;
}

/** Builds one page's drawing operations, measuring text with the document's fonts to align it. */
export class PdfPage {
  readonly ops: PdfOp[] = [];

  constructor(readonly measure: MeasureText) {}

  text(
    x: number,
    y: number,
    text: string,
    opts: { font?: PdfFont; size?: number; gray?: number; align?: 'left' | 'right' } = {},
  ): this {
    const font = opts.font ?? 'regular';
    const size = opts.size ?? 9;
    const left = opts.align === 'right' ? x - this.measure(text, font, size) : x;
    this.ops.push({ kind: 'text', x: left, y, text, font, size, gray: opts.gray ?? 0 });
    return this;
  }

  line(x1: number, y1: number, x2: number, y2: number, opts: { gray?: number; width?: number } = {}): this {
    this.ops.push({ kind: 'line', x1, y1, x2, y2, gray: opts.gray ?? 0, width: opts.width ?? 0.5 });
    return this;
  }

  fillRect(x: number, y: number, width: number, height: number, gray: number): this {
    this.ops.push({ kind: 'rect', x, y, width, height, gray });
    return this;
  }
}

/** The text, shortened with an ellipsis until it fits `width` (by code point, so no surrogate pair is split). */
export function fitText(measure: MeasureText, text: string, font: PdfFont, size: number, width: number): string {
  if (measure(text, font, size) <= width) return text;
  const chars = [...text];
  while (chars.length > 0 && measure(`${chars.join('')}…`, font, size) > width) chars.pop();
  return `${chars.join('')}…`;
}
