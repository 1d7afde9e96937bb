import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// QoS enforced, not only admitted (issue 13), with a real agent: two VMs share
// one 1 GbE host NIC. The noisy one offers 5 Gb/s with a port policy of weight
// 9 and a maximum of 700 Mbps; the quiet one offers 900 Mbps with 400 Mbps
// admitted as its minimum. The agent's switch shares the NIC by weighted
// max-min fairness and reports each vNIC's achieved rate in its samples; read
// back through the API, the quiet VM never falls below its minimum (weight
// alone would give it 100 Mbps) and the noisy one never passes its maximum,
// even when it has the NIC to itself.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let agent: AgentProcess;
let profilePath = '';
const SMALL_PROFILE = path.resolve(import.meta.dirname, '../../../agent/profiles/small-1x8-64g.json');

/** A sample's end as milliseconds (the API client may give a Date or its ISO text). */
const time = (at: string | Date) => new Date(at).getTime();

type Port = {
  nicName: string;
  qos: { minimumMbps?: number; weight?: number; maximumMbps?: number } | null;
  bandwidth: { at: string | Date; offeredMbps: number; achievedMbps: number; limitedBy: string } | null;
};

/** One 1 GbE uplink, and each named guest's offered load (re-read by the agent every interval). */
function writeProfile(offeredMbps: Record<string, number>) {
  const base = JSON.parse(readFileSync(SMALL_PROFILE, 'utf8'));
  const profile = {
    ...base,
    hostname: 'qos-01',
    nics: [{ name: 'Ethernet 1 (1GbE)', linkSpeedMbps: 1000 }],
    simulation: { ...base.simulation, offeredMbps },
  };
  writeFileSync(profilePath, JSON.stringify(profile));
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-qos-01-'));
  profilePath = path.join(stateDir, 'profile.json');
  writeProfile({ 'qos-noisy': 5000, 'qos-quiet': 900 });
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
  agent = spawnAgent({
    api: api.url,
    hostname: 'qos-01',
    token,
    stateDir,
    profile: profilePath,
    extraArgs: ['--sim-speed', '20', '--sample-seconds', '2'],
  });
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', {
        search: 'qos-01',
      });
      return hosts.rows.some((h) => h.state === 'connected');
    },
    40_000,
    'the host to register',
  );
  const ln = await c.admin.mutate<{ id: string }>('network.createLogicalNetwork', { name: 'qos-provider' });
  for (const [n, cl] of clusters.entries())
    await c.admin.mutate('network.addPaPool', {
      logicalNetworkId: ln.id,
      clusterId: cl.id,
      prefix: `192.168.${n + 1}.0/24`,
      vlanId: 101 + n,
    });
}, 120_000);

afterAll(async () => {
  await agent?.kill('SIGTERM');
  await api?.close();
});

describe('QoS enforced by the agent’s switch, read from the samples', () => {
  it('a noisy neighbour cannot push a VM below its minimum nor itself above its maximum', async () => {
    const blue = c.blueAdmin;
    const net = await blue.mutate<{ id: string }>('network.createVmNetwork', { name: 'qos' });
    await blue.mutate('network.createSubnet', { vmNetworkId: net.id, name: 'lan', prefix: '10.9.0.0/24' });
    const create = async (name: string, nic: Record<string, unknown>) =>
      (
        await blue.mutate<{ vm: { id: string } }>('vms.create', {
          name,
          vcpus: 1,
          memory: { mode: 'static', sizeMiB: 1024 },
          disks: [{ sizeGiB: 10 }],
          nics: [{ name: 'nic0', network: 'qos/lan', ...nic }],
        })
      ).vm.id;
    const quietId = await create('qos-quiet', { minimumBandwidthMbps: 400 });
    const noisyId = await create('qos-noisy', {});
    // The tenant's port policy: a weight that would starve the quiet VM without its floor, and a cap.
    await eventually(
      async () => (await blue.query<Port[]>('network.vmPorts', { vmId: noisyId })).length === 1,
      30_000,
      'the noisy VM to have a port',
    );
    await blue.mutate('network.setPortPolicy', {
      vmId: noisyId,
      nicName: 'nic0',
      policy: { maximumBandwidthMbps: 700, minimumBandwidthWeight: 9 },
    });
    const ports = async () => {
      const [quiet] = await blue.query<Port[]>('network.vmPorts', { vmId: quietId });
      const [noisy] = await blue.query<Port[]>('network.vmPorts', { vmId: noisyId });
      return { quiet, noisy };
    };
    expect((await ports()).noisy?.qos).toEqual({ weight: 9, maximumMbps: 700 });
    expect((await ports()).quiet?.qos).toEqual({ minimumMbps: 400 });

    let lastSeen: unknown = null;
    // Both under load in the same interval, with the policy applied (the noisy VM held below its even share).
    const contended = await eventually(
      async () => {
        const { quiet, noisy } = await ports();
        lastSeen = { quiet, noisy };
        const q = quiet?.bandwidth;
        const n = noisy?.bandwidth;
        // Offered to within the bytes' rounding (a whole byte per class per interval).
        const offering = q && n && Math.abs(q.offeredMbps - 900) < 0.01 && Math.abs(n.offeredMbps - 5000) < 0.01;
        return offering && time(q.at) === time(n.at) && n.achievedMbps > 500 ? { q, n } : null;
      },
      90_000,
      'a sample of both VMs sharing the NIC under the port policy',
    ).catch((error: unknown) => {
      console.log(JSON.stringify(lastSeen), agent.output().slice(-4000));
      throw error;
    });
    expect(contended.q.achievedMbps).toBeGreaterThanOrEqual(400);
    expect(contended.n.achievedMbps).toBeLessThanOrEqual(700);
    expect(contended.q.achievedMbps + contended.n.achievedMbps).toBeLessThanOrEqual(1000);
    // Work-conserving: the NIC is full (to the switch's 1 kb/s rounding).
    expect(contended.q.achievedMbps + contended.n.achievedMbps).toBeGreaterThan(999.99);
    expect(contended).toMatchObject({ q: { limitedBy: 'share' }, n: { limitedBy: 'share' } });

    // The quiet VM goes idle: the noisy one takes the NIC, but only up to its maximum.
    writeProfile({ 'qos-noisy': 5000, 'qos-quiet': 0 });
    const alone = await eventually(
      async () => {
        const { noisy } = await ports();
        const n = noisy?.bandwidth;
        return n && time(n.at) > time(contended.n.at) && n.limitedBy === 'maximum' ? n : null;
      },
      60_000,
      'the noisy VM alone on the NIC',
    );
    expect(alone.achievedMbps).toBe(700);

    // Another tenant finds neither VM.
    for (const vmId of [quietId, noisyId]) {
      const other = await c.yellowAdmin.call('network.vmPorts', 'query', { vmId });
      expect(other).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    }
  }, 240_000);
});
