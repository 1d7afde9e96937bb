import { describe, expect, it } from 'vitest';
import { runsOf } from '../../../agent/src/testing/run-log-overlap';
import { eventually } from '../testing/agent-process';
import { withSql } from '../testing/harness';
import { useHaApiProcess } from './ha-api-process-fixture';

// The control plane itself is down for longer than the cluster's isolation timeout (issue 11). Every
// host then applies its isolation response, as the protocol says: it cannot tell "I am cut off" from
// "the control plane is gone", and a host that might be restarted elsewhere must have stopped its VMs.
// When the control plane comes back, nothing was restarted elsewhere, so each host's HA VMs start
// again where they were (the host reports which VMs its response stopped); a VM with HA priority off
// stays off. From the agents' own run logs: each HA VM ran twice on its own host, one run after the
// other, and no VM ran on two hosts. No failure event opens: the hosts were never down.

// Isolation after 6 s of silence; the lease (7.5 s) is what a control plane that stayed up would wait.
const fx = useHaApiProcess({
  executorId: 'ha-outage-api',
  clusterName: 'HA-Outage',
  settings: { isolationTimeoutMs: 6000, fencingTimeoutMs: 7500 },
});
const { kit } = fx;

describe('a control plane down past the isolation timeout', () => {
  it("starts each host's HA VMs again where they were once it is back, and nothing twice", async () => {
    await kit.startAgent('outage-a');
    await kit.startAgent('outage-b');
    await kit.waitConnected(['outage-a', 'outage-b']);
    const ha = [await kit.createVm('outage-01', 2, 'high'), await kit.createVm('outage-02', 2, 'low')];
    const noRestart = await kit.createVm('outage-03', 2, 'off');
    await kit.waitRunning([...ha, noRestart]);
    const hostsBefore = new Map<string, string>();
    for (const id of [...ha, noRestart]) hostsBefore.set(id, (await kit.vm(id)).hostName ?? '');

    await fx.current().kill('SIGKILL');
    // Every agent applies its isolation response (its own log says so) while the control plane is down.
    for (const name of ['outage-a', 'outage-b']) {
      await eventually(
        async () => kit.agents.get(name)?.output().includes('ha: isolation response applied') ?? false,
        60_000,
        `${name} to apply its isolation response`,
      );
    }
    const stopped = [...kit.dirs.values()].flatMap((dir) => runsOf({ path: dir }));
    for (const id of [...ha, noRestart]) {
      expect(stopped.filter((r) => r.vmId === id).every((r) => r.to !== null)).toBe(true);
    }
    await fx.api();

    // Back: the HA VMs run again on the hosts they were on; the one with no automatic restart stays off.
    // (The control plane had them as running all along: wait for the second run in each host's own log.)
    const runsOn = (id: string) =>
      runsOf({ path: kit.dirs.get(hostsBefore.get(id) ?? '') as string }).filter((r) => r.vmId === id);
    await eventually(async () => ha.every((id) => runsOn(id).length === 2), 120_000, 'each HA VM to run again');
    await kit.waitRunning(ha, 60_000);
    for (const id of ha) expect((await kit.vm(id)).hostName).toBe(hostsBefore.get(id));
    // Recorded off (its host turned it off), never started again.
    await eventually(async () => (await kit.vm(noRestart)).state === 'off', 30_000, 'outage-03 to show off');
    const noRestartHost = kit.dirs.get(hostsBefore.get(noRestart) ?? '') as string;
    expect(runsOf({ path: noRestartHost }).filter((r) => r.vmId === noRestart)).toHaveLength(1);
    for (const id of ha) {
      const dir = kit.dirs.get(hostsBefore.get(id) ?? '') as string;
      const runs = runsOf({ path: dir }).filter((r) => r.vmId === id);
      expect(runs).toHaveLength(2);
      expect(new Date(runs[0]?.to ?? 0).getTime()).toBeLessThanOrEqual(new Date(runs[1]?.from ?? 0).getTime());
    }
    expect(kit.overlaps()).toEqual([]);
    expect(await kit.events()).toEqual([]);
    // Audited as High availability's, with why.
    const audited = await withSql(fx.databaseUrl, async (sql) => {
      const r = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE action = 'vm.ha-restart' AND details->>'reason' = 'isolation-response'`,
      );
      return r.rows[0]?.n ?? 0;
    });
    expect(audited).toBe(2);
  }, 360_000);
});
