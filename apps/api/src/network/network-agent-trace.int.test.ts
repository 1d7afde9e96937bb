import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Traces are asked of the agents' switches (issue 13): the source host's agent
// runs the packet through the policy it applied, then the destination host's
// agent runs the encapsulated packet. With real agent processes: an agent
// that has not applied a new deny ACL yet (its switch is held) answers with
// the old verdict, marked lagging with its applied version and Fabric's
// computed verdict beside it; once it applies the ACL its answer is the drop;
// an agent that is gone does not answer and its hop is Fabric's computation,
// marked as such.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: { hostname: string; proc: AgentProcess; stateDir: string }[] = [];

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  for (const hostname of ['at-01', 'at-02']) {
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
    const stateDir = mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`));
    agents.push({
      hostname,
      proc: spawnAgent({ api: api.url, hostname, token, stateDir, extraArgs: ['--sim-speed', '20'] }),
      stateDir,
    });
  }
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', { search: 'at-0' });
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

type HostHop = {
  hostId: string;
  hostName: string;
  stage: 'egress' | 'ingress';
  answeredBy: 'agent' | 'fabric';
  status: 'current' | 'lagging' | 'no-answer';
  appliedVersion: number | null;
  compiledVersion: number;
  ok: boolean;
  computed: { ok: boolean; rule: string } | null;
};
type AdminTrace = { delivered: boolean; hops: { stage: string; rule: string }[]; hosts: HostHop[] };
type TenantTrace = { delivered: boolean; pending: boolean; computed: boolean; hops: { rule: string }[] };

describe('traces asked of the agents', () => {
  it("shows each host's own verdict at its applied version: a held agent's old verdict, then the drop, then Fabric's when silent", async () => {
    const blue = c.blueAdmin;
    const net = await blue.mutate<{ id: string }>('network.createVmNetwork', { name: 'apps' });
    await blue.mutate('network.createSubnet', { vmNetworkId: net.id, name: 'lan', prefix: '10.2.0.0/24' });
    // A hard anti-affinity group puts web and db on different hosts, so the trace crosses the wire.
    const vm = async (name: string) =>
      (
        await blue.mutate<{ vm: { id: string } }>('vms.create', {
          name,
          vcpus: 1,
          memory: { mode: 'static', sizeMiB: 1024 },
          disks: [{ sizeGiB: 10 }],
          nics: [{ name: 'nic0', network: 'apps/lan' }],
          groups: [{ name: 'apart', kind: 'anti-affinity', hard: true }],
        })
      ).vm.id;
    const webId = await vm('at-web');
    const dbId = await vm('at-db');
    const dbCa = await eventually(
      async () => (await blue.query<{ ca: string | null }[]>('network.vmPorts', { vmId: dbId }))[0]?.ca ?? null,
      30_000,
      'a customer address',
    );
    const adminTrace = () => c.admin.mutate<AdminTrace>('network.trace', { fromVmId: webId, toCa: dbCa, port: 5432 });

    // Both hosts' agents answer, at the version Fabric compiled for them; the packet crosses the wire.
    const first = await eventually(
      async () => {
        const t = await adminTrace();
        return t.delivered && t.hosts.length === 2 && t.hosts.every((h) => h.status === 'current') ? t : null;
      },
      40_000,
      'a delivered trace answered by both agents at their compiled versions',
    );
    const [src, dst] = first.hosts;
    expect(src).toMatchObject({ stage: 'egress', answeredBy: 'agent', computed: null });
    expect(dst).toMatchObject({ stage: 'ingress', answeredBy: 'agent', computed: null });
    expect(src?.hostId).not.toBe(dst?.hostId);
    expect(src?.appliedVersion).toBe(src?.compiledVersion);
    expect(first.hops.find((h) => h.stage === 'wire')?.rule).toMatch(/GRE key \d+/);
    const dbAgent = agents.find((a) => a.hostname === dst?.hostName);
    if (!dbAgent) throw new Error(`no agent for host ${dst?.hostName}`);

    // db's host cannot program its switch: it keeps its policy while Fabric compiles a deny ACL for db.
    const holdFile = path.join(dbAgent.stateDir, 'network-policy.hold');
    writeFileSync(holdFile, 'held by the test\n');
    await blue.mutate('network.setPortPolicy', {
      vmId: dbId,
      nicName: 'nic0',
      policy: { acls: [{ direction: 'inbound', action: 'deny', remote: { prefix: '10.2.0.0/24' }, localPort: 5432 }] },
    });
    const deny = 'dropped by at-db inbound ACL deny 10.2.0.0/24 port 5432';
    const held = await eventually(
      async () => {
        const t = await adminTrace();
        return t.hosts[1]?.status === 'lagging' ? t : null;
      },
      30_000,
      "the trace to report db's host lagging",
    );
    // What the network does now: the held switch still delivers, and says at which version; Fabric's verdict beside it.
    expect(held.delivered).toBe(true);
    const heldHop = held.hosts[1];
    expect(heldHop).toMatchObject({ answeredBy: 'agent', ok: true, computed: { ok: false, rule: deny } });
    expect(heldHop?.appliedVersion ?? 0).toBeLessThan(heldHop?.compiledVersion ?? 0);
    expect(held.hosts[0]?.status).toBe('current');
    const tenantHeld = await blue.mutate<TenantTrace>('network.tenantTrace', {
      fromVmId: webId,
      toCa: dbCa,
      port: 5432,
    });
    expect(tenantHeld).toMatchObject({ delivered: true, pending: true, computed: false });
    expect(JSON.stringify(tenantHeld)).not.toMatch(/192\.168\./);

    // Released, the agent applies the ACL: its own answer is now the drop, at the compiled version.
    rmSync(holdFile);
    const applied = await eventually(
      async () => {
        const t = await adminTrace();
        return t.hosts[1]?.status === 'current' ? t : null;
      },
      30_000,
      "db's host to apply the deny ACL",
    );
    expect(applied.delivered).toBe(false);
    expect(applied.hosts[1]).toMatchObject({ answeredBy: 'agent', ok: false, computed: null });
    expect(applied.hops.at(-1)?.rule).toBe(deny);
    expect(dbAgent.proc.output()).toContain('holding at v');

    // db's agent is gone: its hop is Fabric's computation over the compiled policy, said so.
    await dbAgent.proc.kill('SIGTERM');
    const silent = await adminTrace();
    expect(silent.hosts[0]).toMatchObject({ answeredBy: 'agent', status: 'current' });
    expect(silent.hosts[1]).toMatchObject({ answeredBy: 'fabric', status: 'no-answer', appliedVersion: null });
    expect(silent.hops.at(-1)?.rule).toBe(deny);
    const tenantSilent = await blue.mutate<TenantTrace>('network.tenantTrace', {
      fromVmId: webId,
      toCa: dbCa,
      port: 5432,
    });
    expect(tenantSilent).toMatchObject({ delivered: false, computed: true });
  }, 240_000);

  it('takes trace answers only from a host credential, of the right shape, for a question it was asked', async () => {
    const { hostId, credential } = JSON.parse(
      readFileSync(path.join(agents[0]?.stateDir ?? '', 'credential.json'), 'utf8'),
    ) as { hostId: string; credential: string };
    const post = (body: unknown, bearer = credential) =>
      fetch(`${api.url}/agent/v1/hosts/${hostId}/network-trace`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const answer = {
      traceId: '00000000-0000-4000-8000-000000000000',
      version: 1,
      digest: 'x',
      result: { kind: 'drop', verdicts: [{ hostId: 'self', stage: 'egress', ok: false, rule: 'made up' }] },
    };
    expect((await post(answer, `${hostId}.not-the-secret`)).status).toBe(401);
    expect((await post({ ...answer, result: { kind: 'teleport' } })).status).toBe(400);
    expect((await post({ ...answer, padding: 'x'.repeat(7_000) })).status).toBe(413);
    const unasked = await post(answer);
    expect(unasked.status).toBe(200);
    expect(await unasked.json()).toEqual({ accepted: false });
  });
});
