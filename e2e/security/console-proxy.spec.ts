import { expect, test } from '@playwright/test';
import pg from 'pg';
import { E2E } from '../stack.config';

// The console's proxy to the API (final probe): a body over the API's limit
// sent through the console is a 413 with the API's JSON error (was a bare
// 500); proxied answers do not name the API's internal address
// (x-middleware-rewrite); and a client cannot choose the address the API
// throttles it by: the console writes X-Forwarded-For from the socket
// (apps/web/server.mjs) instead of passing the client's on.

const CONSOLE = E2E.webUrl;

test('a chunked body over 1 MiB through the console is a 413 with a JSON error', async () => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 2 * 1024 * 1024) return controller.close();
      const piece =
        sent === 0 ? new TextEncoder().encode('{"json":{"description":"') : new Uint8Array(64 * 1024).fill(0x78);
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
  const response = await fetch(`${CONSOLE}/api/trpc/vms.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: CONSOLE },
    body,
    duplex: 'half',
  } as RequestInit);
  expect(response.status).toBe(413);
  const answer = (await response.json()) as { error: { json: { data: { code: string }; message: string } } };
  expect(answer.error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
  expect(answer.error.json.message).toMatch(/larger than \d+ bytes/);
});

test('proxied answers do not carry x-middleware-rewrite', async ({ request }) => {
  for (const path of ['/api/trpc/auth.me', '/api/auth/get-session', '/healthz-nowhere']) {
    const response = await request.get(`${CONSOLE}${path}`, { headers: { origin: CONSOLE } });
    expect(Object.keys(response.headers())).not.toContain('x-middleware-rewrite');
  }
});

test('X-Forwarded-For sent by the client does not choose its throttling address', async ({ request }) => {
  const email = `xff-${Date.now()}@nowhere.example`;
  const response = await request.post(`${CONSOLE}/api/auth/sign-in/email`, {
    headers: { origin: CONSOLE, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.77' },
    data: { email, password: 'wrong-password-1' },
  });
  expect(response.status()).toBe(401);
  const client = new pg.Client({ connectionString: `postgres://fabric:fabric@127.0.0.1:${E2E.pgPort}/fabric` });
  await client.connect();
  try {
    const { rows } = await client.query<{ source: string }>(
      `SELECT details->>'source' AS source FROM audit_events WHERE action = 'auth.sign_in' AND target_id = $1`,
      [email],
    );
    expect(rows).toHaveLength(1);
    // The address this test connects from, as the console saw its socket: not the one it claimed.
    expect(rows[0]?.source).not.toBe('203.0.113.77');
    expect(rows[0]?.source).toMatch(/^(127\.0\.0\.1|::1)$/);
  } finally {
    await client.end();
  }
});
