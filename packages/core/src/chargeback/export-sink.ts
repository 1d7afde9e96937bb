import type { ExportChunk } from './bill-export';
import type { BillExportFormat } from './bill-export.schema';

/**
 * Where an export file goes: the transport's side of a download. Nothing is
 * sent before `open`, so a refusal or an error before the first bill is still
 * a status and a message; after it, a failure can only cut the file short.
 */
export interface ExportSink {
  /** Called once, right before the first byte: the transport sends its headers. */
  open(file: { name: string; format: BillExportFormat }): void;
  write(chunk: ExportChunk): void;
  /** Resolves once the client has taken what was written, so a slow client paces the export. */
  drained(): Promise<void>;
}
