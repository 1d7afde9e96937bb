import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './request';

export interface BodyDeadline {
  /** True once the deadline answered this request: whatever its route does next goes nowhere. */
  readonly expired: boolean;
}

/**
 * Every request's body must arrive within `deadlineMs` of its headers,
 * whichever route reads it (tRPC, better-auth, the agent protocol) and even
 * if none does. A client that trickles its body (one byte a second) gets a
 * 408 and its connection closed at the deadline, instead of holding the
 * route (and, before the body was read ahead of the ingest gate, a writer
 * slot) for as long as it likes. Node's own `requestTimeout` is the backstop
 * (server-timeouts.ts); this one answers in JSON, on time, per request.
 * A request without a body is complete at once: a long poll or an SSE
 * stream, which only holds its response open, is never cut.
 */
export function guardBodyDeadline(req: IncomingMessage, res: ServerResponse, deadlineMs: number): BodyDeadline {
  const state = { expired: false };
  const timer = setTimeout(() => {
    if (req.complete) return;
    state.expired = true;
    if (!res.headersSent) {
      res.setHeader('connection', 'close');
      sendJson(res, 408, {
        error: {
          code: 'REQUEST_TIMEOUT',
          message: `The request body did not arrive within ${deadlineMs / 1000} s; send it again`,
        },
      });
    }
    // The rest of the body is not worth waiting for: the connection goes once the answer is out.
    if (res.writableFinished) req.socket.destroy();
    else res.once('finish', () => req.socket.destroy());
  }, deadlineMs);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once('end', clear);
  res.once('close', clear);
  return state;
}
