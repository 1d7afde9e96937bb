import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/harness';

// The final hostile probe: 600 KB of nested JSON cost the API ~700 ms of CPU
// in JSON.parse, before any check, from a caller who need not be signed in,
// and every other caller waited behind it on the event loop. Each JSON door
// (tRPC bodies and query URLs, /api/auth, the agent plane) now judges the
// body's nesting and value count from its bytes first (http/json-shape.ts).

const CONSOLE = 'http://localhost:3000';
const LEVELS = 300_000;
const nested = `${'['.repeat(LEVELS)}${']'.repeat(LEVELS)}`;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ monitor: false });
});
afterAll(() => api?.close());

/** The API's process CPU (it runs in this process) spent answering one request, and the answer. */
async function timed(path: string, init: RequestInit): Promise<{ status: number; text: string; cpuMs: number }> {
  const before = process.cpuUsage();
  const response = await fetch(`${api.url}${path}`, init);
  const text = await response.text();
  const used = process.cpuUsage(before);
  return { status: response.status, text, cpuMs: (used.user + used.system) / 1000 };
}

describe('deeply nested JSON bodies are refused before they are parsed', () => {
  it(`tRPC: ${LEVELS.toLocaleString('en-US')} levels (600 KB), unauthenticated, is a 400 saying why, in milliseconds of CPU`, async () => {
    const answer = await timed('/api/trpc/vms.create', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: CONSOLE },
      body: `{"json":${nested}}`,
    });
    console.log(`nested tRPC body: ${answer.status} after ${answer.cpuMs.toFixed(0)} ms of CPU`);
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.text) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.data.code).toBe('BAD_REQUEST');
    expect(body.error.json.message).toMatch(/more than 32 levels deep/);
    // The figure includes this process sending the 600 KB (~60 ms). Before: 187 ms unauthenticated (401), and
    // JSON.parse alone of this body takes ~700 ms on a loaded machine.
    expect(answer.cpuMs).toBeLessThan(150);
  });

  it('tRPC: a batch of a million-ish flat values is refused by count, and a query’s URL input by depth', async () => {
    const flat = await timed('/api/trpc/vms.create', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: CONSOLE },
      body: `{"json":[${Array(400_000).fill('0').join(',')}]}`,
    });
    expect(flat.status).toBe(400);
    expect(flat.text).toMatch(/more than 100,000 values/);

    const input = encodeURIComponent(`{"json":${'['.repeat(2_000)}${']'.repeat(2_000)}}`);
    const query = await timed(`/api/trpc/auth.me?input=${input}`, { headers: { origin: CONSOLE } });
    expect(query.status).toBe(400);
    expect(query.text).toMatch(/levels deep/);
  });

  it('auth: a nested sign-in body is a 400 before it is parsed', async () => {
    const answer = await timed('/api/auth/sign-in/email', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: CONSOLE },
      body: `{"email":"a@b.example","password":${'['.repeat(8_000)}${']'.repeat(8_000)}}`,
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/levels deep/);
  });

  it('agent: a nested registration body is a 400 MALFORMED_JSON saying why', async () => {
    const answer = await timed('/agent/v1/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"token":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'MALFORMED_JSON' } });
    expect(answer.text).toMatch(/levels deep/);
  });

  it('an ordinary body still goes through (the control)', async () => {
    const answer = await timed('/api/trpc/auth.me', { headers: { origin: CONSOLE } });
    expect(answer.status).not.toBe(400);
  });
});
