import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, inventoryFor, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { seedAndSignIn } from '../testing/seed';

// The agent protocol over HTTP, as a foreign agent would speak it: every bad
// request is refused with a 4xx and a clear message, and writes nothing.

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let admin: ApiClient;
let clusterId: string;

async function newToken(ttlMinutes = 60, cluster = clusterId): Promise<string> {
  const created = await admin.mutate<{ token: string }>('tokens.create', { clusterId: cluster, ttlMinutes });
  return created.token;
}

async function registered(hostname: string) {
  const response = await register(api.url, await newToken(), hostname);
  expect(response.status).toBe(201);
  return response.body as { hostId: string; credential: string };
}

beforeAll(async () => {
  api = await startTestApi({ clock, monitor: false });
  ({ admin } = await seedAndSignIn(api));
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  clusterId = clusters.find((c) => c.name === 'Production')?.id ?? '';
});
afterAll(() => api.close());

describe('registration', () => {
  it('exchanges a one-time token for a host credential and records the inventory', async () => {
    const { hostId, credential } = await registered('proto-01');
    expect(credential.startsWith(`${hostId}.`)).toBe(true);
    const host = await admin.query<{ name: string; logicalProcessors: number; nics: unknown[]; state: string }>(
      'hosts.get',
      { id: hostId },
    );
    expect(host).toMatchObject({ name: 'proto-01', logicalProcessors: 64, state: 'connected' });
    expect(host.nics).toHaveLength(2);
    expect(await countRows(api.databaseUrl, 'host_credentials', `host_id = '${hostId}'`)).toBe(1);
    // The secret itself is never stored.
    const secret = credential.slice(credential.indexOf('.') + 1);
    expect(await countRows(api.databaseUrl, 'host_credentials', `secret_hash = '${secret}'`)).toBe(0);
  });

  it('refuses a reused token', async () => {
    const token = await newToken();
    expect((await register(api.url, token, 'proto-reuse-1')).status).toBe(201);
    const again = await register(api.url, token, 'proto-reuse-2');
    expect(again.status).toBe(401);
    expect(again.body.error?.code).toBe('TOKEN_USED');
    expect(await countRows(api.databaseUrl, 'hosts', `name = 'proto-reuse-2'`)).toBe(0);
  });

  it('a retried registration (same request id, first answer lost) gets the same host and a working credential', async () => {
    const token = await newToken();
    const requestId = '3b2f8a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
    const inventory = inventoryFor('proto-retry');
    const body = { token, requestId, agentVersion: '0.1.0', driver: 'simulated', inventory };
    const first = await agentPost(api.url, '/agent/v1/register', body);
    expect(first.status).toBe(201);
    const retry = await agentPost(api.url, '/agent/v1/register', body);
    expect(retry.status).toBe(201);
    expect(retry.body.hostId).toBe(first.body.hostId);
    expect(retry.body.inventoryHash).toBe(first.body.inventoryHash);
    expect(await countRows(api.databaseUrl, 'hosts', `name = 'proto-retry'`)).toBe(1);
    // The lost credential is void; the reissued one works.
    const beat = (credential: unknown) =>
      agentPost(
        api.url,
        `/agent/v1/hosts/${first.body.hostId}/heartbeat`,
        { seq: Date.now(), agentVersion: '0.1.0', inventoryHash: '' },
        { credential: String(credential) },
      );
    expect((await beat(first.body.credential)).status).toBe(401);
    expect((await beat(retry.body.credential)).status).toBe(200);
    // Another request id with the spent token is still refused.
    const other = await agentPost(api.url, '/agent/v1/register', {
      ...body,
      requestId: '9b2f8a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b',
    });
    expect(other.body.error?.code).toBe('TOKEN_USED');
  });

  it('refuses an expired token', async () => {
    const token = await newToken(5);
    offsetMs = 6 * 60_000;
    try {
      const response = await register(api.url, token, 'proto-expired');
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'TOKEN_EXPIRED', message: expect.stringMatching(/expired/) });
    } finally {
      offsetMs = 0;
    }
    expect(await countRows(api.databaseUrl, 'hosts', `name = 'proto-expired'`)).toBe(0);
  });

  it('refuses a revoked token and an unknown one', async () => {
    const token = await newToken();
    const [listed] = await admin.query<{ id: string }[]>('tokens.list', { clusterId });
    await admin.mutate('tokens.revoke', { id: listed?.id });
    expect((await register(api.url, token, 'proto-revoked')).body.error?.code).toBe('TOKEN_REVOKED');
    expect((await register(api.url, 'fbr_not-a-real-token-at-all', 'proto-unknown')).status).toBe(401);
  });

  it('refuses a duplicate host name and leaves the token usable', async () => {
    const token = await newToken();
    const duplicate = await register(api.url, token, 'proto-01');
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error?.message).toMatch(/already registered/);
    expect((await register(api.url, token, 'proto-02')).status).toBe(201);
  });

  it('refuses registration into a full cluster with the limit in the message', async () => {
    const small = await admin.mutate<{ id: string }>('clusters.create', { name: 'Tiny', maxHosts: 1 });
    expect((await register(api.url, await newToken(60, small.id), 'tiny-01')).status).toBe(201);
    const full = await register(api.url, await newToken(60, small.id), 'tiny-02');
    expect(full.status).toBe(422);
    expect(full.body.error?.message).toMatch(/limit of 1 hosts/);
  });

  it('validates the inventory against the Hyper-V host limits', async () => {
    const token = await newToken();
    const tooBig = inventoryFor('proto-huge', {
      cpu: { model: 'x', mhz: 2000, sockets: 8, coresPerSocket: 42, logicalProcessors: 336 },
    });
    const response = await register(api.url, token, 'proto-huge', tooBig);
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/at most 320 logical processors/);
    const tooMuchMemory = inventoryFor('proto-huge', { memoryMiB: 4 * 1024 * 1024 + 1 });
    expect((await register(api.url, token, 'proto-huge', tooMuchMemory)).body.error?.message).toMatch(/4 TB/);
    // The token was not consumed by the refusals.
    expect((await register(api.url, token, 'proto-huge')).status).toBe(201);
  });
});

describe('malformed and hostile requests', () => {
  it('answers malformed JSON, wrong content type and oversized bodies with 4xx and writes nothing', async () => {
    const hostsBefore = await countRows(api.databaseUrl, 'hosts');
    const malformed = await agentPost(api.url, '/agent/v1/register', null, { raw: '{"token": ' });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'MALFORMED_JSON' } } });
    const wrongType = await agentPost(api.url, '/agent/v1/register', {}, { contentType: 'text/plain' });
    expect(wrongType.status).toBe(415);
    const huge = await agentPost(api.url, '/agent/v1/register', null, {
      raw: JSON.stringify({ token: 'x'.repeat(300 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const missing = await agentPost(api.url, '/agent/v1/register', { token: 'fbr_abcdefghijkl' });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.message).toMatch(/inventory/);
    expect(await countRows(api.databaseUrl, 'hosts')).toBe(hostsBefore);
  });

  it('refuses a credential reporting for another host, and audits it', async () => {
    const a = await registered('proto-forger');
    const b = await registered('proto-victim');
    const before = await countRows(api.databaseUrl, 'audit_events', `action = 'agent.impersonate'`);
    const forged = await agentPost(
      api.url,
      `/agent/v1/hosts/${b.hostId}/heartbeat`,
      { seq: Date.now(), agentVersion: '0.1.0', inventoryHash: '' },
      { credential: a.credential },
    );
    expect(forged.status).toBe(403);
    expect(await countRows(api.databaseUrl, 'audit_events', `action = 'agent.impersonate'`)).toBe(before + 1);
    // The victim's row is untouched.
    expect(await countRows(api.databaseUrl, 'hosts', `id = '${b.hostId}' AND last_seq = 0`)).toBe(1);
  });

  it('refuses missing or wrong credentials', async () => {
    const a = await registered('proto-nocred');
    const body = { seq: Date.now(), agentVersion: '0.1.0', inventoryHash: '' };
    expect((await agentPost(api.url, `/agent/v1/hosts/${a.hostId}/heartbeat`, body)).status).toBe(401);
    const wrong = `${a.hostId}.not-the-secret`;
    expect(
      (await agentPost(api.url, `/agent/v1/hosts/${a.hostId}/heartbeat`, body, { credential: wrong })).status,
    ).toBe(401);
  });

  it('refuses a replayed message and changes nothing', async () => {
    const a = await registered('proto-replay');
    const body = { seq: 1_000, agentVersion: '0.1.0', inventoryHash: '' };
    const path = `/agent/v1/hosts/${a.hostId}/heartbeat`;
    const first = await agentPost(api.url, path, body, { credential: a.credential });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: 'connected', inventoryRequested: true });
    const replay = await agentPost(api.url, path, body, { credential: a.credential });
    expect(replay).toMatchObject({ status: 409, body: { error: { code: 'REPLAYED' } } });
    const older = await agentPost(api.url, path, { ...body, seq: 999 }, { credential: a.credential });
    expect(older.status).toBe(409);
    expect(await countRows(api.databaseUrl, 'hosts', `id = '${a.hostId}' AND last_seq = 1000`)).toBe(1);
  });

  it('updates the inventory when it changes and asks for it when hashes differ', async () => {
    const a = await registered('proto-inv');
    const path = `/agent/v1/hosts/${a.hostId}/inventory`;
    const changed = inventoryFor('proto-inv', { memoryMiB: 768 * 1024 });
    const put = await agentPost(
      api.url,
      path,
      { seq: 10, agentVersion: '0.2.0', inventory: changed },
      { method: 'PUT', credential: a.credential },
    );
    expect(put.status).toBe(200);
    const hash = put.body.inventoryHash as string;
    const host = await admin.query<{ memoryMiB: number; agentVersion: string }>('hosts.get', { id: a.hostId });
    expect(host).toMatchObject({ memoryMiB: 768 * 1024, agentVersion: '0.2.0' });
    const beat = await agentPost(
      api.url,
      `/agent/v1/hosts/${a.hostId}/heartbeat`,
      { seq: 11, agentVersion: '0.2.0', inventoryHash: hash },
      { credential: a.credential },
    );
    expect(beat.body.inventoryRequested).toBe(false);
    // An inventory that claims another host name is refused.
    const renamed = await agentPost(
      api.url,
      path,
      { seq: 12, agentVersion: '0.2.0', inventory: inventoryFor('someone-else') },
      { method: 'PUT', credential: a.credential },
    );
    expect(renamed.status).toBe(409);

    // Many inventory reports do not push the host's other events off its page: the latest one shows.
    for (let i = 0; i < 55; i++) {
      const next = await agentPost(
        api.url,
        path,
        { seq: 20 + i, agentVersion: '0.2.0', inventory: inventoryFor('proto-inv', { memoryMiB: (700 + i) * 1024 }) },
        { method: 'PUT', credential: a.credential },
      );
      expect(next.status).toBe(200);
    }
    const page = await admin.query<{ events: { action: string }[] }>('hosts.get', { id: a.hostId });
    expect(page.events.filter((e) => e.action === 'host.inventory')).toHaveLength(1);
    expect(page.events.map((e) => e.action)).toContain('host.register');
  });

  it('a removed host’s credential stops working', async () => {
    const a = await registered('proto-removed');
    await admin.mutate('hosts.remove', { id: a.hostId });
    const beat = await agentPost(
      api.url,
      `/agent/v1/hosts/${a.hostId}/heartbeat`,
      { seq: Date.now(), agentVersion: '0.1.0', inventoryHash: '' },
      { credential: a.credential },
    );
    expect(beat.status).toBe(401);
  });
});

describe('concurrent registrations', () => {
  it('two agents registering the same name at once: exactly one host, the other refused with 409', async () => {
    const [a, b] = await Promise.all([newToken(), newToken()]);
    const results = await Promise.all([register(api.url, a, 'proto-race'), register(api.url, b, 'PROTO-RACE')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await countRows(api.databaseUrl, 'hosts', `lower(name) = 'proto-race'`)).toBe(1);
  });
});
