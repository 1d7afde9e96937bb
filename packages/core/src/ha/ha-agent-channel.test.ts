import { describe, expect, it } from 'vitest';
import type { OwnershipRepository } from '../compute/ownership';
import { FakeClock } from '../testing/fake-clock';
import { HaAgentChannel, type HaAgentRepository } from './ha-agent-channel';

const HOST = '00000000-0000-4000-8000-000000000001';
const CLUSTER = '00000000-0000-4000-8000-0000000000c1';
const VM = '00000000-0000-4000-8000-0000000000a1';

/** A channel over a host whose cluster has these HA settings; records what it asks to restart. */
function channel(haSettings: Record<string, unknown>) {
  const asked: { hostId: string; stopped: { vmId: string; epoch: number }[] }[] = [];
  const ha = {
    hostCluster: async () => ({ clusterId: CLUSTER, haSettings }),
    recordPeerSightings: async () => undefined,
    recordSelfFenced: async () => undefined,
    hostRecovering: async () => false,
  } satisfies HaAgentRepository;
  const ownership = { staleCopies: async () => [] } as unknown as OwnershipRepository;
  const c = new HaAgentChannel({
    repos: { ha, ownership },
    clock: new FakeClock(new Date('2026-12-04T12:00:00Z')),
    restartIsolationStopped: async (hostId, stopped) => {
      asked.push({ hostId, stopped });
    },
  });
  return { c, asked };
}

const stopped = [{ vmId: VM, epoch: 1 }];

describe('VMs a host says its isolation response stopped', () => {
  it('are started again only with the isolation they come with, in a cluster whose response stops VMs', async () => {
    const on = { enabled: true, isolationResponse: 'power-off' };
    const claimOnly = channel(on);
    await claimOnly.c.onHeartbeat(HOST, { isolationStopped: stopped });
    expect(claimOnly.asked).toEqual([]);

    const keepRunning = channel({ ...on, isolationResponse: 'keep-running' });
    await keepRunning.c.onHeartbeat(HOST, { isolatedAt: Date.now(), isolationStopped: stopped });
    expect(keepRunning.asked).toEqual([]);

    const off = channel({ ...on, enabled: false });
    await off.c.onHeartbeat(HOST, { isolatedAt: Date.now(), isolationStopped: stopped });
    expect(off.asked).toEqual([]);

    const real = channel(on);
    await real.c.onHeartbeat(HOST, { isolatedAt: Date.now(), isolationStopped: stopped });
    expect(real.asked).toEqual([{ hostId: HOST, stopped }]);
  });
});
