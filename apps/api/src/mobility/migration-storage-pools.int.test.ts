import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A VM's disks stay on their pool when it moves (shared storage: only the
// handle moves), so only a host that reaches that pool may take it. The
// placement store once dropped each disk's pool, so "best" chose a host
// without the VM's SMB share and the migration failed on the destination
// (found by the browser test: POOL_NOT_FOUND on activate). The same list
// feeds HA restarts, evacuation and admission control.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: AgentProcess[] = [];
const SHARE = '\\\\sofs01\\vms';

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000', FABRIC_MIGRATION_TIME_SCALE: '0.02' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  // pool-large has the SMB share, pool-std does not (both have Local and ClusterStorage-Volume1).
  for (const [hostname, profile] of [
    ['pool-large', 'large-320lp-4t'],
    ['pool-std', 'standard-2x16-512g'],
  ] as const) {
    const token = (await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id })).token;
    agents.push(
      spawnAgent({
        api: api.url,
        hostname,
        token,
        stateDir: mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`)),
        heartbeatMs: 500,
        profile,
        extraArgs: ['--sim-speed', '20'],
      }),
    );
  }
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { state: string }[] }>('hosts.list', { search: 'pool-' });
      return hosts.rows.filter((h) => h.state === 'connected').length === 2;
    },
    30_000,
    'both hosts to register',
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGTERM')));
  await api?.close();
});

async function hostIds() {
  return withSql(api.databaseUrl, async (db) => {
    const rows = (await db.query<{ id: string; name: string }>("SELECT id, name FROM hosts WHERE name LIKE 'pool-%'"))
      .rows;
    return Object.fromEntries(rows.map((r) => [r.name, r.id])) as Record<'pool-large' | 'pool-std', string>;
  });
}

async function createOff(name: string, pool: string) {
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 10, pool }],
    startAfterCreate: false,
  });
  const id = created.vm.id;
  await eventually(
    async () => (await c.blueAdmin.query<{ state: string }>('vms.get', { id })).state === 'off',
    40_000,
    `${name} to be created`,
  );
  return id;
}

describe('a moving VM keeps its storage pool', () => {
  it('a VM on the SMB share has no other host to go to, and an explicit host without the share is refused', async () => {
    const hosts = await hostIds();
    const id = await createOff('pool-share-01', SHARE);
    const row = await withSql(
      api.databaseUrl,
      async (db) => (await db.query<{ host_id: string }>('SELECT host_id FROM vms WHERE id = $1', [id])).rows[0],
    );
    expect(row?.host_id).toBe(hosts['pool-large']);

    await expect(c.admin.query('mobility.preview', { vmId: id, to: 'best' })).rejects.toThrow(/storage pool/);
    await expect(c.admin.mutate('mobility.migrate', { vmId: id, to: hosts['pool-std'] })).rejects.toThrow(
      /storage pool/,
    );
    const jobs = await withSql(api.databaseUrl, async (db) =>
      Number(
        (
          await db.query<{ n: string }>(
            "SELECT count(*) AS n FROM jobs WHERE target_id = $1 AND kind LIKE 'mobility%'",
            [id],
          )
        ).rows[0]?.n,
      ),
    );
    expect(jobs).toBe(0);
  }, 90_000);

  it('a VM on a pool both hosts reach moves, and its disks name the same pool after', async () => {
    const hosts = await hostIds();
    const id = await createOff('pool-csv-01', 'ClusterStorage-Volume1');
    const plan = await c.admin.query<{ toHostName: string }>('mobility.preview', { vmId: id, to: 'best' });
    const before = await withSql(
      api.databaseUrl,
      async (db) =>
        (await db.query<{ host_id: string }>('SELECT host_id FROM vms WHERE id = $1', [id])).rows[0]?.host_id,
    );
    const other = before === hosts['pool-large'] ? 'pool-std' : 'pool-large';
    expect(plan.toHostName).toBe(other);
    const { taskId } = await c.admin.mutate<{ taskId: string }>('mobility.migrate', { vmId: id, to: 'best' });
    await eventually(
      async () =>
        (await withSql(
          api.databaseUrl,
          async (db) =>
            (
              await db.query<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [taskId])
            ).rows[0]?.state,
        )) === 'succeeded',
      60_000,
      'the migration to succeed',
    );
    const after = await withSql(
      api.databaseUrl,
      async (db) =>
        (
          await db.query<{ host_id: string; pool: string }>(
            'SELECT v.host_id, d.pool FROM vms v JOIN vm_disks d ON d.vm_id = v.id WHERE v.id = $1',
            [id],
          )
        ).rows[0],
    );
    expect(after).toEqual({ host_id: hosts[other], pool: 'ClusterStorage-Volume1' });
  }, 120_000);
});
