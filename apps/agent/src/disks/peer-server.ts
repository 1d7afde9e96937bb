import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The agent's PEER listener: agent-to-agent block transfer (replication,
 * storage migration), on 127.0.0.1 and an ephemeral port (`url`, reported in
 * the host inventory as `peerUrl`).
 *
 * Paths are `/peer/v1/<family>/<id>/<rest…>`; `<family>/<id>` is the SCOPE,
 * e.g. `replica/<relationshipId>`. A scope is opened by `grant(scope,
 * credential)` when the control plane issues a per-pair credential through a
 * task (replica.accept), and every request must carry it as
 * `Authorization: Bearer <credential>`. Refused, before the body is read:
 * no or an unknown credential (401 CREDENTIAL_INVALID), a credential of
 * another scope (403 WRONG_SCOPE: one relationship's credential never opens
 * another's path), a body over `maxBodyBytes` (413 PAYLOAD_TOO_LARGE, by
 * Content-Length or while streaming), a family nobody serves (404).
 */
export interface PeerRequest {
  method: string;
  scope: string;
  /** The path after the scope, split on '/', decoded. */
  rest: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface PeerResponse {
  status: number;
  json?: unknown;
  body?: Buffer;
}

export type PeerHandler = (request: PeerRequest) => Promise<PeerResponse>;

export interface PeerServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest request body; default 8 MiB (block batches are at most 4 MiB of payload). */
  maxBodyBytes?: number;
}

export const DEFAULT_PEER_MAX_BODY_BYTES = 8 * 1024 * 1024;
const SCOPE_PART = /^[0-9A-Za-z._-]{1,128}$/;

export class PeerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

export class PeerServer {
  private server: Server | null = null;
  private readonly grants = new Map<string, Buffer>();
  private readonly handlers = new Map<string, PeerHandler>();
  readonly maxBodyBytes: number;
  private readonly host: string;

  constructor(options: PeerServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_PEER_MAX_BODY_BYTES;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the peer listener is not listening');
    return `http://${this.host}:${address.port}`;
  }

  /** The URL once listening, else null (for the inventory's `peerUrl`). */
  urlOrNull(): string | null {
    return this.server?.listening ? this.url : null;
  }

  /** Serves `/peer/v1/<family>/…`; one handler per family. */
  route(family: string, handler: PeerHandler): void {
    if (!SCOPE_PART.test(family)) throw new Error(`"${family}" is not a usable peer family`);
    if (this.handlers.has(family)) throw new Error(`peer family ${family} is served already`);
    this.handlers.set(family, handler);
  }

  /** Opens `scope` (`<family>/<id>`) to `credential` (replacing an earlier one). Idempotent. */
  grant(scope: string, credential: string): void {
    checkScope(scope);
    if (credential.length < 16 || credential.length > 512) throw new Error('a peer credential has 16–512 characters');
    this.grants.set(scope, digest(credential));
  }

  revoke(scope: string): void {
    this.grants.delete(scope);
  }

  granted(scope: string): boolean {
    return this.grants.has(scope);
  }

  async start(port = 0): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'PEER_ERROR', error instanceof Error ? error.message : String(error));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://peer');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'peer' || parts[1] !== 'v1' || parts.length < 4) {
      return sendError(res, 404, 'NOT_FOUND', 'peer paths are /peer/v1/<family>/<id>/…');
    }
    const family = decodeURIComponent(parts[2] as string);
    const id = decodeURIComponent(parts[3] as string);
    if (!SCOPE_PART.test(family) || !SCOPE_PART.test(id)) return sendError(res, 404, 'NOT_FOUND', 'no such peer path');
    const scope = `${family}/${id}`;
    const denial = this.authorize(scope, req.headers.authorization);
    if (denial) {
      req.resume();
      return sendError(res, denial.status, denial.code, denial.message);
    }
    const handler = this.handlers.get(family);
    if (!handler) return sendError(res, 404, 'NOT_FOUND', `nothing here serves ${family}`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) {
      req.resume();
      return sendError(res, 413, 'PAYLOAD_TOO_LARGE', `a peer request body is at most ${this.maxBodyBytes} bytes`);
    }
    const body = await readBody(req, this.maxBodyBytes);
    if (body === null) {
      return sendError(
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `a peer request body is at most ${this.maxBodyBytes} bytes`,
        true,
      );
    }
    let answer: PeerResponse;
    try {
      answer = await handler({
        method: req.method ?? 'GET',
        scope,
        rest: parts.slice(4).map((p) => decodeURIComponent(p)),
        query: url.searchParams,
        headers: req.headers,
        body,
      });
    } catch (error) {
      if (error instanceof PeerError) return sendError(res, error.status, error.code, error.message);
      throw error;
    }
    if (answer.body) {
      res.writeHead(answer.status, {
        'content-type': 'application/octet-stream',
        'content-length': answer.body.length,
      });
      res.end(answer.body);
      return;
    }
    const json = JSON.stringify(answer.json ?? {});
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  }

  private authorize(
    scope: string,
    header: string | undefined,
  ): { status: number; code: string; message: string } | null {
    const match = /^Bearer (.{1,512})$/.exec(header ?? '');
    if (!match) return { status: 401, code: 'CREDENTIAL_INVALID', message: 'a peer credential is required (Bearer)' };
    const presented = digest(match[1] as string);
    const expected = this.grants.get(scope);
    if (expected && timingSafeEqual(expected, presented)) return null;
    for (const [other, value] of this.grants) {
      if (other !== scope && timingSafeEqual(value, presented)) {
        return { status: 403, code: 'WRONG_SCOPE', message: 'this credential is for another peer scope' };
      }
    }
    return { status: 401, code: 'CREDENTIAL_INVALID', message: 'unknown peer credential' };
  }
}

function checkScope(scope: string): void {
  const [family, id, ...more] = scope.split('/');
  if (!family || !id || more.length || !SCOPE_PART.test(family) || !SCOPE_PART.test(id)) {
    throw new Error(`"${scope}" is not a peer scope (<family>/<id>)`);
  }
}

function digest(credential: string): Buffer {
  return createHash('sha256').update(credential).digest();
}

/** The whole body, or null once it passes `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        chunks.length = 0;
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (!done) reject(error);
    });
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string, close = false): void {
  const json = JSON.stringify({ error: { code, message } });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(json);
}
