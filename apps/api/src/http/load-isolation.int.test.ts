import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import superjson from 'superjson';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { seedAndSignIn } from '../testing/seed';

// Issue 9, class 2: one tenant admin cannot stall the API for everyone. Through
// the real API over HTTP: a batch above the cap is refused whole; a tenant past
// its limits is told 429 with Retry-After (and live streams are counted too);
// and while one tenant runs the heaviest load it is allowed, another tenant's
// user and a real host agent are still answered and the host stays connected.
// No latency is asserted: behaviour only (answered, not suspect).

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function api(env: Record<string, string> = {}): Promise<TestApi> {
  const started = await startTestApi({ env });
  cleanups.push(() => started.close());
  return started;
}

const DAY_MS = 86_400_000;

/** A year and a month of daily cost buckets ending tomorrow: the dearest cost series allowed (400 buckets). */
function yearOfDays() {
  const todayMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  return {
    period: { from: new Date(todayMs - 399 * DAY_MS).toISOString(), to: new Date(todayMs + DAY_MS).toISOString() },
    bucket: 'day' as const,
  };
}

/** A batched GET of `count` calls of `path`, as the console's client sends it. */
function batchUrl(baseUrl: string, path: string, count: number, input: unknown): string {
  const inputs = Object.fromEntries(Array.from({ length: count }, (_, i) => [i, superjson.serialize(input)]));
  return `${baseUrl}/api/trpc/${Array(count).fill(path).join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;
}

function headersOf(client: ApiClient): Record<string, string> {
  return { cookie: client.cookie ?? '', origin: client.origin };
}

/** The message of a whole-request tRPC error, or of the first call's. */
async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as unknown;
  const first = (Array.isArray(body) ? body[0] : body) as {
    error?: { json: { message: string; data: { code: string } } };
  };
  return { code: first.error?.json.data.code ?? 'none', message: first.error?.json.message ?? '' };
}

describe('one tenant cannot slow the others', () => {
  it('refuses a batch above the cap whole, saying the cap, and serves one at the cap', async () => {
    const server = await api();
    const { yellowAdmin } = await seedAndSignIn(server);
    const over = await fetch(batchUrl(server.url, 'vms.list', 17, { page: 1, pageSize: 25 }), {
      headers: headersOf(yellowAdmin),
    });
    expect(over.status).toBe(400);
    expect(await errorOf(over)).toEqual({
      code: 'BAD_REQUEST',
      message: 'A batch may hold at most 16 calls; this one has 17. Send fewer calls per request.',
    });
    // Mutations batch in a POST body: the same cap.
    const posted = await fetch(`${server.url}/api/trpc/${Array(17).fill('vms.act').join(',')}?batch=1`, {
      method: 'POST',
      headers: { ...headersOf(yellowAdmin), 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(posted.status).toBe(400);
    expect((await errorOf(posted)).message).toContain('at most 16 calls');

    const atCap = await fetch(batchUrl(server.url, 'vms.list', 16, { page: 1, pageSize: 25 }), {
      headers: headersOf(yellowAdmin),
    });
    expect(atCap.status).toBe(200);
    expect(((await atCap.json()) as unknown[]).length).toBe(16);
  });

  it("answers a tenant's load past its limits with 429 and Retry-After, and another tenant is not charged for it", async () => {
    // Small buckets so a few calls reach them: 4 year-long cost series cost 40 units.
    const server = await api({
      FABRIC_USER_BURST: '50',
      FABRIC_USER_RATE: '1',
      FABRIC_TENANT_BURST: '60',
      FABRIC_TENANT_RATE: '1',
    });
    const { blueAdmin, yellowAdmin } = await seedAndSignIn(server, { billingHistory: true });
    const url = batchUrl(server.url, 'chargeback.costSeries', 4, yearOfDays());
    const responses = await Promise.all(Array.from({ length: 5 }, () => fetch(url, { headers: headersOf(blueAdmin) })));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429, 429, 429, 429]);
    const refused = responses.filter((r) => r.status === 429);
    for (const response of refused) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const error = await errorOf(response);
      expect(error.code).toBe('TOO_MANY_REQUESTS');
      expect(error.message).toMatch(
        /Too many requests from this user \(at most 1 units of work a second, bursts of 50\): retry in \d+ s\./,
      );
    }
    // The answered batch carries the series themselves.
    const answered = (await responses.find((r) => r.status === 200)?.json()) as { result?: unknown }[] | undefined;
    expect(answered?.map((call) => call.result !== undefined)).toEqual([true, true, true, true]);

    // Yellow's buckets are its own: answered at once.
    const other = await yellowAdmin.call('vms.list', 'query', { page: 1, pageSize: 25 });
    expect(other.ok).toBe(true);
  });

  it('counts open live-update streams per user: one more than allowed is refused, a closed one frees its slot', async () => {
    const server = await api({ FABRIC_USER_STREAMS: '2' });
    const { blueAdmin } = await seedAndSignIn(server);
    const streams: AbortController[] = [];
    cleanups.push(async () => {
      for (const s of streams) s.abort();
    });
    const open = async () => {
      const controller = new AbortController();
      streams.push(controller);
      const response = await fetch(`${server.url}/api/trpc/tasks.onChange?input=${encodeURIComponent('{}')}`, {
        headers: { ...headersOf(blueAdmin), accept: 'text/event-stream' },
        signal: controller.signal,
      });
      return { response, controller };
    };
    const first = await open();
    const second = await open();
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    const third = await open();
    expect(third.response.status).toBe(429);
    expect(third.response.headers.get('retry-after')).toBe('1');
    expect((await errorOf(third.response)).message).toBe(
      'Too many open live-update streams for this user (at most 2): wait for one to finish.',
    );
    first.controller.abort();
    const again = await eventually(
      async () => {
        const next = await open();
        if (next.response.status === 200) return next;
        next.controller.abort();
        return null;
      },
      10_000,
      'a stream slot to free when a stream closes',
    );
    expect(again.response.status).toBe(200);
  });

  it("keeps another tenant's calls and a real agent's heartbeats answered, and the host connected, under the heaviest allowed load", async () => {
    // Heartbeats every 2 s: a host silent for 6 s turns suspect (the default 3 missed beats).
    const server = await api({
      FABRIC_HEARTBEAT_INTERVAL_MS: '2000',
      FABRIC_SUSPECT_AFTER_MISSED: '3',
      FABRIC_FAILED_AFTER_MISSED: '6',
      FABRIC_MONITOR_INTERVAL_MS: '1000',
    });
    const { admin, blueAdmin, yellowAdmin } = await seedAndSignIn(server, { billingHistory: true });
    const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
    const production = clusters.find((c) => c.name === 'Production');
    const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
    const agent: AgentProcess = spawnAgent({
      api: server.url,
      hostname: 'load-01',
      stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-agent-')),
      token,
    });
    cleanups.push(() => agent.kill('SIGKILL'));
    const hostState = async () => {
      const list = await admin.query<{ rows: { id: string; name: string; state: string }[] }>('hosts.list', {
        search: 'load-01',
      });
      return list.rows.find((h) => h.name === 'load-01');
    };
    const host = await eventually(
      async () => ((await hostState())?.state === 'connected' ? hostState() : null),
      30_000,
      'the host to connect',
    );

    // Blue's admin, hostile: six workers sending batches of the most calls allowed, each the dearest
    // cost series there is, without waiting when told to (Retry-After), for 15 s.
    const url = batchUrl(server.url, 'chargeback.costSeries', 16, yearOfDays());
    const heavyStatuses = new Map<number, number>();
    let stop = false;
    const heavy = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const response = await fetch(url, { headers: headersOf(blueAdmin) });
        await response.arrayBuffer();
        heavyStatuses.set(response.status, (heavyStatuses.get(response.status) ?? 0) + 1);
      }
    });
    // Yellow's admin works as usual meanwhile: every call must be answered.
    const otherResults: boolean[] = [];
    const other = (async () => {
      while (!stop) {
        const result = await yellowAdmin.call('vms.list', 'query', { page: 1, pageSize: 25 });
        otherResults.push(result.ok);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    stop = true;
    await Promise.all([...heavy, other]);

    // The heavy tenant was served within its limits and refused beyond them.
    expect(heavyStatuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(heavyStatuses.get(429) ?? 0).toBeGreaterThan(0);
    expect(otherResults.length).toBeGreaterThan(5);
    expect(otherResults.every((ok) => ok)).toBe(true);
    // The host never missed enough beats to be suspected: still connected, no state change recorded.
    expect((await hostState())?.state).toBe('connected');
    const detail = await admin.query<{ events: { action: string; message: string }[] }>('hosts.get', { id: host?.id });
    expect(detail.events.filter((e) => e.action === 'host.state' && e.message.includes('suspect'))).toEqual([]);
    // Seeding, an agent's start and 15 s of load: more than the default minute on a busy machine.
  }, 120_000);
});
