import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runsOf } from '../../../agent/src/testing/run-log-overlap';
import { eventually } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';
import { FAST_HA, HaKit, ROOMY_QUOTA, tcpProxy } from './ha-test-kit';

// A host that is heard from again after it was fenced, with real agent processes (issue 11):
//  - ret-a runs ret-big (40 GiB, HA high) and ret-off (HA high, but off). It is cut off by a TCP proxy:
//    it powers ret-big off, its lease runs out, ret-big waits for capacity (ret-b has no room) and ret-off
//    is listed as not restarted because it was off.
//  - The VM page's question "is it coming back?" (ha.vmRecovery): waiting for capacity after ret-a failed,
//    with placement's reason for the provider; the tenant sees it without host names; others NOT_FOUND.
//  - ret-a's line heals while ret-big still waits: ret-a is back, so it takes its own waiting VM back (started
//    there again, not moved). (Before hosts took their VMs back, ret-big waited for ret-c to join and ret-a
//    discarded its copy; copies of VMs that did move are discarded in ha-recovery's partition test.)

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let clusterId = '';
let proxyUrl = '';
const proxy = tcpProxy(0);
const kit = new HaKit({ apiUrl: () => api.url, c: () => c, clusterId: () => clusterId });

interface VmRecovery {
  state: string;
  eventId: string;
  jobId: string | null;
  failedHostName: string | null;
  toHostName: string | null;
  reason: string;
}

beforeAll(async () => {
  process.env.FABRIC_HA_DIR = kit.haDir;
  process.env.FABRIC_HA_PEER_MS = '300';
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  proxy.retarget(Number(new URL(api.url).port));
  proxyUrl = `http://127.0.0.1:${await proxy.listen()}`;
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  await c.admin.mutate('quotas.set', { tenantId: blueId, quota: ROOMY_QUOTA });
  clusterId = (await c.admin.mutate<{ id: string }>('clusters.create', { name: 'HA-Return' })).id;
  await c.admin.mutate('ha.updateSettings', { clusterId, settings: FAST_HA });
}, 90_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await kit.dump();
});

afterAll(async () => {
  proxy.cut();
  await kit.close();
  await proxy.close().catch(() => undefined);
  await api?.close();
  delete process.env.FABRIC_HA_DIR;
  delete process.env.FABRIC_HA_PEER_MS;
});

const holds = (host: string, vmId: string) =>
  readFileSync(path.join(kit.dirs.get(host) as string, 'vms.json'), 'utf8').includes(vmId);

describe('a host heard from again after it was fenced', () => {
  it('HA events of a cluster that does not exist are NOT_FOUND naming it, not an empty list', async () => {
    const missing = '00000000-0000-4000-8000-000000000011';
    const r = await c.admin.call('ha.events', 'query', { clusterId: missing });
    expect(r).toMatchObject({ ok: false, code: 'NOT_FOUND', message: expect.stringContaining(missing) });
  });

  it('lists its off VM as not restarted, says why the other waits, and takes it back when the host returns', async () => {
    const small = { profile: 'small-1x8-64g' };
    await kit.startAgent('ret-a', { ...small, apiUrl: proxyUrl });
    await kit.waitConnected(['ret-a']);
    const big = await kit.createVm('ret-big', 40, 'high');
    const off = (
      await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
        name: 'ret-off',
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 4096 },
        disks: [{ sizeGiB: 10 }],
        haPriority: 'high',
        startAfterCreate: false,
      })
    ).vm.id;
    await kit.startAgent('ret-b', small);
    await kit.waitConnected(['ret-b']);
    const filler = await kit.createVm('ret-fill', 30, 'off');
    await kit.waitRunning([big, filler]);
    await eventually(async () => (await kit.vm(off)).state === 'off', 30_000, 'ret-off to be created, off');
    expect((await kit.vm(big)).hostName).toBe('ret-a');
    expect((await kit.vm(off)).hostName).toBe('ret-a');
    expect((await kit.vm(filler)).hostName).toBe('ret-b');
    expect(await c.admin.query('ha.vmRecovery', { vmId: big })).toBeNull();

    const aId = await kit.hostId('ret-a');
    proxy.cut();
    const waiting = await kit.eventFor(
      aId,
      (e) => e.fencedAt !== null && e.restarts.some((r) => r.vmId === big && r.state === 'waiting-capacity'),
      60_000,
      'ret-big to wait for capacity after ret-a was fenced',
    );
    // The off VM: not restarted, and the event says so (its row and the stock-taking in the timeline).
    const offRow = waiting.restarts.find((r) => r.vmId === off);
    expect(offRow).toMatchObject({ state: 'not-restarted', toHostId: null });
    expect(offRow?.reason).toBe('Not restarted: it was off');
    expect(waiting.timeline.find((t) => t.kind === 'stock')?.message).toContain('ret-off was off');
    expect(await c.admin.query('ha.vmRecovery', { vmId: off })).toBeNull();

    // The VM page: the provider sees the failed host and placement's reason; the tenant neither.
    const forAdmin = await c.admin.query<VmRecovery>('ha.vmRecovery', { vmId: big });
    expect(forAdmin).toMatchObject({
      state: 'waiting-capacity',
      eventId: waiting.id,
      jobId: waiting.id,
      failedHostName: 'ret-a',
      toHostName: null,
    });
    expect(forAdmin.reason).toMatch(/memory/i);
    const forBlue = await c.blueUser.query<VmRecovery>('ha.vmRecovery', { vmId: big });
    expect(forBlue).toMatchObject({ state: 'waiting-capacity', failedHostName: null, toHostName: null });
    expect(JSON.stringify(forBlue)).not.toMatch(/ret-[abc]|GiB|MiB/);
    expect(await c.yellowAdmin.call('ha.vmRecovery', 'query', { vmId: big })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });

    // The line heals while ret-big still waits: ret-a is back, so it takes its own waiting VM back (started there
    // again at the epoch it has, not moved: nothing to discard), and the event is recovered.
    proxy.heal();
    await kit.waitConnected(['ret-a']);
    const back = await kit.eventFor(
      aId,
      (e) => e.state === 'recovered' && e.restarts.some((r) => r.vmId === big && r.state === 'running'),
      90_000,
      'ret-big to run again on ret-a, back',
    );
    expect(back.restarts.find((r) => r.vmId === big)?.toHostId).toBe(aId);
    expect(back.timeline.some((t) => t.kind === 'restarting' && t.message.includes('ret-a, back'))).toBe(true);
    const now = await kit.vm(big);
    expect({ state: now.state, host: now.hostName }).toEqual({ state: 'running', host: 'ret-a' });
    expect(holds('ret-a', big)).toBe(true);
    // Stopped by its isolation response, then started again there; nothing ran twice.
    const onA = runsOf({ path: kit.dirs.get('ret-a') as string }).filter((r) => r.vmId === big);
    expect(onA.at(-2)?.stoppedBy).toBe('isolation');
    expect(onA.at(-1)?.to).toBeNull();
    expect(kit.overlaps()).toEqual([]);
    // The off VM stays where it was (its host is back), off.
    expect(holds('ret-a', off)).toBe(true);
    expect((await kit.vm(off)).state).toBe('off');
    await eventually(
      async () => (await c.admin.query('ha.vmRecovery', { vmId: big })) === null,
      30_000,
      'the VM page to stop saying it is coming back',
    );
  }, 180_000);
});
