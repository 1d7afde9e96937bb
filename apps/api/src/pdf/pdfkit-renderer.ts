import {
  PAGE_HEIGHT,
  PAGE_WIDTH,
  type PdfDocument,
  type PdfFont,
  type PdfPage,
  type PdfRenderer,
} from '@fabric/core/chargeback/pdf-document';
import PDFDocument from 'pdfkit';
import { type TextRun, textRuns } from './text-runs';
import { FontCatalogue, type FontFace } from './unicode-fonts';

/** What pdfkit's font objects hold that this file reaches: fontkit's layout, to fix one ToUnicode gap. */
interface FontkitLayout {
  layout(...args: unknown[]): { glyphs: Array<{ codePoints: number[] }> };
}

/**
 * Shaped scripts (Noto Sans Arabic) draw some letters as a dotless base plus
 * dot marks; fontkit gives a mark no code point, pdfkit then writes an empty
 * ToUnicode entry and text extraction (copy, search, screen readers) shows the
 * glyph's number instead. The base keeps the letter; the mark becomes U+034F
 * COMBINING GRAPHEME JOINER, invisible and ignored by search and collation.
 */
function markGlyphsAsJoiners(font: FontkitLayout): void {
  const layout = font.layout.bind(font);
  font.layout = (...args: unknown[]) => {
    const run = layout(...args);
    for (const glyph of run.glyphs) if (glyph.codePoints.length === 0) glyph.codePoints = [0x034f];
    return run;
  };
}

/**
 * Bills as PDF through pdfkit, with the Noto fonts embedded (subset to the
 * glyphs used), so names print in any script the catalogue covers. Pages are
 * read out of pdfkit as soon as it writes them; fonts, which pdfkit subsets
 * once it knows every glyph, go out at `end`.
 */
export class PdfkitRenderer implements PdfRenderer {
  private readonly fonts = new FontCatalogue();

  open(emit: (chunk: Uint8Array) => void): PdfDocument {
    return new PdfkitDocument(this.fonts, emit);
  }
}

class PdfkitDocument implements PdfDocument {
  private readonly doc = new PDFDocument({
    size: [PAGE_WIDTH, PAGE_HEIGHT],
    margin: 0,
    autoFirstPage: false,
    info: { Producer: 'Fabric', Creator: 'Fabric' },
  });
  private readonly registered = new Set<string>();
  private readonly runCache = new Map<string, TextRun[]>();
  private readonly widthCache = new Map<string, number>();
  /** The face and size pdfkit has selected (it keeps one current font). */
  private current: { face: FontFace | null; size: number } = { face: null, size: 0 };
  private pages = 0;

  constructor(
    private readonly fonts: FontCatalogue,
    private readonly emit: (chunk: Uint8Array) => void,
  ) {}

  get pageCount(): number {
    return this.pages;
  }

  readonly measure = (text: string, font: PdfFont, size: number): number => {
    const key = `${font}\u0000${size}\u0000${text}`;
    let width = this.widthCache.get(key);
    if (width === undefined) {
      width = 0;
      for (const run of this.runs(text, font)) width += this.use(run.face, size).widthOfString(run.text);
      // Bounded like the runs: labels, units and amounts repeat, names mostly do not.
      if (this.widthCache.size >= 10_000) this.widthCache.clear();
      this.widthCache.set(key, width);
    }
    return width;
  };

  addPage(page: PdfPage): void {
    const doc = this.doc.addPage({ size: [PAGE_WIDTH, PAGE_HEIGHT], margin: 0 });
    for (const op of page.ops) {
      if (op.kind === 'text') {
        doc.fillColor(gray(op.gray));
        let x = op.x;
        const runs = this.runs(op.text, op.font);
        for (const [i, run] of runs.entries()) {
          this.use(run.face, op.size);
          // pdfkit's y is from the top; 'alphabetic' puts the baseline there, as the layout means it.
          doc.text(run.text, x, PAGE_HEIGHT - op.y, { lineBreak: false, baseline: 'alphabetic' });
          if (i < runs.length - 1) x += doc.widthOfString(run.text);
        }
      } else if (op.kind === 'line') {
        doc
          .moveTo(op.x1, PAGE_HEIGHT - op.y1)
          .lineTo(op.x2, PAGE_HEIGHT - op.y2)
          .lineWidth(op.width)
          .strokeColor(gray(op.gray))
          .stroke();
      } else {
        doc
          .rect(op.x, PAGE_HEIGHT - op.y - op.height, op.width, op.height)
          .fillColor(gray(op.gray))
          .fill();
      }
    }
    this.pages++;
    this.flush();
  }

  end(info: { title: string }): void {
    this.doc.info.Title = info.title;
    this.doc.end();
    this.flush();
  }

  /** A text's runs, remembered: a bill repeats its labels, units and amounts on every page. */
  private runs(text: string, font: PdfFont): TextRun[] {
    const key = `${font}\u0000${text}`;
    let runs = this.runCache.get(key);
    if (!runs) {
      // Bounded: an all-tenant file's names and amounts are mostly seen once.
      if (this.runCache.size >= 10_000) this.runCache.clear();
      runs = textRuns(text, font, this.fonts);
      this.runCache.set(key, runs);
    }
    return runs;
  }

  /** Selects a face and size (registering the face with this document the first time) and returns the document. */
  private use(face: FontFace, size: number): PDFKit.PDFDocument {
    if (this.current.face === face && this.current.size === size) return this.doc;
    if (!this.registered.has(face.key)) {
      this.doc.registerFont(face.key, this.fonts.fileOf(face));
      this.registered.add(face.key);
      this.doc.font(face.key);
      const embedded = (this.doc as unknown as { _font?: { font?: FontkitLayout } })._font?.font;
      if (face.rtl && embedded) markGlyphsAsJoiners(embedded);
    } else if (this.current.face !== face) {
      this.doc.font(face.key);
    }
    this.doc.fontSize(size);
    this.current = { face, size };
    return this.doc;
  }

  /** pdfkit is a readable stream that buffers what it writes: take it out now, so bytes leave in order as pages are done. */
  private flush(): void {
    for (let chunk: Buffer | null = this.doc.read(); chunk !== null; chunk = this.doc.read()) this.emit(chunk);
  }
}

/** 0 black … 1 white, as pdfkit's hex colour. */
function gray(level: number): string {
  const byte = Math.round(Math.min(1, Math.max(0, level)) * 255)
    .toString(16)
    .padStart(2, '0');
  return `#${byte}${byte}${byte}`;
}
