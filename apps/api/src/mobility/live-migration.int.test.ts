import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRunOverlaps } from '../../../agent/src/testing/run-log-overlap';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Live migration end to end (issue 12): a tenant's running VM moves between two
// real agents through the durable workflow's phases; ownership moves once (epoch 2);
// the run logs show it never ran on both hosts at once; bad targets are 4xx with
// the reason and write nothing; the history keeps predicted and observed.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: AgentProcess[] = [];
const dirs: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000', FABRIC_MIGRATION_TIME_SCALE: '0.02' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  for (const hostname of ['mig-a', 'mig-b']) {
    const token = (await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id })).token;
    dirs[hostname] = mkdtempSync(path.join(os.tmpdir(), `fabric-mig-${hostname}-`));
    agents.push(
      spawnAgent({
        api: api.url,
        hostname,
        token,
        stateDir: dirs[hostname] as string,
        heartbeatMs: 500,
        extraArgs: ['--sim-speed', '20'],
      }),
    );
  }
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', { search: 'mig-' });
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

async function vmRow(id: string) {
  return withSql(api.databaseUrl, async (db) => {
    const r = await db.query<{ host_id: string; owner_epoch: number; state: string }>(
      'SELECT host_id, owner_epoch, state FROM vms WHERE id = $1',
      [id],
    );
    return r.rows[0];
  });
}

async function jobState(id: string) {
  return withSql(api.databaseUrl, async (db) => {
    const r = await db.query<{ state: string; error_message: string | null; steps: { key: string; state: string }[] }>(
      'SELECT state, error_message, steps FROM jobs WHERE id = $1',
      [id],
    );
    return r.rows[0];
  });
}

describe('live migration', () => {
  it('moves a running tenant VM between two real agents, phase by phase', async () => {
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'mig-web-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: true,
    });
    const id = created.vm.id;
    await eventually(
      async () => (await c.blueAdmin.query<{ state: string }>('vms.get', { id })).state === 'running',
      40_000,
      'the VM to run',
    );
    const before = await vmRow(id);
    const hosts = await withSql(
      api.databaseUrl,
      async (db) =>
        (await db.query<{ id: string; name: string }>("SELECT id, name FROM hosts WHERE name LIKE 'mig-%'")).rows,
    );
    const from = hosts.find((h) => h.id === before?.host_id);
    const to = hosts.find((h) => h.id !== before?.host_id);
    if (!from || !to || !before) throw new Error('hosts not found');

    // Bad input: clear 4xx, nothing written.
    await expect(c.admin.mutate('mobility.migrate', { vmId: id, to: from.id })).rejects.toThrow(
      /BAD_REQUEST .*already runs on that host/,
    );
    await expect(
      c.admin.mutate('mobility.migrate', { vmId: id, to: '00000000-0000-4000-8000-0000000000ff' }),
    ).rejects.toThrow(/NOT_FOUND No host/);
    await expect(c.admin.mutate('mobility.migrate', { vmId: id, to: 'somewhere' })).rejects.toThrow(/BAD_REQUEST/);
    const jobsBefore = await withSql(api.databaseUrl, async (db) =>
      Number((await db.query("SELECT count(*) FROM jobs WHERE kind = 'mobility.migrate-vm'")).rows[0].count),
    );
    expect(jobsBefore).toBe(0);

    // "best": the engine's choice and words, the model's prediction.
    const preview = await c.admin.query<{ toHostId: string; explanation: string; predicted: { blackoutMs: number } }>(
      'mobility.preview',
      { vmId: id, to: 'best' },
    );
    expect(preview.toHostId).toBe(to.id);
    expect(preview.explanation).toMatch(/^Placed on mig-/);
    expect(preview.predicted.blackoutMs).toBeGreaterThan(0);

    const { taskId } = await c.admin.mutate<{ taskId: string }>('mobility.migrate', { vmId: id, to: 'best' });
    await expect(c.admin.mutate('mobility.migrate', { vmId: id, to: 'best' })).rejects.toThrow(
      /CONFLICT .*already migrating/,
    );
    await eventually(
      async () => ['succeeded', 'failed'].includes((await jobState(taskId))?.state ?? ''),
      90_000,
      'the migration to end',
    );
    const job = await jobState(taskId);
    expect(job?.error_message ?? null).toBeNull();
    expect(job?.state).toBe('succeeded');
    expect(job?.steps.map((s) => s.key)).toEqual([
      'queue',
      'setup',
      'storage-copy',
      'precopy',
      'final',
      'storage',
      'online',
      'cleanup',
    ]);
    const after = await vmRow(id);
    expect(after?.host_id).toBe(to.id);
    expect(after?.owner_epoch).toBe(before.owner_epoch + 1);
    expect(after?.state).toBe('running');
    // It never ran on both hosts at once (the agents' own run logs).
    expect(findRunOverlaps([{ path: dirs['mig-a'] as string }, { path: dirs['mig-b'] as string }])).toEqual([]);
    // The destination agent reports it running; the source no longer has it.
    await eventually(
      async () => {
        const vm = await c.blueAdmin.query<{ state: string; hostName?: string | null }>('vms.get', { id });
        return vm.state === 'running';
      },
      20_000,
      'the VM to be running after the move',
    );
    const history = await c.admin.query<
      {
        jobId: string;
        record: { predicted: { blackoutMs: number }; observed: { blackoutMs: number }; outcome: string };
      }[]
    >('mobility.history', {});
    const row = history.find((h) => h.jobId === taskId);
    expect(row?.record.outcome).toBe('completed');
    expect(row?.record.predicted.blackoutMs).toBeGreaterThan(0);
    expect(row?.record.observed.blackoutMs).toBeGreaterThan(0);
  }, 180_000);

  it('a host entering maintenance empties: its VMs live-migrate per the engine plan', async () => {
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'mig-db-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: true,
    });
    await eventually(
      async () => (await c.blueAdmin.query<{ state: string }>('vms.get', { id: created.vm.id })).state === 'running',
      40_000,
      'the second VM to run',
    );
    const onHosts = await withSql(
      api.databaseUrl,
      async (db) =>
        (
          await db.query<{ host_id: string; name: string; n: string }>(
            `SELECT h.id AS host_id, h.name, count(v.id) AS n FROM hosts h LEFT JOIN vms v ON v.host_id = h.id
           WHERE h.name LIKE 'mig-%' GROUP BY h.id, h.name ORDER BY count(v.id) DESC, h.name`,
          )
        ).rows,
    );
    const busiest = onHosts[0];
    if (!busiest || Number(busiest.n) === 0) throw new Error('no VMs on the test hosts');
    const plan = await c.admin.query<{ moves: { vmName: string }[]; unmovable: unknown[] }>('mobility.evacuationPlan', {
      hostId: busiest.host_id,
    });
    expect(plan.moves).toHaveLength(Number(busiest.n));
    expect(plan.unmovable).toEqual([]);
    const result = await c.admin.mutate<{ taskIds: string[] }>('mobility.evacuate', { hostId: busiest.host_id });
    expect(result.taskIds).toHaveLength(Number(busiest.n));
    await eventually(
      async () => {
        const states = await Promise.all(result.taskIds.map(async (t) => (await jobState(t))?.state));
        return states.every((s) => s === 'succeeded' || s === 'failed');
      },
      120_000,
      'the evacuation to end',
    );
    for (const t of result.taskIds) expect((await jobState(t))?.state).toBe('succeeded');
    const left = await withSql(api.databaseUrl, async (db) =>
      Number((await db.query('SELECT count(*) FROM vms WHERE host_id = $1', [busiest.host_id])).rows[0].count),
    );
    expect(left).toBe(0);
    const host = await withSql(
      api.databaseUrl,
      async (db) =>
        (await db.query<{ state: string }>('SELECT state FROM hosts WHERE id = $1', [busiest.host_id])).rows[0],
    );
    expect(host?.state).toBe('maintenance');
    expect(findRunOverlaps([{ path: dirs['mig-a'] as string }, { path: dirs['mig-b'] as string }])).toEqual([]);
  }, 240_000);
});
