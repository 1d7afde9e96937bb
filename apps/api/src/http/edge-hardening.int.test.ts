import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { registerProductionHost, type TestHost } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// The API's HTTP edge, over real sockets: what a slow, huge or cross-site
// request gets before any route runs (issue 9, classes 3, 4, 7 and 8).

const HEADERS_TIMEOUT_MS = 4_000;
const BODY_TIMEOUT_MS = 3_000;
const TRPC_MAX_BODY_BYTES = 64 * 1024;
const CONSOLE = 'http://localhost:3000';

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let hostPort: { host: string; port: number };

beforeAll(async () => {
  api = await startTestApi({
    monitor: false,
    env: {
      // Two writers at once: eight slow uploads would fill the gate four times over if they held it.
      FABRIC_INGEST_CONCURRENCY: '2',
      FABRIC_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      FABRIC_HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      FABRIC_TRPC_MAX_BODY_BYTES: String(TRPC_MAX_BODY_BYTES),
    },
  });
  c = await seedAndSignIn(api);
  const url = new URL(api.url);
  hostPort = { host: url.hostname, port: Number(url.port) };
});
afterAll(() => api?.close());

/** A request written by hand: its headers at once, then its body one byte a second (or never). */
interface SlowRequest {
  socket: Socket;
  /** Resolves with what the server answered (possibly nothing) once it closes the connection. */
  closed: Promise<{ status: number | null; body: string; atMs: number }>;
  isOpen(): boolean;
  stop(): void;
}

function slowRequest(head: string, body: string, options: { bytesPerSecond?: number } = {}): SlowRequest {
  const socket = connect(hostPort);
  let received = '';
  let open = true;
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(
    () => {
      if (sent < body.length && !socket.destroyed) socket.write(body[sent++] ?? '');
    },
    1000 / (options.bytesPerSecond ?? 1),
  );
  socket.on('data', (chunk) => {
    received += chunk.toString('utf8');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ status: number | null; body: string; atMs: number }>((resolve) => {
    socket.on('close', () => {
      open = false;
      clearInterval(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve({
        status: status ? Number(status) : null,
        body: received.slice(received.indexOf('\r\n\r\n') + 4),
        atMs: Date.now() - started,
      });
    });
  });
  socket.write(head);
  return {
    socket,
    closed,
    isOpen: () => open,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

function requestHead(method: string, path: string, headers: Record<string, string>, bodyBytes: number) {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${hostPort.host}:${hostPort.port}`];
  for (const [key, value] of Object.entries(headers)) lines.push(`${key}: ${value}`);
  lines.push(`content-length: ${bodyBytes}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const emptyBatch = (h: TestHost) => JSON.stringify({ seq: ++h.seq, batch: h.seq, samples: [] });

function slowSampleUpload(h: TestHost): SlowRequest {
  const body = emptyBatch(h);
  const head = requestHead(
    'POST',
    `/agent/v1/hosts/${h.hostId}/samples`,
    { 'content-type': 'application/json', authorization: `Bearer ${h.credential}` },
    Buffer.byteLength(body),
  );
  return slowRequest(head, body);
}

/** Resolves true when `promise` settles first, false when `others` settle (or `capMs` passes) first. */
async function settlesFirst(promise: Promise<unknown>, others: Promise<unknown>[], capMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), capMs);
  });
  try {
    return await Promise.race([promise.then(() => true), ...others.map((o) => o.then(() => false)), cap]);
  } finally {
    clearTimeout(timer);
  }
}

describe('slow request bodies (class 3)', () => {
  it('eight 1-byte/s sample uploads hold no ingest slot: a healthy host is answered while they still trickle, and they get 408 after the body deadline', async () => {
    const slowHosts: TestHost[] = [];
    for (let i = 1; i <= 8; i++) slowHosts.push(await registerProductionHost(api, c.admin, `slow-${i}`));
    const healthy = await registerProductionHost(api, c.admin, 'healthy-01');
    const slow = slowHosts.map(slowSampleUpload);
    try {
      // Let all eight be authenticated and inside the handler (on the old code: holding or queued at the gate).
      await new Promise((resolve) => setTimeout(resolve, 500));
      const latenciesMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const upload = agentPost(api.url, `/agent/v1/hosts/${healthy.hostId}/samples`, null, {
          raw: emptyBatch(healthy),
          credential: healthy.credential,
        });
        // Behaviour, not a tight time: the healthy upload is answered before any slow one is.
        const first = await settlesFirst(
          upload,
          slow.map((s) => s.closed),
          20_000,
        );
        if (!first) {
          console.log('[edge] healthy sample upload NOT answered while 8 slow uploads ran (waited up to 20 s)');
        }
        expect(first).toBe(true);
        expect(await upload).toMatchObject({ status: 200, body: { stored: 0, ignored: 0 } });
        latenciesMs.push(performance.now() - started);
      }
      expect(slow.every((s) => s.isOpen())).toBe(true);
      const sorted = [...latenciesMs].sort((a, b) => a - b);
      console.log(
        `[edge] healthy sample upload latency while 8 slow uploads run: median ${sorted[2]?.toFixed(1)} ms, max ${sorted[4]?.toFixed(1)} ms (${latenciesMs.map((l) => l.toFixed(1)).join(', ')})`,
      );

      const answers = await Promise.all(slow.map((s) => s.closed));
      for (const answer of answers) {
        expect(answer.status).toBe(408);
        expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'REQUEST_TIMEOUT' } });
        // Cut at the deadline, not before (with slack for a loaded machine after it).
        expect(answer.atMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
        expect(answer.atMs).toBeLessThan(BODY_TIMEOUT_MS + 10_000);
      }
    } finally {
      for (const s of slow) s.stop();
    }
  }, 60_000);

  it.each([
    ['tRPC', '/api/trpc/vms.create', true],
    ['auth', '/api/auth/sign-in/email', false],
  ])(
    'a slow %s body is refused with 408 after the deadline and changes nothing',
    async (_name, path, withCookie) => {
      const vmsBefore = await countRows(api.databaseUrl, 'vms');
      const body = JSON.stringify({
        json: { name: 'slow-vm', vcpus: 1, memory: { mode: 'static', sizeMiB: 1024 }, disks: [{ sizeGiB: 10 }] },
      });
      const headers: Record<string, string> = { 'content-type': 'application/json', origin: CONSOLE };
      if (withCookie) headers.cookie = c.blueAdmin.cookie ?? '';
      const request = slowRequest(requestHead('POST', path, headers, Buffer.byteLength(body)), body);
      try {
        const answer = await request.closed;
        expect(answer.status).toBe(408);
        expect(answer.atMs).toBeLessThan(BODY_TIMEOUT_MS + 10_000);
        expect(await countRows(api.databaseUrl, 'vms')).toBe(vmsBefore);
      } finally {
        request.stop();
      }
    },
    30_000,
  );

  it('headers sent one byte a second are cut after the headers deadline', async () => {
    const head = `GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ${'a'.repeat(60)}\r\n\r\n`;
    // Headers only: everything after the first line trickles.
    const request = slowRequest(head.slice(0, 20), head.slice(20));
    try {
      const answer = await request.closed;
      expect(answer.status === 408 || answer.status === null).toBe(true);
      expect(answer.atMs).toBeLessThan(HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS + 10_000);
    } finally {
      request.stop();
    }
  }, 30_000);

  it('an SSE subscription outlives every request deadline (they bound receiving a request, not answering it)', async () => {
    const controller = new AbortController();
    const listeners = api.services.hostEvents.listenerCount('event');
    try {
      const response = await fetch(`${api.url}/api/trpc/hosts.onChange`, {
        headers: { accept: 'text/event-stream', origin: CONSOLE, cookie: c.admin.cookie ?? '' },
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      if (!response.body) throw new Error('no body');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('event: connected')) text += (await reader.read()).value ?? '';
      while (api.services.hostEvents.listenerCount('event') === listeners) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Past the headers and body deadlines together, and the server's own request timeout.
      await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS + 3_000));
      api.services.hostEvents.emit('event', {
        hostId: '00000000-0000-4000-8000-000000000001',
        name: 'hv-late-01',
        state: 'connected',
        lastHeartbeatAt: null,
        kind: 'heartbeat',
      });
      while (!text.includes('hv-late-01')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += value;
      }
    } finally {
      controller.abort();
    }
  }, 30_000);
});

describe('tRPC body size (class 4)', () => {
  const bigCreate = (padBytes: number) =>
    JSON.stringify({
      json: {
        name: 'huge-vm',
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 1024 },
        disks: [{ sizeGiB: 10 }],
        description: 'x'.repeat(padBytes),
      },
    });

  it('a 50 MB vms.create body is refused with 413 and a JSON error, and nothing is written', async () => {
    const vmsBefore = await countRows(api.databaseUrl, 'vms');
    const totalBytes = 50 * 1024 * 1024;
    const head =
      '{"json":{"name":"huge-vm","vcpus":1,"memory":{"mode":"static","sizeMiB":1024},"disks":[{"sizeGiB":10}],"description":"';
    // Written as a client would stream it (64 KiB at a time), until the server answers.
    const answer = await new Promise<{ status: number; text: string; sentBytes: number }>((resolve, reject) => {
      let sentBytes = 0;
      let answered = false;
      const request = httpRequest(`${api.url}/api/trpc/vms.create`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(totalBytes),
          origin: CONSOLE,
          cookie: c.blueAdmin.cookie ?? '',
        },
      });
      // Once answered, the server may close while the rest is still being written: that is expected.
      request.on('error', (error) => {
        if (!answered) reject(error);
      });
      request.on('response', (response) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, sentBytes }));
      });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (sentBytes < totalBytes && !answered && !request.destroyed) {
          const piece = sentBytes === 0 ? Buffer.concat([Buffer.from(head), chunk]).subarray(0, chunk.length) : chunk;
          sentBytes += piece.length;
          if (!request.write(piece)) return void request.once('drain', pump);
        }
      };
      pump();
    });
    expect(answer.status).toBe(413);
    const body = JSON.parse(answer.text) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(body.error.json.message).toContain(`${TRPC_MAX_BODY_BYTES} bytes`);
    expect(await countRows(api.databaseUrl, 'vms')).toBe(vmsBefore);
  });

  it('a chunked body (no length declared) is cut at the limit the same way', async () => {
    const vmsBefore = await countRows(api.databaseUrl, 'vms');
    const text = bigCreate(TRPC_MAX_BODY_BYTES * 4);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length; at += 16 * 1024) controller.enqueue(bytes.subarray(at, at + 16 * 1024));
        controller.close();
      },
    });
    const response = await fetch(`${api.url}/api/trpc/vms.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: CONSOLE, cookie: c.blueAdmin.cookie ?? '' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await countRows(api.databaseUrl, 'vms')).toBe(vmsBefore);
  });

  it('a body under the limit still works (the limit is not the only thing that answers)', async () => {
    const created = await c.blueAdmin.call('vms.create', 'mutation', {
      name: 'edge-small-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: false,
    });
    expect(created).toMatchObject({ ok: true });
  });
});

describe('cross-site requests with the session cookie (class 7)', () => {
  const createInput = (name: string) => ({
    json: { name, vcpus: 1, memory: { mode: 'static', sizeMiB: 1024 }, disks: [{ sizeGiB: 10 }] },
  });

  const mutate = (name: string, headers: Record<string, string>) =>
    fetch(`${api.url}/api/trpc/vms.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: c.blueAdmin.cookie ?? '', ...headers },
      body: JSON.stringify(createInput(name)),
    });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['no Origin', {}],
    ['Origin: null (a sandboxed frame)', { origin: 'null' }],
    ['a look-alike Origin', { origin: 'http://localhost:3000.evil.example' }],
    ['the right Origin but Sec-Fetch-Site: cross-site', { origin: CONSOLE, 'sec-fetch-site': 'cross-site' }],
  ])('a mutation with %s is refused with 403 and creates nothing', async (_what, headers) => {
    const name = `csrf-${Math.random().toString(36).slice(2, 8)}`;
    const response = await mutate(name, headers);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.data.code).toBe('FORBIDDEN');
    expect(body.error.json.message).toMatch(/cross-site/i);
    expect(await countRows(api.databaseUrl, 'vms', `name = '${name}'`)).toBe(0);
  });

  it('the same mutation from the console’s origin goes through (the control)', async () => {
    const response = await mutate('csrf-control-01', { origin: CONSOLE, 'sec-fetch-site': 'same-origin' });
    expect(response.status).toBe(200);
    expect(await countRows(api.databaseUrl, 'vms', `name = 'csrf-control-01'`)).toBe(1);
  });

  it('a cross-site read (tRPC query, export download) with the cookie is refused; same-origin ones are not', async () => {
    const query = (site: string) =>
      fetch(`${api.url}/api/trpc/auth.me`, { headers: { cookie: c.blueAdmin.cookie ?? '', 'sec-fetch-site': site } });
    expect((await query('cross-site')).status).toBe(403);
    expect((await query('same-origin')).status).toBe(200);

    const bill = (site: string) =>
      fetch(`${api.url}/api/exports/bill.csv?all=1&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z`, {
        headers: { cookie: c.finance.cookie ?? '', 'sec-fetch-site': site },
      });
    const refused = await bill('cross-site');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'CROSS_SITE_REFUSED' });
    // A link followed from the console, or a URL typed into the address bar, reaches the export itself
    // (which answers on its own terms: this test priced nothing, so 412 NO_RATE_CARD).
    // A sibling subdomain's page (same-site) carries the Lax cookie: refused like cross-site (final probe).
    const sibling = await bill('same-site');
    expect(sibling.status).toBe(403);
    expect(await sibling.json()).toMatchObject({ code: 'CROSS_SITE_REFUSED' });
    for (const site of ['same-origin', 'none']) {
      const answer = await bill(site);
      expect(answer.status).not.toBe(403);
      expect(await answer.json()).not.toMatchObject({ code: 'CROSS_SITE_REFUSED' });
    }
  });

  it('agent endpoints (bearer credentials, no cookie) do not ask for an Origin', async () => {
    const h = await registerProductionHost(api, c.admin, 'csrf-agent-01');
    const answer = await agentPost(api.url, `/agent/v1/hosts/${h.hostId}/samples`, null, {
      raw: emptyBatch(h),
      credential: h.credential,
    });
    expect(answer.status).toBe(200);
  });
});

describe('security headers on every API answer (class 8)', () => {
  const expectEdgeHeaders = (response: Response) => {
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  };

  it('tRPC answers (data, errors, batches) and exports carry nosniff, frame-ancestors and no-store', async () => {
    const headers = { cookie: c.blueAdmin.cookie ?? '', origin: CONSOLE };
    const answers = [
      await fetch(`${api.url}/api/trpc/auth.me`, { headers }),
      await fetch(`${api.url}/api/trpc/auth.me,auth.me?batch=1&input=${encodeURIComponent('{}')}`, { headers }),
      await fetch(`${api.url}/api/trpc/no.such.procedure`, { headers }),
      await fetch(`${api.url}/api/exports/bill.csv?all=1&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z`, {
        headers: { cookie: c.finance.cookie ?? '' },
      }),
    ];
    for (const response of answers) {
      expectEdgeHeaders(response);
      expect(response.headers.get('cache-control')).toBe('no-store');
      await response.arrayBuffer();
    }
  });

  it('the SSE stream is not stored either', async () => {
    const controller = new AbortController();
    try {
      const response = await fetch(`${api.url}/api/trpc/hosts.onChange`, {
        headers: { accept: 'text/event-stream', origin: CONSOLE, cookie: c.admin.cookie ?? '' },
        signal: controller.signal,
      });
      expectEdgeHeaders(response);
      // no-transform kept: proxies (the console's) must neither compress nor buffer the stream.
      expect(response.headers.get('cache-control')).toBe('no-store, no-transform');
    } finally {
      controller.abort();
    }
  });

  it('auth, agent, health and unknown paths carry nosniff and frame-ancestors', async () => {
    const answers = [
      await fetch(`${api.url}/healthz`),
      await fetch(`${api.url}/agent/v1`),
      await fetch(`${api.url}/api/auth/get-session`, { headers: { cookie: c.blueAdmin.cookie ?? '' } }),
      await fetch(`${api.url}/nowhere`),
    ];
    for (const response of answers) {
      expectEdgeHeaders(response);
      await response.arrayBuffer();
    }
  });
});
