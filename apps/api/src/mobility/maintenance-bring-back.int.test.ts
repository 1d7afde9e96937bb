import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRunOverlaps } from '../../../agent/src/testing/run-log-overlap';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Leaving maintenance brings the VMs back (issue 12), with two real agents: a host
// with a running and an off VM (and one that is deleted meanwhile) is evacuated;
// leaving maintenance with bring-back previews who comes back and who not (with
// why), then one task migrates them back — the running one live, still running,
// the off one cold, still off. Leaving without bring-back moves nothing.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: AgentProcess[] = [];
const dirs: Record<string, string> = {};
const hostIds: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000', FABRIC_MIGRATION_TIME_SCALE: '0.02' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  for (const hostname of ['bb-a', 'bb-b']) {
    const token = (await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id })).token;
    dirs[hostname] = mkdtempSync(path.join(os.tmpdir(), `fabric-bb-${hostname}-`));
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
      const hosts = await c.admin.query<{ rows: { id: string; name: string; state: string }[] }>('hosts.list', {
        search: 'bb-',
      });
      for (const h of hosts.rows) hostIds[h.name] = h.id;
      return hosts.rows.filter((h) => h.state === 'connected').length === 2;
    },
    60_000,
    'both hosts to register',
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGTERM')));
  await api?.close();
});

async function vmRow(id: string) {
  return withSql(api.databaseUrl, async (db) => {
    const r = await db.query<{ host_id: string; state: string }>('SELECT host_id, state FROM vms WHERE id = $1', [id]);
    return r.rows[0];
  });
}

async function jobState(id: string) {
  return withSql(api.databaseUrl, async (db) => {
    const r = await db.query<{ kind: string; state: string; error_message: string | null; result: unknown }>(
      'SELECT kind, state, error_message, result FROM jobs WHERE id = $1',
      [id],
    );
    return r.rows[0];
  });
}

async function countJobs(kind: string) {
  return withSql(api.databaseUrl, async (db) =>
    Number((await db.query('SELECT count(*) FROM jobs WHERE kind = $1', [kind])).rows[0].count),
  );
}

async function createVm(name: string, start: boolean): Promise<string> {
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 1024 },
    disks: [{ sizeGiB: 10 }],
    startAfterCreate: start,
  });
  const want = start ? 'running' : 'off';
  await eventually(
    async () => (await c.blueAdmin.query<{ state: string }>('vms.get', { id: created.vm.id })).state === want,
    60_000,
    `${name} to be ${want}`,
  );
  return created.vm.id;
}

async function evacuate(hostId: string, expected: number) {
  const result = await c.admin.mutate<{ taskIds: string[] }>('mobility.evacuate', { hostId });
  expect(result.taskIds).toHaveLength(expected);
  await eventually(
    async () => {
      const states = await Promise.all(result.taskIds.map(async (t) => (await jobState(t))?.state));
      return states.every((s) => s === 'succeeded' || s === 'failed');
    },
    180_000,
    'the evacuation to end',
  );
  for (const t of result.taskIds) expect((await jobState(t))?.error_message ?? null).toBeNull();
}

describe('leaving maintenance brings the VMs back', () => {
  it('previews, then brings back the running VM live and the off one cold; a deleted one is listed', async () => {
    const a = hostIds['bb-a'] as string;
    const b = hostIds['bb-b'] as string;
    // bb-b in maintenance while the VMs are created: they all land on bb-a.
    await c.admin.mutate('hosts.setMaintenance', { id: b, enabled: true });
    const web = await createVm('bb-web', true);
    const off = await createVm('bb-off', false);
    const gone = await createVm('bb-gone', false);
    for (const id of [web, off, gone]) expect((await vmRow(id))?.host_id).toBe(a);

    // bb-b entered maintenance without an evacuation: nothing to bring back, and leaving it starts nothing.
    const empty = await c.admin.query<{ back: unknown[]; skipped: unknown[]; heading: string }>(
      'mobility.bringBackPlan',
      { hostId: b },
    );
    expect(empty).toMatchObject({ back: [], skipped: [], heading: expect.stringMatching(/^Nothing to bring back/) });
    const leftB = await c.admin.mutate<{ state: string; taskId: string | null }>('mobility.leaveMaintenance', {
      hostId: b,
      bringBack: true,
    });
    expect(leftB).toMatchObject({ state: 'connected', taskId: null });

    // Bad input: clear refusals, nothing written.
    await expect(c.admin.query('mobility.bringBackPlan', { hostId: a })).rejects.toThrow(
      /CONFLICT .*not in maintenance/,
    );
    await expect(c.admin.mutate('mobility.leaveMaintenance', { hostId: a, bringBack: 'yes' })).rejects.toThrow(
      /BAD_REQUEST [\s\S]*bringBack is true/,
    );

    await evacuate(a, 3);
    for (const id of [web, off, gone]) expect((await vmRow(id))?.host_id).toBe(b);
    expect((await vmRow(web))?.state).toBe('running');
    expect((await vmRow(off))?.state).toBe('off');

    // Meanwhile one of them is deleted by its tenant.
    await c.blueAdmin.mutate('vms.act', { id: gone, action: 'delete' });
    await eventually(
      async () => (await c.blueAdmin.call('vms.get', 'query', { id: gone })).ok === false,
      60_000,
      'bb-gone to be deleted',
    );

    const plan = await c.admin.query<{
      heading: string;
      back: { vmName: string; live: boolean; fromHostName: string }[];
      skipped: { vmName: string; code: string; reason: string }[];
    }>('mobility.bringBackPlan', { hostId: a });
    expect(plan.heading).toBe('Bring back 2 VMs moved off by its maintenance (1 cannot)');
    expect(plan.back.map((v) => [v.vmName, v.live, v.fromHostName])).toEqual([
      ['bb-off', false, 'bb-b'],
      ['bb-web', true, 'bb-b'],
    ]);
    expect(plan.skipped).toEqual([
      { vmId: gone, vmName: 'bb-gone', code: 'deleted', reason: 'deleted since it was moved off' },
    ]);

    const migrationsBefore = await countJobs('mobility.migrate-vm');
    const left = await c.admin.mutate<{ state: string; taskId: string | null }>('mobility.leaveMaintenance', {
      hostId: a,
      bringBack: true,
    });
    expect(left.state).toBe('connected');
    if (!left.taskId) throw new Error('no bring-back task');
    const taskId = left.taskId;
    // One task, visible in Tasks, over the migrations it requested.
    const task = await c.admin.query<{ kind: string; targetLabel: string }>('tasks.get', { id: taskId });
    expect(task).toMatchObject({ kind: 'mobility.bring-back', targetLabel: 'bb-a' });
    await eventually(
      async () => ['succeeded', 'failed'].includes((await jobState(taskId))?.state ?? ''),
      240_000,
      'the bring-back task to end',
    );
    const job = await jobState(taskId);
    expect(job?.error_message ?? null).toBeNull();
    expect(job?.state).toBe('succeeded');
    expect(await countJobs('mobility.migrate-vm')).toBe(migrationsBefore + 2);
    const ended =
      (job?.result as { vms?: { vmName: string; state: string; detail: string | null }[] } | undefined)?.vms ?? [];
    expect(ended.map((v) => [v.vmName, v.state, v.detail]).sort()).toEqual([
      ['bb-off', 'succeeded', null],
      ['bb-web', 'succeeded', null],
    ]);
    expect(await vmRow(web)).toEqual({ host_id: a, state: 'running' });
    expect(await vmRow(off)).toEqual({ host_id: a, state: 'off' });
    await eventually(
      async () => (await c.blueAdmin.query<{ state: string }>('vms.get', { id: web })).state === 'running',
      30_000,
      'bb-web to run on bb-a',
    );
    expect(findRunOverlaps([{ path: dirs['bb-a'] as string }, { path: dirs['bb-b'] as string }])).toEqual([]);
    // Audited with what came back and what not.
    const audit = await withSql(
      api.databaseUrl,
      async (db) =>
        (
          await db.query<{ message: string }>(
            "SELECT message FROM audit_events WHERE action = 'host.maintenance.bring-back' AND target_id = $1",
            [a],
          )
        ).rows,
    );
    expect(audit.map((r) => r.message)).toEqual(['bb-a: Bring back 2 VMs moved off by its maintenance (1 cannot)']);
  }, 600_000);

  it('leaving maintenance without bring-back moves nothing', async () => {
    const a = hostIds['bb-a'] as string;
    const b = hostIds['bb-b'] as string;
    await evacuate(a, 2);
    const plan = await c.admin.query<{ back: unknown[] }>('mobility.bringBackPlan', { hostId: a });
    expect(plan.back).toHaveLength(2);
    const migrationsBefore = await countJobs('mobility.migrate-vm');
    const bringBacksBefore = await countJobs('mobility.bring-back');
    const left = await c.admin.mutate<{ state: string; taskId: string | null }>('mobility.leaveMaintenance', {
      hostId: a,
      bringBack: false,
    });
    expect(left).toMatchObject({ state: 'connected', taskId: null });
    expect(await countJobs('mobility.migrate-vm')).toBe(migrationsBefore);
    expect(await countJobs('mobility.bring-back')).toBe(bringBacksBefore);
    const onA = await withSql(api.databaseUrl, async (db) =>
      Number((await db.query('SELECT count(*) FROM vms WHERE host_id = $1', [a])).rows[0].count),
    );
    expect(onA).toBe(0);
    const onB = await withSql(api.databaseUrl, async (db) =>
      Number((await db.query('SELECT count(*) FROM vms WHERE host_id = $1', [b])).rows[0].count),
    );
    expect(onB).toBe(2);
    // Out of maintenance, there is nothing to bring back any more (a later leave cannot pick this evacuation up).
    await expect(c.admin.query('mobility.bringBackPlan', { hostId: a })).rejects.toThrow(/not in maintenance/);
  }, 400_000);
});
