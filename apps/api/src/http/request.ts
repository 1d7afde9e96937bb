import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

export class BodyTooLargeError extends Error {
  constructor(
    readonly limit: number,
    /** True when the rest of the body was read (and dropped): the connection can carry the answer and stay. */
    readonly drained = false,
  ) {
    super(`Request body is larger than ${limit} bytes`);
  }
}

/**
 * How much of a refused body is read (and dropped) before the refusal is
 * sent. A proxy in front (the console's) still writing the body when the
 * answer comes and the connection closes fails the whole exchange with a
 * bare 500 instead of passing the 413 on (EPIPE); past this much, the
 * connection is closed anyway (the body deadline bounds the time it takes).
 */
export const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;

/** Reads the whole body, refusing (without buffering it) one above `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared - limit > REFUSED_BODY_DRAIN_BYTES) {
    req.resume();
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    // Past the limit the rest is only counted and dropped, up to the drain allowance.
    if (size > limit + REFUSED_BODY_DRAIN_BYTES) {
      req.resume();
      throw new BodyTooLargeError(limit);
    }
    if (size <= limit) chunks.push(buf);
  }
  if (size > limit) throw new BodyTooLargeError(limit, true);
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Addresses of the proxies whose X-Forwarded-For is believed (FABRIC_TRUSTED_PROXIES). */
export type TrustedProxies = ReadonlySet<string>;

export const NO_TRUSTED_PROXIES: TrustedProxies = new Set();

function plainAddress(address: string): string {
  const trimmed = address.trim();
  return /^::ffff:\d{1,3}(?:\.\d{1,3}){3}$/i.test(trimmed) ? trimmed.slice(7) : trimmed;
}

/**
 * The caller's address. X-Forwarded-For is anyone's to write, so it is read
 * only when the connection comes from a trusted proxy (the console's, which
 * forwards it), and then from the right: the first hop that is not a trusted
 * proxy is the client. A hop that is not an address stops the walk at the
 * proxy that passed it on (a forged value gains its sender nothing but a
 * bucket shared with every other forger).
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies = NO_TRUSTED_PROXIES): string {
  let address = plainAddress(req.socket.remoteAddress ?? 'unknown');
  if (!trusted.has(address)) return address;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map(plainAddress);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (!isIP(hop)) return address;
    address = hop;
    if (!trusted.has(hop)) return address;
  }
  return address;
}

export function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else headers.set(key, value);
  }
  return headers;
}

/** Writes a fetch Response to a Node response, keeping every Set-Cookie. */
export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}
