import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { ApiConfig } from '../env';
import { type BodyDeadline, guardBodyDeadline } from './body-deadline';
import { judgeCrossSite, trustedOriginsOf } from './cross-site';
import { sendJson } from './request';
import { applySecurityHeaders } from './security-headers';
import { readTrpcBody } from './trpc-body';
import { sendTrpcError } from './trpc-error-response';

type EdgeOptions = ApiConfig['http'];

/** The paths authenticated by the session cookie, where a request's origin decides whether it is served. */
const COOKIE_PATHS = ['/api/trpc/', '/api/exports/'];

/**
 * What every request meets before its route: security headers, the body
 * deadline, and (on the cookie-authenticated paths) the cross-site check.
 * The agent protocol authenticates with bearer credentials, which a foreign
 * page cannot make a browser send: no origin is asked of it.
 */
export function createHttpEdge(options: EdgeOptions) {
  const trustedOrigins = trustedOriginsOf(options.trustedOrigins);
  return {
    /** Null when the request was answered here (refused); else its body deadline. */
    open(req: IncomingMessage, res: ServerResponse, path: string): BodyDeadline | null {
      applySecurityHeaders(res, path);
      const deadline = guardBodyDeadline(req, res, options.bodyTimeoutMs);
      if (!COOKIE_PATHS.some((prefix) => path.startsWith(prefix))) return deadline;
      const verdict = judgeCrossSite({
        method: req.method ?? 'GET',
        origin: req.headers.origin,
        secFetchSite: headerOf(req, 'sec-fetch-site'),
        trustedOrigins,
      });
      if (verdict.ok) return deadline;
      // Answered before the body is read or the session resolved: nothing runs, nothing is written.
      // Not audited: any page a signed-in user visits could make their browser write such rows without end.
      res.setHeader('connection', 'close');
      if (path.startsWith('/api/trpc/')) sendTrpcError(res, 'FORBIDDEN', 403, verdict.reason);
      else sendJson(res, 403, { code: 'CROSS_SITE_REFUSED', message: verdict.reason });
      return null;
    },
    /** A tRPC body read whole within its limit before tRPC runs (trpc-body.ts); false when answered here. */
    readTrpcBody(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      return readTrpcBody(req, res, options.trpcMaxBodyBytes);
    },
  };
}

/**
 * Node's own limits, the backstop behind the body deadline: headers within
 * `headersTimeoutMs`, the whole request within the headers' and the body's
 * deadlines and a margin. Both bound receiving a request, never answering
 * it: once a request is complete Node stops timing it, so SSE subscriptions
 * and long polls stay open (edge-hardening.int.test.ts proves it).
 * Node checks them every `connectionsCheckingInterval` (30 s by default, which
 * would let a slow client overstay the limit that long).
 */
export function serverTimeouts(options: EdgeOptions): ServerOptions {
  return {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.headersTimeoutMs + options.bodyTimeoutMs + 5_000,
    connectionsCheckingInterval: 1_000,
  };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
