import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from './request';
import { sendTrpcError } from './trpc-error-response';

/**
 * Reads a tRPC request's body whole, up to `limitBytes`, before anything of
 * tRPC runs (context, admission, input parsing): a body over the limit is
 * answered 413 before a byte of it is parsed (before a byte is read, when
 * its Content-Length says so), and a slow one holds nothing but its own
 * connection until the body deadline (body-deadline.ts) answers it.
 * tRPC's own `maxBodySize` would only cut the stream while its context and
 * admission already ran, with no deadline and an error without the limit.
 * The text goes to tRPC as `req.body`, which its node adapter takes as read.
 * Resolves false when the request was answered here (or its client left).
 */
export async function readTrpcBody(req: IncomingMessage, res: ServerResponse, limitBytes: number): Promise<boolean> {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  let body: Buffer;
  try {
    body = await readBody(req, limitBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      if (!res.headersSent) {
        // Closing the connection after the answer: the rest of the body is drained (readBody), not kept alive for.
        sendTrpcError(
          res,
          'PAYLOAD_TOO_LARGE',
          413,
          `The request body is larger than ${limitBytes} bytes, the most this API accepts in one call (FABRIC_TRPC_MAX_BODY_BYTES)`,
          { connection: 'close' },
        );
      }
      return false;
    }
    // The client went away, or the body deadline answered and closed the connection.
    if (res.headersSent || req.destroyed) return false;
    throw error;
  }
  Object.assign(req, { body: body.toString('utf8') });
  return true;
}
