import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from '../trpc/context';
import type { Admission, CallKeys, CallLimits } from './call-limits';
import { costOfCall, EXPORT_COST } from './procedure-costs';
import { clientAddress, sendJson, type TrustedProxies } from './request';

/**
 * The door of console and automation traffic (tRPC, exports): a batch above
 * `maxBatchSize` calls is refused whole (400, saying the cap), then the
 * caller's user and tenant pay the request's cost and hold a slot while it
 * runs (an SSE subscription: a stream slot while it stays open); a refusal is
 * 429 with Retry-After and says which limit. The caller is resolved once here
 * and handed to tRPC (contextOf), so a request reads its session once.
 * Agents never come through here: their plane has its own gate and pool.
 */
export class ConsoleAdmission {
  private readonly contexts = new WeakMap<IncomingMessage, Context>();

  constructor(
    private readonly deps: {
      limits: CallLimits;
      maxBatchSize: number;
      resolveContext: (req: IncomingMessage) => Promise<Context>;
      isSubscription: (path: string) => boolean;
      /** Proxies whose X-Forwarded-For names an anonymous caller's address (the console's). */
      trustedProxies: TrustedProxies;
    },
  ) {}

  /** The context resolved for `req` by `trpc`, if any. */
  contextOf(req: IncomingMessage): Context | undefined {
    return this.contexts.get(req);
  }

  /** A tRPC request (`/api/trpc/a,b?batch=1`): refused, or run by `handle` inside the caller's limits. */
  async trpc(req: IncomingMessage, res: ServerResponse, handle: () => unknown): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const paths = decodedPath(url.pathname.slice('/api/trpc/'.length)).split(',');
    if (url.searchParams.get('batch') === '1' && paths.length > this.deps.maxBatchSize) {
      req.resume();
      return sendTrpcError(res, 400, 'BAD_REQUEST', batchMessage(paths.length, this.deps.maxBatchSize));
    }
    const ctx = await this.deps.resolveContext(req);
    this.contexts.set(req, ctx);
    const keys = keysOf(ctx, req, this.deps.trustedProxies);
    const stream = paths.length === 1 && paths[0] !== undefined && this.deps.isSubscription(paths[0]);
    const admission = stream
      ? this.deps.limits.admitStream(keys)
      : this.deps.limits.admitRequest(
          keys,
          paths.reduce((sum, path) => sum + costOfCall(path), 0),
        );
    if (!admission.ok) {
      req.resume();
      return sendTrpcError(res, 429, 'TOO_MANY_REQUESTS', admission.message, admission.retryAfterSeconds);
    }
    return runHolding(admission, res, handle);
  }

  /** An export (a file): the same limits at a file's cost. */
  async export(req: IncomingMessage, res: ServerResponse, handle: () => unknown): Promise<void> {
    const ctx = await this.deps.resolveContext(req);
    const admission = this.deps.limits.admitRequest(keysOf(ctx, req, this.deps.trustedProxies), EXPORT_COST);
    if (!admission.ok) {
      req.resume();
      res.setHeader('retry-after', String(admission.retryAfterSeconds));
      return sendJson(res, 429, { error: { code: 'TOO_MANY_REQUESTS', message: admission.message } });
    }
    return runHolding(admission, res, handle);
  }
}

/** The procedure paths as sent; a malformed escape is left as it is (tRPC then says no such procedure). */
function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function batchMessage(calls: number, max: number): string {
  return `A batch may hold at most ${max} calls; this one has ${calls}. Send fewer calls per request.`;
}

/** Signed-in callers by user and tenant (provider staff share the provider's); others by client address. */
function keysOf(ctx: Context, req: IncomingMessage, trustedProxies: TrustedProxies): CallKeys {
  if (ctx.caller) return { user: ctx.caller.userId, tenant: ctx.caller.tenantId ?? 'provider' };
  const address = `anonymous ${clientAddress(req, trustedProxies)}`;
  return { user: address, tenant: address };
}

/** Holds the slot until the response is finished or the client went away (a stream: until it closes). */
async function runHolding(admission: Admission & { ok: true }, res: ServerResponse, handle: () => unknown) {
  res.once('close', admission.release);
  await handle();
}

/** A tRPC-shaped error (superjson envelope), as the console's client reads it. */
function sendTrpcError(
  res: ServerResponse,
  status: 400 | 429,
  code: 'BAD_REQUEST' | 'TOO_MANY_REQUESTS',
  message: string,
  retryAfterSeconds?: number,
) {
  if (retryAfterSeconds !== undefined) res.setHeader('retry-after', String(retryAfterSeconds));
  sendJson(res, status, {
    error: {
      json: {
        message,
        // JSON-RPC codes of tRPC's error codes.
        code: code === 'BAD_REQUEST' ? -32600 : -32029,
        data: { code, httpStatus: status, path: null, zodError: null },
      },
    },
  });
}
