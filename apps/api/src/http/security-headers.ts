import type { ServerResponse } from 'node:http';

/**
 * Headers on every API answer. The API serves JSON, event streams and
 * downloads, never a page: nothing of it may be framed, sniffed into
 * another type, loaded by another site, or say where it was linked from.
 */
const EVERY_ANSWER: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** Paths whose answers carry one user's tenant data: never kept by a browser or a shared cache. */
const PRIVATE_PATHS = ['/api/trpc/', '/api/exports/', '/api/auth/'];

export function applySecurityHeaders(res: ServerResponse, path: string): void {
  for (const [name, value] of Object.entries(EVERY_ANSWER)) res.setHeader(name, value);
  if (!PRIVATE_PATHS.some((prefix) => path.startsWith(prefix))) return;
  res.setHeader('cache-control', 'no-store');
  keepNoStore(res);
}

/**
 * tRPC sets its own Cache-Control on event streams ('no-cache, no-transform')
 * through setHeader, which would replace ours: the header is settled as the
 * head goes out instead. 'no-transform' stays, so proxies neither compress
 * nor buffer the stream.
 */
function keepNoStore(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = ((...args: Parameters<ServerResponse['writeHead']>) => {
    const current = String(res.getHeader('cache-control') ?? '');
    res.setHeader('cache-control', /no-transform/i.test(current) ? 'no-store, no-transform' : 'no-store');
    return writeHead.apply(res, args);
  }) as ServerResponse['writeHead'];
}
