import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Dynamic optimization over the real API (issue 12): two real agents, four
// running VMs crowded on one host, their measured load written as metering
// samples; a round recommends moves with their what-if, applying one migrates
// the VM through the agents, and automatic mode applies a round once even when
// two ticks race for the same slot.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let clusterId = '';
const agents: AgentProcess[] = [];
const hosts: Record<string, string> = {};
const vmIds: string[] = [];

interface Recommendation {
  id: string;
  roundId: string;
  vmId: string;
  fromHostId: string;
  toHostId: string;
  state: string;
  taskId: string | null;
  whatIf: {
    imbalanceBefore: number;
    imbalanceAfter: number;
    bytesToMove: number;
    predictedSeconds: number;
    fromLoadBefore: number;
    toLoadBefore: number;
  };
}
interface Round {
  id: string;
  source: string;
  triggered: boolean;
  acting: boolean;
  summary: string;
  imbalanceBefore: number;
  imbalanceAfter: number;
}

const sql = <T extends object>(text: string, params: unknown[] = []) =>
  withSql(api.databaseUrl, async (db) => (await db.query<T>(text, params)).rows);

/** Each VM on `host` measured at 80 % of its vCPUs over the last half minute (what an agent's samples would say). */
async function busySamples(): Promise<void> {
  await sql(
    `INSERT INTO vm_samples (vm_id, tenant_id, host_id, at, interval_s, cpu_avg_mhz, mem_avg_mib, mem_min_mib, mem_max_mib,
       disk_allocated_gib, disk_read_bytes, disk_write_bytes, net_in_internet_bytes, net_out_internet_bytes,
       net_in_datacenter_bytes, net_out_datacenter_bytes)
     SELECT v.id, v.tenant_id, v.host_id, now() - interval '20 seconds', 30, v.vcpus * h.cpu_mhz * 0.8, v.memory_mib,
       v.memory_mib, v.memory_mib, 10, 0, 0, 0, 0, 0, 0
     FROM vms v JOIN hosts h ON h.id = v.host_id WHERE v.id = ANY($1::uuid[])
     ON CONFLICT DO NOTHING`,
    [vmIds],
  );
}

async function jobState(id: string) {
  return (await sql<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [id]))[0]?.state;
}

async function placedOn(): Promise<Record<string, number>> {
  const rows = await sql<{ name: string; n: string }>(
    `SELECT h.name, count(v.id)::text AS n FROM hosts h LEFT JOIN vms v ON v.host_id = h.id AND v.id = ANY($1::uuid[])
     WHERE h.name LIKE 'reb-%' GROUP BY h.name`,
    [vmIds],
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

beforeAll(async () => {
  // No background work: the test ticks the rebalancer itself (the minute's scheduled tick would race it).
  api = await startTestApi({
    monitor: false,
    env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000', FABRIC_MIGRATION_TIME_SCALE: '0.02' },
  });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  clusterId = clusters.find((cl) => cl.name === 'Production')?.id ?? '';
  for (const hostname of ['reb-a', 'reb-b']) {
    const token = (await c.admin.mutate<{ token: string }>('tokens.create', { clusterId })).token;
    const stateDir = mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`));
    // Samples once an hour: the test writes the measured load itself.
    agents.push(
      spawnAgent({
        api: api.url,
        hostname,
        token,
        stateDir,
        heartbeatMs: 500,
        extraArgs: ['--sim-speed', '20', '--sample-seconds', '3600'],
      }),
    );
  }
  await eventually(
    async () => {
      const list = await c.admin.query<{ rows: { id: string; name: string; state: string }[] }>('hosts.list', {
        search: 'reb-',
      });
      for (const h of list.rows) hosts[h.name] = h.id;
      return list.rows.filter((h) => h.state === 'connected').length === 2;
    },
    30_000,
    'both hosts to register',
  );
  // Crowd every VM on reb-a: reb-b takes no new work while the VMs are created.
  await c.admin.mutate('hosts.setMaintenance', { id: hosts['reb-b'], enabled: true, reason: 'test: crowd reb-a' });
  for (let i = 0; i < 4; i++) {
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: `reb-vm-${i}`,
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: true,
    });
    vmIds.push(created.vm.id);
  }
  await eventually(
    async () => {
      const rows = await sql<{ state: string }>('SELECT state FROM vms WHERE id = ANY($1::uuid[])', [vmIds]);
      return rows.filter((r) => r.state === 'running').length === 4;
    },
    60_000,
    'the VMs to run',
  );
  await c.admin.mutate('hosts.setMaintenance', { id: hosts['reb-b'], enabled: false });
  expect(await placedOn()).toEqual({ 'reb-a': 4, 'reb-b': 0 });
  await busySamples();
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGTERM')));
  await api?.close();
});

describe('rebalancing over the API', () => {
  it('refuses bad settings with the rule, and starts off', async () => {
    const overview = await c.admin.query<{ settings: { mode: string; intervalMinutes: number } }>(
      'rebalance.overview',
      { clusterId },
    );
    expect(overview.settings).toMatchObject({ mode: 'off', intervalMinutes: 10 });
    await expect(
      c.admin.mutate('rebalance.updateSettings', { clusterId, settings: { intervalMinutes: 0 } }),
    ).rejects.toThrow(/BAD_REQUEST[\s\S]*the interval must be at least 1 minute/);
    await expect(
      c.admin.mutate('rebalance.updateSettings', { clusterId, settings: { mode: 'sometimes' } }),
    ).rejects.toThrow(/BAD_REQUEST[\s\S]*mode must be 'off', 'recommend' or 'automatic'/);
    // Nothing changed.
    const after = await c.admin.query<{ settings: { mode: string } }>('rebalance.overview', { clusterId });
    expect(after.settings.mode).toBe('off');
  });

  it('recommends moves from measured load, each with its what-if, and applying one migrates the VM', async () => {
    await c.admin.mutate('rebalance.updateSettings', {
      clusterId,
      settings: { mode: 'recommend', intervalMinutes: 1, holdRounds: 1 },
    });
    const { round, recommendations } = await c.admin.mutate<{ round: Round; recommendations: Recommendation[] }>(
      'rebalance.runNow',
      { clusterId },
    );
    // Four busy VMs on reb-a, none on reb-b: imbalance 1.0; two moves even it out.
    expect(round).toMatchObject({ source: 'manual', triggered: true, acting: true });
    expect(round.imbalanceBefore).toBeCloseTo(1, 3);
    expect(round.imbalanceAfter).toBeCloseTo(0, 3);
    expect(recommendations).toHaveLength(2);
    for (const r of recommendations) {
      expect(r).toMatchObject({ fromHostId: hosts['reb-a'], toHostId: hosts['reb-b'], state: 'pending' });
      expect(r.whatIf.imbalanceAfter).toBeLessThan(r.whatIf.imbalanceBefore);
      // A running 1 GiB VM: pre-copy sends its memory at least once.
      expect(r.whatIf.bytesToMove).toBeGreaterThanOrEqual(1024 * 1024 * 1024);
      expect(r.whatIf.predictedSeconds).toBeGreaterThan(0);
    }
    const [first] = recommendations;
    if (!first) throw new Error('no recommendation');
    const applied = await c.admin.mutate<{ ok: boolean; taskId: string }>('rebalance.applyOne', {
      recommendationId: first.id,
    });
    expect(applied.ok).toBe(true);
    await eventually(
      async () => ['succeeded', 'failed'].includes((await jobState(applied.taskId)) ?? ''),
      60_000,
      'the migration to end',
    );
    expect(await jobState(applied.taskId)).toBe('succeeded');
    const [vm] = await sql<{ host_id: string }>('SELECT host_id FROM vms WHERE id = $1', [first.vmId]);
    expect(vm?.host_id).toBe(hosts['reb-b']);
    // The same recommendation again: refused with the reason, no second migration.
    await expect(c.admin.mutate('rebalance.applyOne', { recommendationId: first.id })).rejects.toThrow(
      /CONFLICT .*already applied/,
    );
    const jobs = await sql<{ n: string }>(
      "SELECT count(*)::text AS n FROM jobs WHERE kind = 'mobility.migrate-vm' AND target_id = $1",
      [first.vmId],
    );
    expect(jobs[0]?.n).toBe('1');
    const overview = await c.admin.query<{ recommendations: Recommendation[] }>('rebalance.overview', { clusterId });
    expect(overview.recommendations.find((r) => r.id === first.id)).toMatchObject({
      state: 'applied',
      taskId: applied.taskId,
    });
  }, 90_000);

  it('automatic mode applies a due round once, even when two ticks race for its slot', async () => {
    await c.admin.mutate('rebalance.updateSettings', { clusterId, settings: { mode: 'automatic' } });
    // Two API processes ticking at once: the round's slot is unique, so one writes and starts; the other nothing.
    const [x, y] = await Promise.all([api.services.rebalance.tick(), api.services.rebalance.tick()]);
    const ran = [...x, ...y].filter((r) => r.clusterId === clusterId);
    expect(ran).toHaveLength(1);
    const rounds = await sql<{ n: string }>(
      "SELECT count(*)::text AS n FROM rebalance_rounds WHERE cluster_id = $1 AND source = 'schedule'",
      [clusterId],
    );
    expect(rounds[0]?.n).toBe('1');
    // 3 VMs on reb-a, 1 on reb-b: one move evens them; the manual round's leftover was superseded.
    const started = ran[0]?.applied.filter((a) => a.ok) ?? [];
    expect(started).toHaveLength(1);
    const taskId = started[0]?.taskId ?? '';
    await eventually(
      async () => ['succeeded', 'failed'].includes((await jobState(taskId)) ?? ''),
      60_000,
      'the automatic migration to end',
    );
    expect(await jobState(taskId)).toBe('succeeded');
    expect(await placedOn()).toEqual({ 'reb-a': 2, 'reb-b': 2 });
    const states = await sql<{ state: string; n: string }>(
      'SELECT state, count(*)::text AS n FROM rebalance_recommendations WHERE cluster_id = $1 GROUP BY state ORDER BY state',
      [clusterId],
    );
    expect(states).toEqual([
      { state: 'applied', n: '2' },
      { state: 'superseded', n: '1' },
    ]);
    // Not due again within the interval: a tick now writes nothing.
    expect((await api.services.rebalance.tick()).filter((r) => r.clusterId === clusterId)).toEqual([]);
  }, 90_000);
});
