import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import { ApiClient } from '../testing/api-client';
import { spawnApi, testAuthSecret } from '../testing/api-process';
import { createTestDatabase, startTestApi, type TestApi, withSql } from '../testing/harness';
import { demoUser, seedAndSignIn } from '../testing/seed';

// Real agent processes against the real API: registration, heartbeats, being
// killed (suspect, then failed), coming back, inventory changes, API outages
// and two API processes sharing one monitor. Heartbeats are fast (1 s) so
// the story takes seconds; the thresholds are the defaults (3 and 6 missed).

// The monitor is a scheduled workflow ticking on whole seconds: a 1 s beat leaves
// a 3 s window between suspect and failed, so a tick always sees 'suspect'.
const FAST = {
  FABRIC_HEARTBEAT_INTERVAL_MS: '1000',
  FABRIC_SUSPECT_AFTER_MISSED: '3',
  FABRIC_FAILED_AFTER_MISSED: '6',
  FABRIC_MONITOR_INTERVAL_MS: '100',
};

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function api(options: { databaseUrl?: string; port?: number } = {}): Promise<TestApi> {
  const started = await startTestApi({
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    env: { ...FAST, ...(options.port ? { FABRIC_API_PORT: String(options.port) } : {}) },
  });
  cleanups.push(() => started.close());
  return started;
}

function agent(args: Parameters<typeof spawnAgent>[0]): AgentProcess {
  const started = spawnAgent(args);
  cleanups.push(() => started.kill('SIGKILL'));
  return started;
}

async function productionToken(admin: ApiClient): Promise<string> {
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((c) => c.name === 'Production');
  return (await admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id })).token;
}

type HostRow = { id: string; name: string; state: string; lastHeartbeatAt: Date | null; memoryMiB: number };

async function hostNamed(admin: ApiClient, name: string): Promise<HostRow | undefined> {
  const list = await admin.query<{ rows: HostRow[] }>('hosts.list', { search: name });
  return list.rows.find((h) => h.name === name);
}

function stateIs(admin: ApiClient, name: string, state: string) {
  return async () => {
    const host = await hostNamed(admin, name);
    return host?.state === state ? host : null;
  };
}

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fabric-agent-'));

describe('a real host agent', () => {
  it('registers, heartbeats, turns suspect then failed when killed, and reconnects without its token', async () => {
    const server = await api();
    const { admin } = await seedAndSignIn(server);
    const stateDir = tmp();
    const first = agent({ api: server.url, hostname: 'life-01', stateDir, token: await productionToken(admin) });

    const host = await eventually(stateIs(admin, 'life-01', 'connected'), 20_000, 'the host to register');
    const credentialFile = path.join(stateDir, 'credential.json');
    // The host row commits before the agent has the answer and stores it.
    await eventually(async () => existsSync(credentialFile), 10_000, 'the credential to be stored');
    expect(statSync(credentialFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(credentialFile, 'utf8')).hostId).toBe(host.id);

    await first.kill('SIGKILL');
    await eventually(stateIs(admin, 'life-01', 'suspect'), 10_000, 'the host to turn suspect');
    await eventually(stateIs(admin, 'life-01', 'failed'), 10_000, 'the host to turn failed');

    // The same agent comes back: no token this time, the stored credential is enough.
    agent({ api: server.url, hostname: 'life-01', stateDir });
    const back = await eventually(stateIs(admin, 'life-01', 'connected'), 20_000, 'the host to reconnect');
    expect(back.id).toBe(host.id);

    const detail = await admin.query<{ events: { action: string; message: string }[] }>('hosts.get', { id: host.id });
    const transitions = detail.events.filter((e) => e.action === 'host.state').map((e) => e.message);
    expect(transitions.some((m) => m.includes('connected → suspect'))).toBe(true);
    expect(transitions.some((m) => m.includes('suspect → failed'))).toBe(true);
    expect(transitions.some((m) => m.includes('failed → connected'))).toBe(true);
  });

  it('reports its inventory again when the host changes', async () => {
    const server = await api();
    const { admin } = await seedAndSignIn(server);
    const profileFile = path.join(tmp(), 'host.json');
    const builtIn = path.resolve(import.meta.dirname, '../../../agent/profiles/standard-2x16-512g.json');
    const profile = JSON.parse(readFileSync(builtIn, 'utf8')) as Record<string, unknown>;
    writeFileSync(profileFile, JSON.stringify(profile));
    agent({
      api: server.url,
      hostname: 'life-inv',
      stateDir: tmp(),
      token: await productionToken(admin),
      profile: profileFile,
    });
    const before = await eventually(stateIs(admin, 'life-inv', 'connected'), 20_000, 'registration');

    writeFileSync(profileFile, JSON.stringify({ ...profile, memoryMiB: before.memoryMiB * 2 }));
    await eventually(
      async () => (await hostNamed(admin, 'life-inv'))?.memoryMiB === before.memoryMiB * 2,
      20_000,
      'the new memory size to be reported',
    );
  });

  it('keeps retrying while the API is down and recovers without a restart', async () => {
    const databaseUrl = await createTestDatabase();
    const first = await api({ databaseUrl });
    const port = Number(new URL(first.url).port);
    const { admin } = await seedAndSignIn(first);
    const running = agent({
      api: first.url,
      hostname: 'life-outage',
      stateDir: tmp(),
      token: await productionToken(admin),
    });
    await eventually(stateIs(admin, 'life-outage', 'connected'), 20_000, 'registration');

    await first.close();
    await new Promise((r) => setTimeout(r, 1_500));
    const restartedAt = new Date();
    const second = await api({ databaseUrl, port });
    const { admin: admin2 } = await seedAndSignIn(second);
    const recovered = await eventually(
      async () => {
        const host = await hostNamed(admin2, 'life-outage');
        return host && host.state === 'connected' && host.lastHeartbeatAt && host.lastHeartbeatAt > restartedAt
          ? host
          : null;
      },
      40_000,
      'heartbeats to resume after the API restart',
    );
    expect(recovered.state).toBe('connected');
    expect(running.process.exitCode).toBeNull();
  });

  it('with two API processes, each state change happens once, and survives either one stopping', async () => {
    const databaseUrl = await createTestDatabase();
    const authSecret = testAuthSecret();
    // The workflow engine is one per process: the second API is a process of its own.
    const one = await startTestApi({ databaseUrl, env: { ...FAST, BETTER_AUTH_SECRET: authSecret } });
    cleanups.push(() => one.close());
    const two = await spawnApi({ databaseUrl, authSecret, executorId: 'life-ha-two', env: FAST });
    cleanups.push(() => two.kill('SIGKILL'));
    const { admin } = await seedAndSignIn(one);
    const running = agent({ api: one.url, hostname: 'life-ha', stateDir: tmp(), token: await productionToken(admin) });
    const host = await eventually(stateIs(admin, 'life-ha', 'connected'), 20_000, 'registration');

    await running.kill('SIGKILL');
    // The first API stops; the second one's monitor carries on.
    await one.close();
    const admin2 = await ApiClient.signIn(two.url, demoUser('admin').email, demoUser('admin').password);
    await eventually(stateIs(admin2, 'life-ha', 'failed'), 15_000, 'the host to fail');
    await new Promise((r) => setTimeout(r, 500));

    const counts = await withSql(databaseUrl, async (c) => {
      const r = await c.query<{ to: string; n: string }>(
        `SELECT details->>'to' AS to, count(*)::text AS n FROM audit_events
         WHERE action = 'host.state' AND target_id = $1 GROUP BY 1`,
        [host.id],
      );
      return Object.fromEntries(r.rows.map((row) => [row.to, Number(row.n)]));
    });
    expect(counts).toEqual({ suspect: 1, failed: 1 });
  });
});
