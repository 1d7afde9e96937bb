import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { HostPolicy } from '@fabric/core/network/compile';
import { verifyIsolation } from '@fabric/core/network/isolation';
import { localPeer, type SwitchPeer, SwitchState, trace } from '@fabric/core/network/switch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Tenant networks end to end (issue 13) with real agent processes: Blue and
// Yellow both use 10.1.1.0/24; each host's agent pulls its compiled policy,
// applies it and acknowledges; packets traced through the agents' own saved
// state reach only their own tenant's VM; refusals name their rule and write
// nothing; a vetoing switch extension blocks a port-policy change, audited.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: { proc: AgentProcess; stateDir: string }[] = [];
let vetoServer: Server;

interface Net {
  id: string;
  name: string;
  subnets: { id: string; name: string; vsid: number; prefix: string }[];
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  for (const hostname of ['net-01', 'net-02']) {
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
    const stateDir = mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`));
    agents.push({
      proc: spawnAgent({ api: api.url, hostname, token, stateDir, extraArgs: ['--sim-speed', '20'] }),
      stateDir,
    });
  }
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', { search: 'net-0' });
      return hosts.rows.filter((h) => h.state === 'connected').length === 2;
    },
    40_000,
    'both hosts to register',
  );
  const ln = await c.admin.mutate<{ id: string }>('network.createLogicalNetwork', { name: 'provider-net' });
  for (const cl of clusters) {
    const n = clusters.indexOf(cl) + 1;
    await c.admin.mutate('network.addPaPool', {
      logicalNetworkId: ln.id,
      clusterId: cl.id,
      prefix: `192.168.${n}.0/24`,
      vlanId: 100 + n,
    });
  }
  vetoServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const change = JSON.parse(body) as { policy: { macSpoofing: boolean } };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify(
          change.policy.macSpoofing ? { allow: false, reason: 'MAC spoofing is not allowed here' } : { allow: true },
        ),
      );
    });
  });
  await new Promise<void>((r) => vetoServer.listen(0, '127.0.0.1', () => r()));
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.proc.kill('SIGTERM')));
  vetoServer?.close();
  await api?.close();
});

async function networkFor(client: ApiClient): Promise<Net> {
  const net = await client.mutate<Net>('network.createVmNetwork', { name: 'corp' });
  const subnet = await client.mutate<Net['subnets'][number]>('network.createSubnet', {
    vmNetworkId: net.id,
    name: 'lan',
    prefix: '10.1.1.0/24',
  });
  return { ...net, subnets: [subnet] };
}

describe('tenant networks with real agents', () => {
  it('Blue and Yellow with the same 10.1.1.0/24 each reach only their own VM, through the agents’ applied policy', async () => {
    const blue = await networkFor(c.blueAdmin);
    const yellow = await networkFor(c.yellowAdmin);
    expect(blue.subnets[0]?.prefix).toBe(yellow.subnets[0]?.prefix);
    expect(blue.subnets[0]?.vsid).not.toBe(yellow.subnets[0]?.vsid);

    // Refusals name the rule and write nothing.
    const before = await countRows(api.databaseUrl, 'virtual_subnets');
    const overlap = await c.blueAdmin.call('network.createSubnet', 'mutation', {
      vmNetworkId: blue.id,
      name: 'half',
      prefix: '10.1.1.128/25',
    });
    expect(overlap).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(overlap.ok ? '' : overlap.message).toContain('SUBNET_OVERLAP');
    const lowVsid = await c.blueAdmin.call('network.createSubnet', 'mutation', {
      vmNetworkId: blue.id,
      name: 'low',
      prefix: '10.9.0.0/24',
      vsid: 100,
    });
    expect(lowVsid).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(lowVsid.ok ? '' : lowVsid.message).toContain('VSID_OUT_OF_RANGE');
    const otherTenant = await c.yellowAdmin.call('network.createSubnet', 'mutation', {
      vmNetworkId: blue.id,
      name: 'x',
      prefix: '10.8.0.0/24',
    });
    expect(otherTenant).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await countRows(api.databaseUrl, 'virtual_subnets')).toBe(before);

    // VMs name "<vm network>/<subnet>" (the create form's pick); Fabric attaches them and gives CAs.
    const vm = async (client: ApiClient, name: string) =>
      (
        await client.mutate<{ vm: { id: string } }>('vms.create', {
          name,
          vcpus: 1,
          memory: { mode: 'static', sizeMiB: 1024 },
          disks: [{ sizeGiB: 10 }],
          nics: [{ name: 'nic0', network: 'corp/lan' }],
        })
      ).vm.id;
    const ids = {
      blueSql: await vm(c.blueAdmin, 'sql'),
      blueWeb: await vm(c.blueAdmin, 'web'),
      yellowSql: await vm(c.yellowAdmin, 'sql'),
      yellowWeb: await vm(c.yellowAdmin, 'web'),
    };
    type Topo = { subnets: { nics: { vmId: string; vmName: string; ca: string | null }[] }[] }[];
    const caOf = async (client: ApiClient, vmId: string) =>
      eventually(
        async () =>
          (await client.query<Topo>('network.topology'))
            .flatMap((n) => n.subnets.flatMap((s) => s.nics))
            .find((x) => x.vmId === vmId)?.ca,
        30_000,
        'a customer address',
      );
    const blueSqlCa = await caOf(c.blueAdmin, ids.blueSql);
    const yellowSqlCa = await caOf(c.yellowAdmin, ids.yellowSql);
    expect(blueSqlCa).toBe('10.1.1.2');
    expect(yellowSqlCa).toBe('10.1.1.2'); // the same CA in both tenants
    await caOf(c.blueAdmin, ids.blueWeb);
    await caOf(c.yellowAdmin, ids.yellowWeb);

    // Every host's agent applies its policy and acknowledges it; none lags.
    type Status = { hostName: string; version: number; appliedVersion: number; lagging: boolean }[];
    const status = await eventually(
      async () => {
        const s = (await c.admin.query<Status>('network.hostPolicies')).filter((h) => h.hostName.startsWith('net-'));
        return s.length === 2 && s.every((h) => h.version > 0 && !h.lagging) ? s : null;
      },
      30_000,
      'agents to acknowledge their policy',
    );
    expect(status.map((h) => h.hostName).sort()).toEqual(['net-01', 'net-02']);

    // Trace through what the agents saved as applied (their switches' state).
    const peers = new Map<string, SwitchPeer>();
    const applied = new Map<string, HostPolicy>();
    for (const a of agents) {
      const { hostId } = JSON.parse(readFileSync(path.join(a.stateDir, 'credential.json'), 'utf8')) as {
        hostId: string;
      };
      const { policy } = JSON.parse(readFileSync(path.join(a.stateDir, 'network-policy.json'), 'utf8')) as {
        policy: HostPolicy;
      };
      applied.set(hostId, policy);
      peers.set(hostId, localPeer(new SwitchState(hostId, policy)));
    }
    expect(verifyIsolation(applied).ok).toBe(true);
    const ports = [...applied].flatMap(([hostId, p]) =>
      Object.entries(p)
        .filter(([k]) => k.startsWith('port/'))
        .map(([k, v]) => ({ hostId, nicId: k.slice(5), ...(v as { vmId: string; ca: string; mac: string }) })),
    );
    const port = (vmId: string) => {
      const p = ports.find((x) => x.vmId === vmId);
      if (!p) throw new Error(`no port for ${vmId}`);
      return p;
    };
    for (const [web, sql] of [
      [ids.blueWeb, ids.blueSql],
      [ids.yellowWeb, ids.yellowSql],
    ] as const) {
      const from = port(web);
      const result = await trace(from.hostId, peers, {
        fromNic: from.nicId,
        kind: 'ip',
        srcMac: from.mac,
        srcCa: from.ca,
        dstCa: '10.1.1.2',
        protocol: 'tcp',
        dstPort: 1433,
        bytes: 100,
      });
      expect(result.delivered).toBe(true);
      expect(result.toNic).toBe(port(sql).nicId);
    }

    // The admin's trace (API) agrees, and rogue DHCP from a VM is dropped by name.
    const viaApi = await c.admin.mutate<{ delivered: boolean; hops: { rule: string }[] }>('network.trace', {
      fromVmId: ids.blueWeb,
      toCa: '10.1.1.2',
      port: 1433,
    });
    expect(viaApi.delivered).toBe(true);
    const dhcp = await c.admin.mutate<{ delivered: boolean; hops: { rule: string }[] }>('network.trace', {
      fromVmId: ids.blueWeb,
      toCa: '10.1.1.2',
      kind: 'dhcp-server',
    });
    expect(dhcp.hops.at(-1)?.rule).toBe('dropped by web DHCP guard');
    const iso = await c.admin.query<{ ok: boolean }>('network.isolation');
    expect(iso.ok).toBe(true);

    // A switch extension vetoes MAC spoofing; the veto is audited and nothing changes.
    const { port: vetoPort } = vetoServer.address() as AddressInfo;
    await c.admin.mutate('network.registerExtension', {
      name: 'no-spoofing',
      url: `http://127.0.0.1:${vetoPort}/`,
      failurePolicy: 'closed',
    });
    const vetoed = await c.blueAdmin.call('network.setPortPolicy', 'mutation', {
      vmId: ids.blueWeb,
      nicName: 'nic0',
      policy: { macSpoofing: true },
    });
    expect(vetoed).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(vetoed.ok ? '' : vetoed.message).toContain('MAC spoofing is not allowed here');
    expect(
      await countRows(api.databaseUrl, 'audit_events', "action = 'network.extension.verdict' AND result = 'denied'"),
    ).toBe(1);
    const allowed = await c.blueAdmin.mutate<{ macSpoofing: boolean }>('network.setPortPolicy', {
      vmId: ids.blueWeb,
      nicName: 'nic0',
      policy: { dhcpGuard: true },
    });
    expect(allowed.macSpoofing).toBe(false);

    // Yellow's admin on Blue's VM gets what a VM id nobody has gets: "VM not found", nothing of its NICs.
    for (const vmId of [ids.blueWeb, crypto.randomUUID()]) {
      for (const [path, input] of [
        ['network.setPortPolicy', { vmId, nicName: 'nic0', policy: { dhcpGuard: false } }],
        ['network.attachNic', { vmId, nicName: 'nic0', subnetId: crypto.randomUUID() }],
      ] as const) {
        expect(await c.yellowAdmin.call(path, 'mutation', input)).toMatchObject({
          ok: false,
          code: 'NOT_FOUND',
          message: 'VM not found',
        });
      }
    }
    expect(
      (await c.blueAdmin.query<{ policy: { dhcpGuard: boolean } }[]>('network.vmPorts', { vmId: ids.blueWeb }))[0]
        ?.policy.dhcpGuard,
    ).toBe(true);
  }, 180_000);
});
