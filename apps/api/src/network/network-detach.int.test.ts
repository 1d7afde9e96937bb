import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Detaching a VM NIC from its subnet (issue 13), with a real agent: the NIC
// gives back its customer address and its IP-rewrite provider address, the
// host's policy loses its port and lookup record by a delta the agent applies,
// the NIC stays detached through later compiles, can be attached again, and
// another tenant finds nothing.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let agent: AgentProcess;
let stateDir = '';

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-det-01-'));
  agent = spawnAgent({ api: api.url, hostname: 'det-01', token, stateDir, extraArgs: ['--sim-speed', '20'] });
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { state: string }[] }>('hosts.list', { search: 'det-01' });
      return hosts.rows.some((h) => h.state === 'connected');
    },
    40_000,
    'the host to register',
  );
  const ln = await c.admin.mutate<{ id: string }>('network.createLogicalNetwork', { name: 'det-provider' });
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

type Port = { nicName: string; ca: string | null; network: string; subnet: { id: string } | null };

/** The policy the agent applied (what its switch enforces), as it saved it. */
function appliedPolicy(): Record<string, { vmId?: string }> {
  try {
    return (JSON.parse(readFileSync(path.join(stateDir, 'network-policy.json'), 'utf8')) as { policy: never }).policy;
  } catch {
    return {};
  }
}

describe('detaching a VM NIC from its subnet', () => {
  it('gives back its addresses, removes it from the host’s policy by a delta, and stays detached', async () => {
    const blue = c.blueAdmin;
    const net = await blue.mutate<{ id: string }>('network.createVmNetwork', { name: 'det', isolation: 'ip-rewrite' });
    const lan = await blue.mutate<{ id: string }>('network.createSubnet', {
      vmNetworkId: net.id,
      name: 'lan',
      prefix: '10.7.0.0/24',
    });
    const create = async (name: string) =>
      (
        await blue.mutate<{ vm: { id: string } }>('vms.create', {
          name,
          vcpus: 1,
          memory: { mode: 'static', sizeMiB: 512 },
          disks: [{ sizeGiB: 5 }],
          nics: [{ name: 'nic0', network: 'det/lan' }],
        })
      ).vm.id;
    const aId = await create('det-a');
    const bId = await create('det-b');
    const caOf = async (vmId: string) => (await blue.query<Port[]>('network.vmPorts', { vmId }))[0]?.ca ?? null;
    const bCa = await eventually(() => caOf(bId), 30_000, 'det-b to have an address');
    await eventually(() => caOf(aId), 30_000, 'det-a to have an address');
    const nicId = await eventually(
      async () => {
        const ports = Object.entries(appliedPolicy()).filter(([k, v]) => k.startsWith('port/') && v.vmId === bId);
        return ports[0]?.[0].slice('port/'.length) ?? null;
      },
      30_000,
      "det-b's port in the agent's applied policy",
    );
    const recordKey = `ca/${net.id}/${bCa}`;
    expect(appliedPolicy()[recordKey]).toBeDefined();
    await eventually(
      async () => (await countRows(api.databaseUrl, 'provider_addresses', `vm_nic_id = '${nicId}'`)) === 1,
      30_000,
      "det-b's provider address (IP rewrite: one per CA)",
    );

    // Another tenant cannot detach it (not found), and nothing changes.
    const foreign = await c.yellowAdmin.call('network.detachNic', 'mutation', { vmId: bId, nicName: 'nic0' });
    expect(foreign).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await caOf(bId)).toBe(bCa);

    expect(await blue.mutate('network.detachNic', { vmId: bId, nicName: 'nic0' })).toEqual({
      detached: true,
      ca: bCa,
      subnetId: lan.id,
    });
    const [port] = await blue.query<Port[]>('network.vmPorts', { vmId: bId });
    expect(port).toMatchObject({ ca: null, subnet: null, network: 'default' });
    expect(await countRows(api.databaseUrl, 'provider_addresses', `vm_nic_id = '${nicId}'`)).toBe(0);
    expect(await countRows(api.databaseUrl, 'audit_events', "action = 'network.nic.detach'")).toBe(1);
    // The agent applies the delta: det-b's port and lookup record are gone, det-a's stay.
    await eventually(
      async () => {
        const policy = appliedPolicy();
        return !(`port/${nicId}` in policy) && !(recordKey in policy);
      },
      30_000,
      'the agent to apply the detach',
    );
    expect(Object.values(appliedPolicy()).some((item) => item.vmId === aId)).toBe(true);

    // A later compile does not attach it again by its old name; a second detach does nothing.
    await blue.mutate('network.setPortPolicy', { vmId: aId, nicName: 'nic0', policy: { dhcpGuard: false } });
    expect((await blue.query<Port[]>('network.vmPorts', { vmId: bId }))[0]?.subnet).toBeNull();
    expect(await blue.mutate('network.detachNic', { vmId: bId, nicName: 'nic0' })).toEqual({
      detached: false,
      ca: null,
      subnetId: null,
    });

    // Attached again, it can take its old address back (it was given back).
    const again = await blue.mutate<{ ca: string }>('network.attachNic', {
      vmId: bId,
      nicName: 'nic0',
      subnetId: lan.id,
      ca: bCa,
    });
    expect(again.ca).toBe(bCa);
    await eventually(async () => `port/${nicId}` in appliedPolicy(), 30_000, 'the agent to apply the attach');
  }, 180_000);
});
