import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// The fabric MAC pool (issue 13): every new vNIC takes a MAC drawn at random
// from the provider's range, unique across tenants even when creates race
// (in a nearly full range too), shown on the VM's addresses; a tenant's
// adapters say nothing of other tenants' creates in between; a bad range is
// refused with its rule, and an exhausted pool refuses a create whole,
// writing nothing.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let agent: AgentProcess;

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  // Room for the ~45 VMs of these tests (the demo quota allows 20 per tenant).
  for (const tenant of await c.admin.query<{ id: string }[]>('tenants.list'))
    await c.admin.mutate('quotas.set', {
      tenantId: tenant.id,
      quota: {
        maxVms: 100,
        maxVcpus: 100,
        maxMemoryMiB: 100 * 1024,
        maxStorageBytes: 1024 ** 4,
        maxRunningVms: 100,
        maxRunningVcpus: 100,
        maxRunningMemoryMiB: 100 * 1024,
      },
    });
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-mac-01-'));
  agent = spawnAgent({ api: api.url, hostname: 'mac-01', token, stateDir, extraArgs: ['--sim-speed', '20'] });
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { state: string }[] }>('hosts.list', { search: 'mac-01' });
      return hosts.rows.some((h) => h.state === 'connected');
    },
    40_000,
    'the host to register',
  );
}, 120_000);

afterAll(async () => {
  await agent?.kill('SIGTERM');
  await api?.close();
});

const nics = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `nic${i}`, network: 'default' }));
const vm = (name: string, nicCount: number) => ({
  name,
  vcpus: 1,
  memory: { mode: 'static', sizeMiB: 512 },
  disks: [{ sizeGiB: 5 }],
  nics: nics(nicCount),
  startAfterCreate: false,
});

async function allMacs(): Promise<string[]> {
  return withSql(api.databaseUrl, async (sql) =>
    (await sql.query<{ mac_address: string }>('SELECT mac_address FROM vm_nics ORDER BY mac_address')).rows.map(
      (r) => r.mac_address,
    ),
  );
}

describe('the fabric MAC pool', () => {
  it('gives every vNIC a unique MAC from the pool, across tenants and concurrent creates', async () => {
    expect(await c.admin.query('network.macPool')).toEqual({
      first: '00-15-5D-00-00-00',
      last: '00-15-5D-FF-FF-FF',
      size: 16_777_216,
      inUse: 0,
    });
    // 16 single creates of 3 vNICs (two tenants) and two tiers of 4 × 2, all at once.
    const creates = [
      ...Array.from({ length: 16 }, (_, i) =>
        (i % 2 ? c.blueAdmin : c.yellowAdmin).mutate('vms.create', vm(`mac-${i}`, 3)),
      ),
      c.blueAdmin.mutate('vms.createMany', { vm: vm('mac-tier', 2), count: 4 }),
      c.yellowAdmin.mutate('vms.createMany', { vm: vm('mac-tier', 2), count: 4 }),
    ];
    const results = await Promise.allSettled(creates);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const macs = await allMacs();
    expect(macs).toHaveLength(16 * 3 + 2 * 4 * 2);
    expect(new Set(macs).size).toBe(macs.length);
    for (const mac of macs) expect(mac).toMatch(/^00:15:5D(:[0-9A-F]{2}){3}$/);
    // Drawn over the whole pool, not its first 64 addresses: 64 draws fall in about 57 of the 256 blocks
    // of 65,536 (fewer than 33 about once in 10^15 runs).
    expect(new Set(macs.map((m) => m.slice(0, 11))).size).toBeGreaterThan(32);
    expect((await c.admin.query<{ inUse: number }>('network.macPool')).inUse).toBe(macs.length);

    // The VM's addresses show its MAC; another tenant does not see the VM.
    const [one] = await withSql(api.databaseUrl, async (sql) =>
      (await sql.query<{ id: string }>(`SELECT id FROM vms WHERE name = 'mac-1'`)).rows.map((r) => r.id),
    );
    const ports = await c.blueAdmin.query<{ nicName: string; mac: string }[]>('network.vmPorts', { vmId: one });
    expect(ports.map((p) => p.mac).every((m) => macs.includes(m))).toBe(true);
    expect(await c.yellowAdmin.call('network.vmPorts', 'query', { vmId: one })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
  }, 120_000);

  it("gives a tenant's adapters MACs that say nothing of other tenants' adapters created in between", async () => {
    const macsOf = (name: string) =>
      withSql(api.databaseUrl, async (sql) =>
        (
          await sql.query<{ mac_address: string }>(
            'SELECT n.mac_address FROM vm_nics n JOIN vms v ON v.id = n.vm_id WHERE v.name = $1',
            [name],
          )
        ).rows.map((r) => Number.parseInt(r.mac_address.replaceAll(':', ''), 16)),
      );
    // Blue, yellow (two adapters), blue, … one after another: highest + 1 would put each of blue's MACs
    // exactly 3 after its previous one, telling blue that yellow made two adapters meanwhile.
    const blue: number[] = [];
    for (let i = 0; i < 5; i++) {
      await c.blueAdmin.mutate('vms.create', vm(`probe-blue-${i}`, 1));
      await c.yellowAdmin.mutate('vms.create', vm(`probe-yellow-${i}`, 2));
      blue.push(...(await macsOf(`probe-blue-${i}`)));
    }
    await c.blueAdmin.mutate('vms.create', vm('probe-blue-5', 1));
    blue.push(...(await macsOf('probe-blue-5')));
    expect(blue).toHaveLength(6);
    // Each gap is uniform over 16.7 M: within 3 of the previous once in 2.8 M pairs.
    const gaps = blue.slice(1).map((mac, i) => Math.abs(mac - (blue[i] ?? 0)));
    expect(gaps.filter((gap) => gap <= 3)).toEqual([]);
  }, 120_000);

  it('keeps MACs unique when concurrent creates fill a small pool, and the pool never hands out past its end', async () => {
    // 32 addresses, 30 wanted by ten creates at once (two tenants): most draws collide as it fills.
    await c.admin.mutate('network.setMacPool', { first: '06-00-00-00-00-00', last: '06-00-00-00-00-1F' });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? c.blueAdmin : c.yellowAdmin).mutate('vms.create', vm(`crowd-${i}`, 3)),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const crowd = (await allMacs()).filter((m) => m.startsWith('06:'));
    expect(crowd).toHaveLength(30);
    expect(new Set(crowd).size).toBe(30);
    for (const mac of crowd) expect(mac).toMatch(/^06:00:00:00:00:[01][0-9A-F]$/);
    expect(await c.admin.query('network.macPool')).toMatchObject({ size: 32, inUse: 30 });
  }, 120_000);

  it('refuses a bad range with its rule, and an exhausted pool refuses a create whole', async () => {
    for (const [range, rule] of [
      [{ first: '01-00-5E-00-00-00', last: '01-00-5E-00-00-FF' }, 'MAC_UNICAST'],
      [{ first: '02-00-00-00-00-09', last: '02-00-00-00-00-01' }, 'before it starts'],
      [{ first: '02-00-00-00-00-00', last: '04-00-00-00-00-00' }, 'MAC_UNICAST'],
    ] as const) {
      const refused = await c.admin.call('network.setMacPool', 'mutation', range);
      expect(refused).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
      expect(refused.ok ? '' : refused.message).toContain(rule);
    }
    const tenantTry = await c.blueAdmin.call('network.setMacPool', 'mutation', {
      first: '02-00-00-00-00-00',
      last: '02-00-00-00-00-03',
    });
    expect(tenantTry).toMatchObject({ ok: false, code: 'FORBIDDEN' });

    // A locally administered range of four addresses.
    expect(
      await c.admin.mutate('network.setMacPool', { first: '02:00:00:00:00:00', last: '02-00-00-00-00-03' }),
    ).toEqual({ first: '02-00-00-00-00-00', last: '02-00-00-00-00-03', size: 4, inUse: 0 });
    await c.blueAdmin.mutate('vms.create', vm('small-pool-1', 3));
    const before = await countRows(api.databaseUrl, 'vms');
    const exhausted = await c.blueAdmin.call('vms.create', 'mutation', vm('small-pool-2', 2));
    expect(exhausted).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    expect(exhausted.ok ? '' : exhausted.message).toContain('POOL_EXHAUSTED');
    expect(await countRows(api.databaseUrl, 'vms')).toBe(before);
    // The last address still fits a one-vNIC VM.
    await c.blueAdmin.mutate('vms.create', vm('small-pool-3', 1));
    const small = (await allMacs()).filter((m) => m.startsWith('02:'));
    expect(small).toEqual(['02:00:00:00:00:00', '02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03']);
  }, 120_000);
});
