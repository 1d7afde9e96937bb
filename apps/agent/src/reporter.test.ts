import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentApiClient } from './api-client';
import { resolveProfilePath } from './drivers/simulated/profile';
import { SimulatedDriver } from './drivers/simulated/simulated-driver';
import { createMemoryLogger } from './log';
import { EXIT_CODES, Reporter, type ReporterOptions } from './reporter';
import { StateStore } from './state-store';
import { FakeAgentApi, waitFor } from './testing/fake-agent-api';

/**
 * The reporter against a real HTTP server on 127.0.0.1 (the fake API), with
 * intervals of a few ms so a whole outage-and-recovery takes well under a
 * second. Assertions wait for outcomes; none depends on exact timing.
 */
describe('Reporter', () => {
  let api: FakeAgentApi;
  let dir: string;
  let profilePath: string;
  let stateDir: string;
  const running: AbortController[] = [];

  beforeEach(async () => {
    api = new FakeAgentApi();
    await api.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-reporter-'));
    profilePath = path.join(dir, 'host.json');
    stateDir = path.join(dir, 'state');
    await copyFile(resolveProfilePath('standard-2x16-512g'), profilePath);
  });

  afterEach(async () => {
    for (const controller of running.splice(0)) controller.abort();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function start(options: Partial<ReporterOptions> = {}) {
    const controller = new AbortController();
    running.push(controller);
    const log = createMemoryLogger();
    const reporter = new Reporter({
      api: new AgentApiClient({ baseUrl: api.url, timeoutMs: 2000 }),
      driver: new SimulatedDriver({ profilePath, hostname: 'hv-test-01' }),
      store: new StateStore(stateDir),
      log,
      apiUrl: api.url,
      heartbeatMsOverride: 20,
      backoff: { initialMs: 5, maxMs: 40, factor: 2, jitterRatio: 0.2 },
      ...options,
    });
    const done = reporter.run(controller.signal);
    return { controller, log, done };
  }

  function onlyHost() {
    const [host, ...others] = api.hosts.values();
    if (!host || others.length > 0) throw new Error(`expected one registered host, got ${api.hosts.size}`);
    return host;
  }

  it('registers with the token (inventory included), stores the credential and heartbeats', async () => {
    const token = api.issueToken();
    const { controller, done, log } = start({ token });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 3, 'three heartbeats');
    controller.abort();
    expect(await done).toEqual({ code: EXIT_CODES.stopped, reason: 'stopped' });

    const host = onlyHost();
    expect(host.inventory.hostname).toBe('hv-test-01');
    const stored = JSON.parse(await readFile(path.join(stateDir, 'credential.json'), 'utf8'));
    expect(stored).toEqual({
      apiUrl: api.url,
      hostId: host.hostId,
      clusterId: api.clusterId,
      credential: host.credential,
    });

    // The registration carried the inventory: no separate report needed.
    expect(api.requestsTo('/inventory')).toHaveLength(0);
    const beats = api.requestsTo('/heartbeat').map((r) => r.body as { seq: number; inventoryHash: string });
    expect(beats.every((b) => b.inventoryHash === host.inventoryHash)).toBe(true);
    const seqs = api.requests
      .filter((r) => r.path.startsWith('/agent/v1/hosts/'))
      .map((r) => (r.body as { seq: number }).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(log.lines.some((l) => l.includes('registered as host'))).toBe(true);
  });

  it('restarts on the stored credential without a token, seq still increasing', async () => {
    const first = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 2, 'first run heartbeats');
    first.controller.abort();
    await first.done;
    const lastSeq = onlyHost().lastSeq;

    const second = start();
    await waitFor(() => onlyHost().heartbeats >= 4, 'second run heartbeats');
    second.controller.abort();
    expect((await second.done).code).toBe(EXIT_CODES.stopped);
    expect(api.requestsTo('/register')).toHaveLength(1);
    // No REPLAYED refusals: every message of the second run was above the first run's.
    expect(api.requests.filter((r) => r.status === 409)).toHaveLength(0);
    expect(onlyHost().lastSeq).toBeGreaterThan(lastSeq);
  });

  it('sends the inventory again when the profile changes, and only then', async () => {
    const { controller, done } = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 3, 'heartbeats');
    expect(api.requestsTo('/inventory')).toHaveLength(0);

    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    profile.memoryMiB = 1024 * 1024;
    await writeFile(profilePath, JSON.stringify(profile));
    await waitFor(() => onlyHost().inventory.memoryMiB === 1024 * 1024, 'new inventory');
    const beatsAtChange = onlyHost().heartbeats;
    await waitFor(() => onlyHost().heartbeats >= beatsAtChange + 3, 'more heartbeats');
    controller.abort();
    await done;
    expect(api.requestsTo('/inventory')).toHaveLength(1);
  });

  it('re-sends the inventory when a heartbeat asks for it', async () => {
    const { controller, done } = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 2, 'heartbeats');
    api.requestInventoryNext = true;
    await waitFor(() => api.requestsTo('/inventory').length === 1, 'requested inventory');
    controller.abort();
    await done;
  });

  it('rides out an API outage (503, then dropped connections) and recovers without a restart', async () => {
    const { controller, done, log } = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 2, 'heartbeats before outage');

    api.mode = 'down';
    await waitFor(() => api.requests.filter((r) => r.status === 503).length >= 4, 'retries during 503');
    api.mode = 'drop';
    await waitFor(() => api.requests.filter((r) => r.status === 0).length >= 4, 'retries during drop');
    const beatsBefore = onlyHost().heartbeats;
    api.mode = 'up';
    await waitFor(() => onlyHost().heartbeats >= beatsBefore + 3, 'heartbeats after recovery');
    controller.abort();
    expect((await done).code).toBe(EXIT_CODES.stopped);

    const warnings = log.lines.filter((l) => l.startsWith('warn'));
    expect(warnings.some((l) => l.includes('API unavailable (HTTP 503'))).toBe(true);
    expect(warnings.some((l) => l.includes('API unreachable'))).toBe(true);
    // Not one line per retry: far fewer warnings than failed attempts.
    const failedAttempts = api.requests.filter((r) => r.status === 503 || r.status === 0).length;
    expect(warnings.length).toBeLessThan(failedAttempts);
    expect(log.lines.some((l) => l.includes('API reachable again'))).toBe(true);
  });

  it('retries heartbeats at least once a heartbeat interval however long the API is down', async () => {
    // The backoff alone would reach 400 ms: the heartbeat (20 ms) caps it, so a returning API hears the host at once.
    const { controller, done, log } = start({
      token: api.issueToken(),
      backoff: { initialMs: 5, maxMs: 400, factor: 2, jitterRatio: 0.2 },
    });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 2, 'heartbeats before outage');
    api.mode = 'down';
    await waitFor(() => api.requests.filter((r) => r.status === 503).length >= 12, 'retries during 503');
    controller.abort();
    await done;
    const waits = log.lines.flatMap((l) => {
      const m = /retrying in (\d+)ms \(attempt (\d+)\)/.exec(l);
      return m ? [{ ms: Number(m[1]), attempt: Number(m[2]) }] : [];
    });
    // Attempt 8 would wait 640 ms (capped at 400) without the heartbeat's cap.
    expect(waits.some((w) => w.attempt >= 8)).toBe(true);
    expect(Math.max(...waits.map((w) => w.ms))).toBeLessThanOrEqual(20);
  });

  it('retries registration while the API is down', async () => {
    api.mode = 'down';
    const { controller, done } = start({ token: api.issueToken() });
    await waitFor(() => api.requests.length >= 3, 'registration retries');
    api.mode = 'up';
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 1, 'heartbeat after registering');
    controller.abort();
    expect((await done).code).toBe(EXIT_CODES.stopped);
    expect(api.requestsTo('/register')).toHaveLength(1);
  });

  it('exits 1 with the API message when the token is refused', async () => {
    const { done, log } = start({ token: 'fab_not-a-real-token' });
    const exit = await done;
    expect(exit.code).toBe(EXIT_CODES.fatal);
    expect(exit.reason).toContain('registration token is invalid or used');
    expect(log.lines.some((l) => l.startsWith('error') && l.includes('HTTP 401 INVALID_TOKEN'))).toBe(true);
  });

  it('hints at a lost answer when the token is refused after failed attempts', async () => {
    api.mode = 'down';
    const token = api.issueToken();
    const { done } = start({ token });
    await waitFor(() => api.requests.length >= 2, 'failed registration attempts');
    // As if an attempt had registered the host but its answer was lost.
    api.tokens.delete(token);
    api.mode = 'up';
    const exit = await done;
    expect(exit.code).toBe(EXIT_CODES.fatal);
    expect(exit.reason).toContain('an earlier attempt may have registered this host');
  });

  it('exits 2 when neither a credential nor a token is there', async () => {
    expect((await start().done).code).toBe(EXIT_CODES.usage);
  });

  it('exits 3 when the credential is revoked', async () => {
    const { done, log } = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 2, 'heartbeats');
    onlyHost().revoked = true;
    const exit = await done;
    expect(exit.code).toBe(EXIT_CODES.revoked);
    expect(log.lines.some((l) => l.includes('removed by an admin'))).toBe(true);
  });

  it('exits 4 when the credential belongs to another host', async () => {
    const first = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 1, 'heartbeat');
    first.controller.abort();
    await first.done;
    const store = new StateStore(stateDir);
    const stored = await store.loadCredential();
    if (!stored) throw new Error('no credential stored');
    await store.saveCredential({ ...stored, hostId: '00000000-0000-4000-8000-000000000000' });
    expect((await start().done).code).toBe(EXIT_CODES.wrongHost);
  });

  it('jumps its seq ahead and retries once after REPLAYED', async () => {
    const { controller, done, log } = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 1, 'heartbeat');
    const beats = onlyHost().heartbeats;
    api.replayNext = true;
    await waitFor(() => onlyHost().heartbeats >= beats + 2, 'heartbeats after replay');
    controller.abort();
    await done;
    const refused = api.requests.findIndex((r) => r.status === 409);
    const [replayed, retried] = api.requests.slice(refused, refused + 2);
    if (refused < 0 || !replayed || !retried) throw new Error('no REPLAYED answer followed by a retry');
    expect(retried.status).toBe(200);
    const seqOf = (body: unknown) => (body as { seq: number }).seq;
    expect(seqOf(retried.body)).toBeGreaterThanOrEqual(seqOf(replayed.body) + 1000);
    expect(log.lines.some((l) => l.includes('as a replay'))).toBe(true);
  });

  it('refuses a state directory registered with another API', async () => {
    const store = new StateStore(stateDir);
    await store.saveCredential({
      apiUrl: 'http://other-api:4000',
      hostId: 'h',
      clusterId: 'c',
      credential: 'h.secret',
    });
    const exit = await start({ token: api.issueToken() }).done;
    expect(exit.code).toBe(EXIT_CODES.fatal);
    expect(exit.reason).toContain('http://other-api:4000');
    expect(api.requests).toHaveLength(0);
  });

  it('keeps heartbeating on the last good inventory while the profile is broken', async () => {
    const { controller, done, log } = start({ token: api.issueToken() });
    await waitFor(() => (api.hosts.values().next().value?.heartbeats ?? 0) >= 1, 'heartbeat');
    await writeFile(profilePath, '{ half written');
    const beats = onlyHost().heartbeats;
    await waitFor(() => onlyHost().heartbeats >= beats + 3, 'heartbeats with broken profile');
    controller.abort();
    expect((await done).code).toBe(EXIT_CODES.stopped);
    expect(log.lines.filter((l) => l.includes('cannot read inventory'))).toHaveLength(1);
    expect(api.requestsTo('/inventory')).toHaveLength(0);
  });
});
