import type { BillDocument } from './bill-document';
import type { BillExportFormat } from './bill-export.schema';
import { billCsvHeader, billCsvRows } from './invoice-csv';
import { BillTotals, billJsonClose, billJsonOpen, billJsonPart } from './invoice-json';
import { BillPdf } from './invoice-pdf';
import type { PdfRenderer } from './pdf-document';

export const BILL_CONTENT_TYPES: Record<BillExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  pdf: 'application/pdf',
};

/** A part of an export file: text for CSV and JSON, bytes for PDF. */
export type ExportChunk = string | Uint8Array;

/** Writes one export file a bill at a time; `emit` gets each part as soon as it is rendered. */
export interface BillWriter {
  add(doc: BillDocument): void;
  end(): void;
  /** Tenants written so far and the exact sum of their totals. */
  readonly totals: BillTotals;
}

export function createBillWriter(
  format: BillExportFormat,
  emit: (chunk: ExportChunk) => void,
  meta: { period: { from: string; to: string }; title: string },
  pdfRenderer: PdfRenderer,
): BillWriter {
  const totals = new BillTotals();
  switch (format) {
    case 'csv':
      emit(billCsvHeader());
      return {
        totals,
        add(doc) {
          emit(billCsvRows(doc));
          totals.add(doc);
        },
        end() {},
      };
    case 'json':
      emit(billJsonOpen(meta.period));
      return {
        totals,
        add(doc) {
          emit(billJsonPart(doc, totals.tenants));
          totals.add(doc);
        },
        end() {
          emit(billJsonClose(totals));
        },
      };
    case 'pdf': {
      const pdf = new BillPdf(pdfRenderer, emit);
      return {
        totals,
        add(doc) {
          pdf.add(doc);
          totals.add(doc);
        },
        end() {
          pdf.end(meta.title);
        },
      };
    }
  }
}
