import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A real agent process learns the provider's metered address classes from its
// heartbeats and reports per-ACL bytes that the API stores beside its samples.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
});
afterAll(async () => {
  await agent?.kill();
  await api?.close();
});

describe('a real agent with metered ACLs', () => {
  it('reports bytes for each class it learned, within the VM’s datacenter bytes', async () => {
    for (const [i, name] of ['backup', 'storage', 'replica'].entries()) {
      await c.admin.mutate('metering.defineAddressClass', { name, remoteAddresses: [`10.${i}.0.0/16`] });
    }
    const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
      clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
    });
    agent = spawnAgent({
      api: api.url,
      hostname: 'acl-agent-01',
      token,
      heartbeatMs: 200,
      stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-acl-agent-')),
      extraArgs: ['--sim-speed', '20', '--sample-seconds', '1'],
    });
    await eventually(
      async () => {
        const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', {
          search: 'acl-agent',
        });
        return hosts.rows.some((h) => h.state === 'connected');
      },
      30_000,
      'the host to register',
    );
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'acl-live-01',
      vcpus: 2,
      memory: { mode: 'static', sizeMiB: 2048 },
      disks: [{ sizeGiB: 20 }],
      startAfterCreate: true,
    });
    const vmId = created.vm.id;
    const rows = await eventually(
      () =>
        withSql(api.databaseUrl, async (sql) => {
          const r = await sql.query<{ acls: string[]; in_ok: boolean; out_ok: boolean; running: boolean }>(
            `SELECT array_agg(a.acl ORDER BY a.acl) AS acls,
               bool_and(a.in_bytes <= s.net_in_datacenter_bytes) AS in_ok,
               bool_and(a.out_bytes <= s.net_out_datacenter_bytes) AS out_ok,
               bool_or(s.cpu_avg_mhz > 0) AS running
             FROM vm_acl_samples a JOIN vm_samples s ON s.vm_id = a.vm_id AND s.at = a.at
             WHERE a.vm_id = $1 GROUP BY a.vm_id, a.at ORDER BY a.at DESC LIMIT 3`,
            [vmId],
          );
          return r.rows.length === 3 && r.rows.some((row) => row.running) ? r.rows : null;
        }),
      45_000,
      'samples with ACL bytes from the agent',
    );
    for (const row of rows) {
      expect(row.acls).toEqual(['backup', 'replica', 'storage']);
      expect([row.in_ok, row.out_ok]).toEqual([true, true]);
    }
    // Measure-VM lists the classes.
    const m = await c.blueAdmin.query<{ networkAcls: { acl: string }[] }>('metering.measureVm', { id: vmId });
    expect(m.networkAcls.map((a) => a.acl)).toEqual(['backup', 'replica', 'storage']);
  }, 90_000);
});
