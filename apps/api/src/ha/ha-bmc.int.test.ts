import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runsOf } from '../../../agent/src/testing/run-log-overlap';
import { eventually } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';
import { HaKit, ROOMY_QUOTA, tcpProxy } from './ha-test-kit';

// Fencing through a BMC, with real agent processes and their simulated BMCs (issue 11):
//  - bmc-p is cut off from the control plane by a TCP proxy but stays alive, with the isolation response
//    keep-running, so its VMs keep running and its lease proves nothing. With fence method bmc the
//    recovery powers it off through its BMC (the BMC kills the agent's process), confirms PowerState Off,
//    and restarts its HA VMs elsewhere long before the 90 s lease; the agents' run logs show no VM on
//    two hosts at once.
//  - bmc-q's BMC login is wrong: the power-off is refused (401), the event says so and falls back to the
//    lease (isolation response power-off); its VM restarts after the lease and never ran twice.
//  - bmc-r has no BMC and keeps running: the lease proves nothing, so nothing restarts past it; once the
//    provider sets its BMC login, the next retry powers it off and its VM restarts elsewhere.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let clusterId = '';
let proxyUrl = '';
const proxy = tcpProxy(0);
const kit = new HaKit({ apiUrl: () => api.url, c: () => c, clusterId: () => clusterId });

const closers: (() => Promise<void>)[] = [];

/** A lease far longer than the test may wait: only the BMC can fence in time. */
const LONG_LEASE_MS = 90_000;

async function powerState(host: string) {
  const bmc = kit.bmcs.get(host);
  if (!bmc) throw new Error(`${host} has no BMC`);
  const res = await fetch(`${bmc.url}/redfish/v1/Systems/1`, {
    headers: { authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString('base64')}` },
  });
  return ((await res.json()) as { PowerState: string }).PowerState;
}

/** Starts `host` behind the proxy with its BMC, and its VMs there (the other hosts in maintenance meanwhile). */
async function hostWithVms(host: string, vms: string[], apiUrl = proxyUrl) {
  const others = [...(await kit.hosts('bmc-')).values()].filter((h) => h.state === 'connected');
  await kit.startAgent(host, { apiUrl, bmc: true });
  await kit.waitConnected([host]);
  for (const h of others) await c.admin.mutate('hosts.setMaintenance', { id: h.id, enabled: true, reason: 'test' });
  const ids = [];
  for (const name of vms) ids.push(await kit.createVm(name, 1, 'high'));
  await kit.waitRunning(ids);
  for (const h of others) await c.admin.mutate('hosts.setMaintenance', { id: h.id, enabled: false });
  await kit.waitConnected(others.map((h) => h.name));
  return { hostId: await kit.hostId(host), ids };
}

beforeAll(async () => {
  process.env.FABRIC_HA_DIR = kit.haDir;
  process.env.FABRIC_HA_PEER_MS = '300';
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  proxy.retarget(Number(new URL(api.url).port));
  proxyUrl = `http://127.0.0.1:${await proxy.listen()}`;
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  await c.admin.mutate('quotas.set', {
    tenantId: tenants.find((t) => t.name === 'Blue Corp')?.id ?? '',
    quota: ROOMY_QUOTA,
  });
  clusterId = (await c.admin.mutate<{ id: string }>('clusters.create', { name: 'HA-BMC' })).id;
  await c.admin.mutate('ha.updateSettings', {
    clusterId,
    settings: {
      enabled: true,
      detectionTimeoutMs: 4000,
      isolationTimeoutMs: 5000,
      fencingTimeoutMs: LONG_LEASE_MS,
      isolationResponse: 'keep-running',
      fenceMethod: 'bmc',
    },
  });
  await kit.startAgent('bmc-b');
  await kit.waitConnected(['bmc-b']);
}, 120_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await kit.dump();
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  proxy.cut();
  await kit.close();
  await proxy.close().catch(() => undefined);
  await api?.close();
  delete process.env.FABRIC_HA_DIR;
  delete process.env.FABRIC_HA_PEER_MS;
});

describe('fencing through a BMC', () => {
  it('keeps a BMC login like a credential: validated, the password never returned, audited', async () => {
    const hostId = await kit.hostId('bmc-b');
    expect(await c.admin.query('hosts.bmc', { hostId })).toBeNull();
    const bad = await c.admin.call('hosts.setBmc', 'mutation', {
      hostId,
      url: 'ftp://10.0.0.5',
      username: 'admin',
      password: 'x',
    });
    expect(bad).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: expect.stringContaining('http(s) URL') });
    const inUrl = await c.admin.call('hosts.setBmc', 'mutation', {
      hostId,
      url: 'https://root:calvin@10.0.0.5',
      username: 'root',
      password: 'calvin',
    });
    expect(inUrl).toMatchObject({ ok: false, message: expect.stringContaining('must not hold a username') });
    const long = await c.admin.call('hosts.setBmc', 'mutation', {
      hostId,
      url: 'https://10.0.0.5',
      username: 'root',
      password: 'p'.repeat(129),
    });
    expect(long).toMatchObject({ ok: false, message: expect.stringContaining('at most 128 characters') });
    // No password yet and none given: refused.
    const noPassword = await c.admin.call('hosts.setBmc', 'mutation', {
      hostId,
      url: 'https://10.0.0.5',
      username: 'root',
    });
    expect(noPassword).toMatchObject({ ok: false, message: expect.stringContaining('no BMC password yet') });

    await c.admin.mutate('hosts.setBmc', { hostId, url: 'https://10.0.0.5', username: 'root', password: 'calvin-7' });
    // Replacing the URL keeps the password.
    await c.admin.mutate('hosts.setBmc', { hostId, url: 'https://10.0.0.6', username: 'root' });
    const view = await c.admin.query<Record<string, unknown>>('hosts.bmc', { hostId });
    expect(view).toMatchObject({ url: 'https://10.0.0.6', username: 'root', passwordSet: true });
    expect(JSON.stringify(view)).not.toContain('calvin');
    const host = await c.admin.query<{ events: { action: string; message: string }[] }>('hosts.get', { id: hostId });
    expect(host.events.map((e) => e.action)).toEqual(expect.arrayContaining(['host.bmc.set', 'host.bmc.replace']));
    expect(JSON.stringify(host.events)).not.toContain('calvin');
    await c.admin.mutate('hosts.removeBmc', { hostId });
    expect(await c.admin.query('hosts.bmc', { hostId })).toBeNull();
  }, 60_000);

  it('powers a cut-off host that keeps running off through its BMC and restarts its VMs elsewhere, well before the lease', async () => {
    const { hostId, ids } = await hostWithVms('bmc-p', ['bmc-web-01', 'bmc-web-02']);
    const bmc = kit.bmcs.get('bmc-p');
    await c.admin.mutate('hosts.setBmc', {
      hostId,
      url: bmc?.url,
      username: bmc?.username,
      password: bmc?.password,
    });
    expect(await powerState('bmc-p')).toBe('On');
    const cutAt = Date.now();
    proxy.cut();
    const event = await kit.eventFor(
      hostId,
      (e) => ids.every((id) => e.restarts.some((r) => r.vmId === id && r.state === 'running')),
      75_000,
      'bmc-p’s VMs to run again elsewhere',
    );
    const took = Date.now() - cutAt;
    console.log(
      `HA BMC fencing: running elsewhere ${took} ms after the cut, RTO ${event.restarts.map((r) => `${r.vmName} ${r.rtoMs} ms`).join(', ')}`,
    );
    const fenced = event.timeline.find((t) => t.kind === 'fenced');
    expect(fenced?.message).toMatch(/^Powered off through the BMC at /);
    // Well before the lease: only the BMC could have fenced it.
    expect(took).toBeLessThan(LONG_LEASE_MS - 20_000);
    for (const r of event.restarts) expect(r.rtoMs ?? Infinity).toBeLessThan(LONG_LEASE_MS - 20_000);
    // The host is really off: its agent process is gone, its BMC says Off, its run log ended its VMs then.
    expect(await powerState('bmc-p')).toBe('Off');
    await eventually(
      async () =>
        kit.agents.get('bmc-p')?.process.exitCode !== null || kit.agents.get('bmc-p')?.process.signalCode !== null,
      10_000,
      'the agent to be gone',
    );
    expect(kit.agents.get('bmc-p')?.process.signalCode).toBe('SIGKILL');
    for (const id of ids) {
      const last = runsOf({ path: kit.dirs.get('bmc-p') as string })
        .filter((r) => r.vmId === id)
        .at(-1);
      expect(last?.stoppedBy).toBe('bmc-power-off');
      const runningAt = event.restarts.find((r) => r.vmId === id)?.runningAt as string;
      expect((last?.to ?? new Date(8.64e15)).getTime()).toBeLessThanOrEqual(new Date(runningAt).getTime());
    }
    expect(kit.overlaps()).toEqual([]);

    // Started again while its BMC says Off, the agent does not boot.
    const again = await kit.startAgent('bmc-p', { apiUrl: proxyUrl });
    expect(await again.exited).toBe(1);
    expect(again.output()).toContain('powered off (its BMC says Off');
  }, 150_000);

  it('falls back to the lease, saying why, when the BMC refuses the login', async () => {
    await c.admin.mutate('ha.updateSettings', {
      clusterId,
      settings: { fencingTimeoutMs: 12_000, isolationResponse: 'power-off' },
    });
    proxy.heal();
    const { hostId, ids } = await hostWithVms('bmc-q', ['bmc-db-01']);
    const bmc = kit.bmcs.get('bmc-q');
    await c.admin.mutate('hosts.setBmc', {
      hostId,
      url: bmc?.url,
      username: bmc?.username,
      password: 'wrong-password',
    });
    proxy.cut();
    const event = await kit.eventFor(
      hostId,
      (e) => e.restarts.some((r) => r.vmId === ids[0] && r.state === 'running'),
      90_000,
      'bmc-q’s VM to run again elsewhere',
    );
    const failed = event.timeline.find((t) => t.kind === 'bmc-failed');
    expect(failed?.message).toContain('refused the credentials (HTTP 401)');
    expect(failed?.message).toContain('falling back to the lease');
    expect(event.timeline.find((t) => t.kind === 'fenced')?.message).toMatch(/^Lease expired/);
    const restart = event.restarts.find((r) => r.vmId === ids[0]);
    expect(restart?.rtoMs ?? 0).toBeGreaterThanOrEqual(12_000);
    // Nobody powered it off: its agent still runs, and it turned its VM off itself (isolation).
    expect(await powerState('bmc-q')).toBe('On');
    expect(kit.agents.get('bmc-q')?.process.exitCode).toBeNull();
    const last = runsOf({ path: kit.dirs.get('bmc-q') as string })
      .filter((r) => r.vmId === ids[0])
      .at(-1);
    expect(last?.stoppedBy).toBe('isolation');
    expect(kit.overlaps()).toEqual([]);
  }, 180_000);

  it('with keep-running and no BMC, never trusts the lease; a BMC login set later fences the host', async () => {
    await c.admin.mutate('ha.updateSettings', { clusterId, settings: { isolationResponse: 'keep-running' } });
    // A line of its own: bmc-q stays cut off behind the first proxy (healed, it would take the new VM).
    const line = tcpProxy(Number(new URL(api.url).port));
    closers.push(() => line.close());
    const { hostId, ids } = await hostWithVms('bmc-r', ['bmc-app-01'], `http://127.0.0.1:${await line.listen()}`);
    line.cut();
    const waiting = await kit.eventFor(
      hostId,
      (e) => e.timeline.some((t) => t.kind === 'bmc-failed'),
      60_000,
      'the event to say bmc-r has no BMC',
    );
    const failed = waiting.timeline.find((t) => t.kind === 'bmc-failed');
    expect(failed?.message).toContain('No BMC is configured for bmc-r');
    expect(failed?.message).toContain('keep-running its lease proves nothing');
    // Well past the 12 s lease: still not fenced, nothing restarted (the VM keeps running on bmc-r).
    const pastLease = new Date(waiting.lastHeartbeatAt).getTime() + 12_000 + 6_000;
    await new Promise((r) => setTimeout(r, Math.max(0, pastLease - Date.now())));
    const still = (await kit.events()).find((e) => e.id === waiting.id);
    expect(still?.fencedAt).toBeNull();
    expect(still?.restarts.find((r) => r.vmId === ids[0])?.state).toBe('pending');
    expect(runsOf({ path: kit.dirs.get('bmc-r') as string }).find((r) => r.vmId === ids[0])?.to).toBeNull();

    // The provider sets the BMC: the next retry powers bmc-r off and the VM restarts elsewhere.
    const bmc = kit.bmcs.get('bmc-r');
    await c.admin.mutate('hosts.setBmc', { hostId, url: bmc?.url, username: bmc?.username, password: bmc?.password });
    const event = await kit.eventFor(
      hostId,
      (e) => e.restarts.some((r) => r.vmId === ids[0] && r.state === 'running'),
      60_000,
      'bmc-app-01 to run elsewhere once the BMC is set',
    );
    expect(event.timeline.find((t) => t.kind === 'fenced')?.message).toMatch(/^Powered off through the BMC at /);
    expect(await powerState('bmc-r')).toBe('Off');
    expect(kit.overlaps()).toEqual([]);
  }, 180_000);
});
