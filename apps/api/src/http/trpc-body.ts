import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkJsonShape, JSON_SHAPE_LIMITS } from './json-shape';
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
  if (req.method === 'GET' || req.method === 'HEAD') return inputShapeAccepted(req, res);
  let body: Buffer;
  try {
    body = await readBody(req, limitBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      if (!res.headersSent) {
        // Answered once the rest of the body was read and dropped (readBody), so a proxy still writing it gets
        // the 413 instead of a broken pipe; a body too large even to drop closes the connection after it.
        sendTrpcError(
          res,
          'PAYLOAD_TOO_LARGE',
          413,
          `The request body is larger than ${limitBytes} bytes, the most this API accepts in one call (FABRIC_TRPC_MAX_BODY_BYTES)`,
          error.drained ? {} : { connection: 'close' },
        );
      }
      return false;
    }
    // The client went away, or the body deadline answered and closed the connection.
    if (res.headersSent || req.destroyed) return false;
    throw error;
  }
  // Judged from the bytes before anything parses them: deep nesting costs JSON.parse CPU (json-shape.ts).
  const shape = checkJsonShape(body, JSON_SHAPE_LIMITS);
  if (!shape.ok) {
    sendTrpcError(res, 'BAD_REQUEST', 400, shape.message);
    return false;
  }
  Object.assign(req, { body: body.toString('utf8') });
  return true;
}

/** A query's input travels in its URL (?input=…): held to the same shape before tRPC parses it. */
function inputShapeAccepted(req: IncomingMessage, res: ServerResponse): boolean {
  const query = req.url?.indexOf('?') ?? -1;
  if (query < 0) return true;
  let input: string | null;
  try {
    input = new URLSearchParams(req.url?.slice(query + 1)).get('input');
  } catch {
    return true;
  }
  if (!input) return true;
  const shape = checkJsonShape(Buffer.from(input, 'utf8'), JSON_SHAPE_LIMITS);
  if (shape.ok) return true;
  sendTrpcError(res, 'BAD_REQUEST', 400, shape.message);
  return false;
}
