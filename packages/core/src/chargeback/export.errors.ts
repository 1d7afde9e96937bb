import { CoreError } from '../shared/errors';

export type ExportErrorCode = 'EXPORT_FORBIDDEN' | 'EXPORT_INVALID_INPUT' | 'EXPORT_NOT_FOUND';

/** A bill or invoice export refused before its first byte (afterwards a failure cuts the file instead). */
export class ExportError extends CoreError<ExportErrorCode> {
  readonly module = 'exports';
}
