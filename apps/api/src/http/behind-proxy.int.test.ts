import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/harness';

// The final probe: a tRPC body over the limit sent through the console
// (Next.js proxies /api/* to the API with httpxy) gave a bare 500: the API
// answered 413 and closed the connection while the proxy was still writing
// the body, and the proxy turned its broken pipe into a 500. The API now
// reads and drops the rest of a refused body (up to 16 MiB) before it answers.

const TRPC_MAX_BODY_BYTES = 256 * 1024;
const CONSOLE = 'http://localhost:3000';

/** Next.js's own proxy (what a middleware rewrite to an external URL runs), configured as Next configures it. */
const { ProxyServer } = createRequire(import.meta.url)('next/dist/compiled/httpxy') as {
  ProxyServer: new (
    options: Record<string, unknown>,
  ) => {
    on(event: string, listener: (...args: never[]) => void): void;
    web(req: unknown, res: unknown, options: Record<string, unknown>): Promise<void>;
  };
};

let api: TestApi;
let proxy: Server;
let proxyUrl: string;

beforeAll(async () => {
  api = await startTestApi({ monitor: false, env: { FABRIC_TRPC_MAX_BODY_BYTES: String(TRPC_MAX_BODY_BYTES) } });
  proxy = createServer((req, res) => {
    const target = new URL(req.url ?? '/', api.url);
    const server = new ProxyServer({ target, changeOrigin: true, ignorePath: true, proxyTimeout: 30_000 });
    const fail = () => {
      if (!res.headersSent) res.writeHead(500);
      res.end('Internal Server Error');
    };
    server.on('error', fail);
    server.web(req, res, {}).catch(fail);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await api?.close();
});

function chunkedBody(bytes: number): ReadableStream<Uint8Array> {
  const head = new TextEncoder().encode('{"json":{"name":"big","description":"');
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const piece = sent === 0 ? head : new Uint8Array(16 * 1024).fill(0x78);
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
}

describe('a body over the limit, through a proxy like the console’s', () => {
  it.each([
    ['chunked (no length declared)', false],
    ['with its length declared', true],
  ])('%s: 413 with the JSON error, not a 500', async (_what, declared) => {
    const bytes = TRPC_MAX_BODY_BYTES * 4;
    const init: RequestInit & { duplex: 'half' } = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: CONSOLE,
        ...(declared ? { 'content-length': String(bytes + 16 * 1024) } : {}),
      },
      body: declared
        ? `{"json":{"description":"${'x'.repeat(bytes)}"}}`.padEnd(bytes + 16 * 1024, ' ')
        : chunkedBody(bytes),
      duplex: 'half',
    };
    const response = await fetch(`${proxyUrl}/api/trpc/vms.create`, init);
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { json: { data: { code: string }; message: string } } };
    expect(body.error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(body.error.json.message).toContain(`${TRPC_MAX_BODY_BYTES} bytes`);
  });
});
