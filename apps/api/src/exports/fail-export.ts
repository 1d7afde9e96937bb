import type { ServerResponse } from 'node:http';
import { CoreError } from '@fabric/core/shared/errors';
import { sendJson } from '../http/request';
import { CORE_ERROR_CODES, HTTP_STATUS, isCoreErrorCode } from '../trpc/error-map';

/**
 * An export that failed: before the headers, a status and a message (a core
 * error's own code); mid-stream the status is already 200, so the connection
 * is cut and the client sees an incomplete file, never a truncated "complete" one.
 */
export function failExport(res: ServerResponse, error: unknown, what: string): void {
  if (!res.headersSent) {
    if (error instanceof CoreError && isCoreErrorCode(error.code)) {
      sendJson(res, HTTP_STATUS[CORE_ERROR_CODES[error.code]] ?? 400, { message: error.message });
      return;
    }
    throw error;
  }
  console.error(`[exports] ${what} export failed mid-stream:`, error);
  res.destroy(error instanceof Error ? error : new Error(String(error)));
}
