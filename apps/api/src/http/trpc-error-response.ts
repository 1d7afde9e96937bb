import type { ServerResponse } from 'node:http';
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import superjson from 'superjson';

/**
 * An answer written before tRPC runs (a refused body, a cross-site request),
 * in tRPC's own error shape through the same transformer, so the console's
 * client shows its message like any other error (a batch link gives every
 * call of the batch this one error).
 */
export function sendTrpcError(
  res: ServerResponse,
  code: TRPC_ERROR_CODE_KEY,
  httpStatus: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const shape = {
    message,
    code: TRPC_ERROR_CODES_BY_KEY[code],
    data: { code, httpStatus, path: null, zodError: null },
  };
  const text = JSON.stringify({ error: superjson.serialize(shape) });
  res.writeHead(httpStatus, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
