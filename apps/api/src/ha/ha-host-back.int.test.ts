import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runsOf } from '../../../agent/src/testing/run-log-overlap';
import { eventually } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';
import { FAST_HA, HaKit, ROOMY_QUOTA } from './ha-test-kit';

// A failed host comes back while some of its VMs still wait for capacity (issue 11), with real agent
// processes: back-a (64 GiB, with a simulated BMC) runs two 24 GiB HA VMs, back-b a 30 GiB VM with HA off.
// A power loss through back-a's BMC: the high VM restarts on back-b, the low one fits nowhere and waits.
// Power back on: back-a boots with its VMs off and starts its low VM again itself, at the epoch it has (not
// moved), while its copy of the high VM, restarted elsewhere, is discarded. No VM ran on two hosts at once.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let clusterId = '';
const kit = new HaKit({ apiUrl: () => api.url, c: () => c, clusterId: () => clusterId });

beforeAll(async () => {
  process.env.FABRIC_HA_DIR = kit.haDir;
  process.env.FABRIC_HA_PEER_MS = '300';
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  await c.admin.mutate('quotas.set', { tenantId: blueId, quota: ROOMY_QUOTA });
  clusterId = (await c.admin.mutate<{ id: string }>('clusters.create', { name: 'HA-Back' })).id;
  await c.admin.mutate('ha.updateSettings', { clusterId, settings: FAST_HA });
}, 90_000);

/** A Redfish reset of the host's simulated BMC (ForceOff: a power loss; On: power back). */
async function bmcReset(host: string, resetType: 'ForceOff' | 'On') {
  const bmc = kit.bmcs.get(host);
  if (!bmc) throw new Error(`${host} has no BMC`);
  const res = await fetch(`${bmc.url}/redfish/v1/Systems/1/Actions/ComputerSystem.Reset`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ ResetType: resetType }),
  });
  if (!res.ok) throw new Error(`BMC ${resetType} of ${host}: HTTP ${res.status}`);
}

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await kit.dump();
});

afterAll(async () => {
  await kit.close();
  await api?.close();
  delete process.env.FABRIC_HA_DIR;
  delete process.env.FABRIC_HA_PEER_MS;
});

describe('a failed host that comes back', () => {
  it('a failed host that comes back takes its own waiting VMs back, at the epoch they have', async () => {
    const small = { profile: 'small-1x8-64g' };
    await kit.startAgent('back-a', { ...small, bmc: true });
    await kit.waitConnected(['back-a']);
    const high = await kit.createVm('back-high', 24, 'high');
    const low = await kit.createVm('back-low', 24, 'low');
    await kit.startAgent('back-b', small);
    await kit.waitConnected(['back-b']);
    const filler = await kit.createVm('back-filler', 30, 'off');
    await kit.waitRunning([high, low, filler]);
    expect((await kit.vm(low)).hostName).toBe('back-a');

    // A power loss through back-a's BMC: its agent dies, its VMs are off.
    const aId = await kit.hostId('back-a');
    await bmcReset('back-a', 'ForceOff');
    const waiting = await kit.eventFor(
      aId,
      (e) =>
        e.restarts.some((r) => r.vmId === high && r.state === 'running') &&
        e.restarts.some((r) => r.vmId === low && r.state === 'waiting-capacity'),
      90_000,
      'the high VM to run on back-b and the low one to wait',
    );
    expect(waiting.restarts.find((r) => r.vmId === low)?.reason).toMatch(/memory/i);

    // Power back on: back-a boots with its VMs off, is heard from, and starts back-low again itself.
    await bmcReset('back-a', 'On');
    await kit.startAgent('back-a', small);
    const back = await kit.eventFor(
      aId,
      (e) => e.state === 'recovered' && e.restarts.some((r) => r.vmId === low && r.state === 'running'),
      90_000,
      'back-low to run again on back-a',
    );
    const lowRestart = back.restarts.find((r) => r.vmId === low);
    expect(lowRestart?.toHostId).toBe(aId);
    expect(lowRestart?.rtoMs).toBeGreaterThan(0);
    expect(back.timeline.some((t) => t.kind === 'restarting' && t.message.includes('back-a, back'))).toBe(true);
    expect((await kit.vm(low)).hostName).toBe('back-a');
    expect((await kit.vm(low)).state).toBe('running');
    // back-high stays where it was restarted; back-a discarded its copy instead of starting it.
    expect((await kit.vm(high)).hostName).toBe('back-b');
    await eventually(
      async () => !runsOf({ path: kit.dirs.get('back-a') as string }).some((r) => r.vmId === high && r.to === null),
      30_000,
      'back-a to hold no running copy of back-high',
    );
    expect(kit.overlaps()).toEqual([]);
  }, 240_000);
});
