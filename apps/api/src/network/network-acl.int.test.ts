import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostPolicy } from '@fabric/core/network/compile';
import { localPeer, type SwitchPeer, SwitchState, trace } from '@fabric/core/network/switch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Port ACLs and network edits over the real API with real agent processes: a
// tenant's deny ACL is compiled, pulled and applied by the agent, and the
// packet is then dropped by that ACL (in the tenant's trace and in the agent's
// own applied switch state); an edit of the ACL takes effect the same way.
// Networks with VM NICs attached refuse deletion and re-addressing, writing
// nothing; another tenant finds none of it.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: { proc: AgentProcess; stateDir: string }[] = [];

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  for (const hostname of ['acl-01', 'acl-02']) {
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
    const stateDir = mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`));
    agents.push({
      proc: spawnAgent({ api: api.url, hostname, token, stateDir, extraArgs: ['--sim-speed', '20'] }),
      stateDir,
    });
  }
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', { search: 'acl-0' });
      return hosts.rows.filter((h) => h.state === 'connected').length === 2;
    },
    40_000,
    'both hosts to register',
  );
  const ln = await c.admin.mutate<{ id: string }>('network.createLogicalNetwork', { name: 'provider-net' });
  for (const [n, cl] of clusters.entries())
    await c.admin.mutate('network.addPaPool', {
      logicalNetworkId: ln.id,
      clusterId: cl.id,
      prefix: `192.168.${n + 1}.0/24`,
      vlanId: 101 + n,
    });
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.proc.kill('SIGTERM')));
  await api?.close();
});

type TenantTrace = { delivered: boolean; toVmName?: string; hops: { rule: string }[]; pending: boolean };
type Ports = { nicName: string; ca: string | null; network: string; policy: { acls: unknown[] } }[];

/** Every host's policy as its agent applied it (what the agent saved), traced by the core switch. */
async function traceInAgents(fromVmId: string, dstCa: string, dstPort: number) {
  const peers = new Map<string, SwitchPeer>();
  let from: { hostId: string; nicId: string; ca: string; mac: string } | undefined;
  for (const a of agents) {
    const { hostId } = JSON.parse(readFileSync(path.join(a.stateDir, 'credential.json'), 'utf8')) as {
      hostId: string;
    };
    let policy: HostPolicy = {};
    try {
      policy = (
        JSON.parse(readFileSync(path.join(a.stateDir, 'network-policy.json'), 'utf8')) as { policy: HostPolicy }
      ).policy;
    } catch {
      // An agent that has no VM yet may have saved no policy.
    }
    peers.set(hostId, localPeer(new SwitchState(hostId, policy)));
    for (const [key, item] of Object.entries(policy)) {
      const port = item as { vmId?: string; ca: string; mac: string };
      if (key.startsWith('port/') && port.vmId === fromVmId)
        from = { hostId, nicId: key.slice(5), ca: port.ca, mac: port.mac };
    }
  }
  if (!from) return null;
  return trace(from.hostId, peers, {
    fromNic: from.nicId,
    kind: 'ip',
    srcMac: from.mac,
    srcCa: from.ca,
    dstCa,
    protocol: 'tcp',
    dstPort,
    bytes: 100,
  });
}

describe('port ACLs and network edits with real agents', () => {
  it('a deny ACL blocks traffic once the agents apply it, an edit takes effect, and attached networks refuse deletion', async () => {
    const blue = c.blueAdmin;
    const net = await blue.mutate<{ id: string }>('network.createVmNetwork', { name: 'apps' });
    const lan = await blue.mutate<{ id: string }>('network.createSubnet', {
      vmNetworkId: net.id,
      name: 'lan',
      prefix: '10.2.0.0/24',
    });
    const vm = async (name: string) =>
      (
        await blue.mutate<{ vm: { id: string } }>('vms.create', {
          name,
          vcpus: 1,
          memory: { mode: 'static', sizeMiB: 1024 },
          disks: [{ sizeGiB: 10 }],
          nics: [{ name: 'nic0', network: 'apps/lan' }],
        })
      ).vm.id;
    const webId = await vm('acl-web');
    const dbId = await vm('acl-db');
    const caOf = (vmId: string) =>
      eventually(
        async () => (await blue.query<Ports>('network.vmPorts', { vmId }))[0]?.ca ?? null,
        30_000,
        'a customer address',
      );
    await caOf(webId);
    const dbCa = await caOf(dbId);
    const tenantTrace = (port: number) =>
      blue.mutate<TenantTrace>('network.tenantTrace', { fromVmId: webId, toCa: dbCa, port });
    const settled = (expectDelivered: boolean, port: number) =>
      eventually(
        async () => {
          const t = await tenantTrace(port);
          return !t.pending && t.delivered === expectDelivered ? t : null;
        },
        30_000,
        `the trace to port ${port} to be ${expectDelivered ? 'delivered' : 'dropped'} on applied policy`,
      );

    // Before any ACL: web reaches db on 5432, in the API's trace and in the agents' own state.
    expect((await settled(true, 5432)).toVmName).toBe('acl-db');
    expect((await traceInAgents(webId, dbCa, 5432))?.delivered).toBe(true);

    // The tenant denies its subnet inbound on 5432 at db's port.
    const policy = await blue.mutate<{ acls: unknown[]; dhcpGuard: boolean }>('network.setPortPolicy', {
      vmId: dbId,
      nicName: 'nic0',
      policy: { acls: [{ direction: 'inbound', action: 'deny', remote: { prefix: '10.2.0.0/24' }, localPort: 5432 }] },
    });
    expect(policy.acls).toHaveLength(1);
    expect(policy.dhcpGuard).toBe(true); // the defaults stay on
    const dropped = await settled(false, 5432);
    expect(dropped.hops.at(-1)?.rule).toBe('dropped by acl-db inbound ACL deny 10.2.0.0/24 port 5432');
    expect(JSON.stringify(dropped)).not.toMatch(/192\.168\./); // no provider address for a tenant
    const inAgents = await eventually(
      async () => {
        const t = await traceInAgents(webId, dbCa, 5432);
        return t && !t.delivered ? t : null;
      },
      30_000,
      'the agents to apply the deny ACL',
    );
    expect(inAgents.hops.at(-1)?.rule).toBe('dropped by acl-db inbound ACL deny 10.2.0.0/24 port 5432');
    expect((await tenantTrace(80)).delivered).toBe(true); // only 5432 is denied

    // Edit: the deny moves to port 22; 5432 flows again, 22 is dropped, in the agents too.
    await blue.mutate('network.setPortPolicy', {
      vmId: dbId,
      nicName: 'nic0',
      policy: { acls: [{ direction: 'inbound', action: 'deny', remote: { prefix: '10.2.0.0/24' }, localPort: 22 }] },
    });
    await settled(true, 5432);
    expect((await settled(false, 22)).hops.at(-1)?.rule).toBe('dropped by acl-db inbound ACL deny 10.2.0.0/24 port 22');
    await eventually(
      async () => (await traceInAgents(webId, dbCa, 5432))?.delivered === true,
      30_000,
      'the agents to apply the edited ACL',
    );
    expect((await traceInAgents(webId, dbCa, 22))?.delivered).toBe(false);
    expect((await blue.query<Ports>('network.vmPorts', { vmId: dbId }))[0]?.policy.acls).toEqual([
      { direction: 'inbound', action: 'deny', remote: { prefix: '10.2.0.0/24' }, localPort: 22 },
    ]);

    // Bad ACLs are refused with the rule, and the policy is unchanged.
    const meterOnDeny = await blue.call('network.setPortPolicy', 'mutation', {
      vmId: dbId,
      nicName: 'nic0',
      policy: { acls: [{ direction: 'inbound', action: 'deny', remote: { prefix: '10.0.0.0/8' }, meterClass: 'x' }] },
    });
    expect(meterOnDeny).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(meterOnDeny.ok ? '' : meterOnDeny.message).toContain('meter ACL only');
    const hostBits = await blue.call('network.setPortPolicy', 'mutation', {
      vmId: dbId,
      nicName: 'nic0',
      policy: { acls: [{ direction: 'both', action: 'deny', remote: { prefix: '10.2.0.9/24' } }] },
    });
    expect(hostBits).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(hostBits.ok ? '' : hostBits.message).toContain('host bits zero');
    expect((await blue.query<Ports>('network.vmPorts', { vmId: dbId }))[0]?.policy.acls).toHaveLength(1);

    // Another tenant finds none of it.
    const y = c.yellowAdmin;
    expect(await y.call('network.vmPorts', 'query', { vmId: dbId })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    for (const [procedure, input] of [
      ['network.setPortPolicy', { vmId: dbId, nicName: 'nic0', policy: {} }],
      ['network.tenantTrace', { fromVmId: webId, toCa: dbCa }],
      ['network.deleteSubnet', { id: lan.id }],
      ['network.updateSubnet', { id: lan.id, name: 'mine' }],
      ['network.deleteVmNetwork', { id: net.id }],
      ['network.updateVmNetwork', { id: net.id, name: 'mine' }],
    ] as const)
      expect({ procedure, result: await y.call(procedure, 'mutation', input) }).toMatchObject({
        procedure,
        result: { ok: false, code: 'NOT_FOUND' },
      });

    // Attached: deletion and re-addressing are refused by name, and nothing is written.
    const subnetsBefore = await countRows(api.databaseUrl, 'virtual_subnets');
    for (const [procedure, input] of [
      ['network.deleteSubnet', { id: lan.id }],
      ['network.deleteVmNetwork', { id: net.id }],
      ['network.updateSubnet', { id: lan.id, prefix: '10.3.0.0/24' }],
      ['network.updateVmNetwork', { id: net.id, isolation: 'ip-rewrite' }],
    ] as const) {
      const refused = await blue.call(procedure, 'mutation', input);
      expect({ procedure, refused }).toMatchObject({ procedure, refused: { ok: false, code: 'CONFLICT' } });
      expect(refused.ok ? '' : refused.message).toMatch(/NETWORK_IN_USE/);
      expect(refused.ok ? '' : refused.message).toContain('acl-db/nic0');
    }
    expect(await countRows(api.databaseUrl, 'virtual_subnets')).toBe(subnetsBefore);
    expect((await blue.query<{ id: string; prefix: string }[]>('network.vmNetworks'))[0]).toMatchObject({
      id: net.id,
    });

    // A rename is fine while attached; the NICs' network label follows, addresses stay.
    await blue.mutate('network.updateSubnet', { id: lan.id, name: 'frontend' });
    const ports = await blue.query<Ports>('network.vmPorts', { vmId: dbId });
    expect(ports[0]).toMatchObject({ network: 'apps/frontend', ca: dbCa });

    // An empty network can be edited and deleted, subnets first or all at once.
    const spare = await blue.mutate<{ id: string }>('network.createVmNetwork', { name: 'spare' });
    const s1 = await blue.mutate<{ id: string }>('network.createSubnet', {
      vmNetworkId: spare.id,
      name: 's1',
      prefix: '10.4.0.0/24',
    });
    await blue.mutate('network.createSubnet', { vmNetworkId: spare.id, name: 's2', prefix: '10.5.0.0/24' });
    const overlap = await blue.call('network.updateSubnet', 'mutation', { id: s1.id, prefix: '10.5.0.0/16' });
    expect(overlap).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(
      await blue.mutate<{ prefix: string; gateway: string }>('network.updateSubnet', {
        id: s1.id,
        prefix: '10.6.0.0/24',
      }),
    ).toMatchObject({ prefix: '10.6.0.0/24', gateway: '10.6.0.1' });
    await blue.mutate('network.deleteSubnet', { id: s1.id });
    await blue.mutate('network.updateVmNetwork', { id: spare.id, isolation: 'ip-rewrite', name: 'spare2' });
    await blue.mutate('network.deleteVmNetwork', { id: spare.id });
    const left = await blue.query<{ name: string }[]>('network.vmNetworks');
    expect(left.map((n) => n.name)).toContain('apps');
    expect(left.map((n) => n.name)).not.toContain('spare2');
    expect(
      await countRows(
        api.databaseUrl,
        'audit_events',
        "action IN ('network.subnet.delete', 'network.vm-network.delete')",
      ),
    ).toBe(2);
  }, 240_000);
});
