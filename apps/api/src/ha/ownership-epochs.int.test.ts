import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transferOwnership } from '@fabric/core/compute/ownership';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRunOverlaps, runsOf } from '../../../agent/src/testing/run-log-overlap';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Ownership epochs end to end (shared contract part 3, docs/high-availability.md):
// a VM moved with transferOwnership is at a new epoch; a second mover with the old
// epoch loses; the old host's report on a task from before the move is refused
// (409 STALE_EPOCH); the old host, back from a restart, is told to discard its
// copy and does, and its run log shows the run ended.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: AgentProcess[] = [];
const dirs: Record<string, string> = {};
let token: () => Promise<string>;

function startAgent(hostname: string, withToken: string | undefined) {
  dirs[hostname] ??= mkdtempSync(path.join(os.tmpdir(), `fabric-epoch-${hostname}-`));
  const agent = spawnAgent({
    api: api.url,
    hostname,
    token: withToken,
    stateDir: dirs[hostname] as string,
    heartbeatMs: 500,
    extraArgs: ['--sim-speed', '20'],
  });
  agents.push(agent);
  return agent;
}

async function vmRow(id: string) {
  return withSql(api.databaseUrl, async (db) => {
    const r = await db.query<{ host_id: string; owner_epoch: number; cluster_id: string }>(
      'SELECT host_id, owner_epoch, cluster_id FROM vms WHERE id = $1',
      [id],
    );
    return r.rows[0];
  });
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  token = async () => (await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id })).token;
  startAgent('epoch-a', await token());
  startAgent('epoch-b', await token());
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', {
        search: 'epoch-',
      });
      return hosts.rows.filter((h) => h.state === 'connected').length === 2;
    },
    30_000,
    'both hosts to register',
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGTERM')));
  await api?.close();
});

describe('VM ownership epochs', () => {
  it('moves by compare-and-set, refuses the old host, and has it discard its copy', async () => {
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'epoch-web-01',
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
    expect(before?.owner_epoch).toBe(1);
    const hosts = await withSql(
      api.databaseUrl,
      async (db) =>
        (await db.query<{ id: string; name: string }>("SELECT id, name FROM hosts WHERE name LIKE 'epoch-%'")).rows,
    );
    const from = hosts.find((h) => h.id === before?.host_id);
    const to = hosts.find((h) => h.id !== before?.host_id);
    if (!from || !to || !before) throw new Error('hosts not found');

    // A task the old host was handed before the move (still running there).
    const staleTaskId = '00000000-0000-4000-8000-000000000e01';
    await withSql(api.databaseUrl, (db) =>
      db.query(
        `INSERT INTO tasks (id, kind, state, tenant_id, vm_id, host_id, owner_epoch, requested_by, attempt, lease_until)
         SELECT $1, 'vm.restart', 'running', tenant_id, id, host_id, 1, 'test', 1, now() + interval '1 minute'
         FROM vms WHERE id = $2`,
        [staleTaskId, id],
      ),
    );

    // The move: compare-and-set on epoch 1 wins once; a second mover reading epoch 1 loses.
    const epoch = await api.services.uow.run(({ ownership }) =>
      transferOwnership(ownership, id, {
        toHostId: to.id,
        toClusterId: before.cluster_id,
        expectEpoch: 1,
        at: new Date(),
      }),
    );
    expect(epoch).toBe(2);
    await expect(
      api.services.uow.run(({ ownership }) =>
        transferOwnership(ownership, id, {
          toHostId: from.id,
          toClusterId: before.cluster_id,
          expectEpoch: 1,
          at: new Date(),
        }),
      ),
    ).rejects.toMatchObject({ code: 'STALE_EPOCH' });
    expect(await vmRow(id)).toMatchObject({ host_id: to.id, owner_epoch: 2 });

    // The old host's report on its task from epoch 1: 409 STALE_EPOCH.
    const credential = JSON.parse(readFileSync(path.join(dirs[from.name] as string, 'credential.json'), 'utf8')) as {
      credential: string;
    };
    const report = await fetch(`${api.url}/agent/v1/hosts/${from.id}/tasks/${staleTaskId}/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential.credential}` },
      body: JSON.stringify({ seq: Date.now() + 1, status: 'succeeded', vmState: 'running', message: 'restarted' }),
    });
    expect(report.status).toBe(409);
    expect(((await report.json()) as { error: { code: string } }).error.code).toBe('STALE_EPOCH');

    // The old host's agent restarts (as after an outage): it lists its VMs with their epochs,
    // hears "discard" for this one, turns it off and deletes it.
    const old = agents.find((a) => a.output().includes(`[${from.name}]`));
    await old?.kill('SIGTERM');
    const restarted = startAgent(from.name, undefined);
    await eventually(
      async () => restarted.output().includes('discarding this host'),
      30_000,
      'the old host to discard its copy',
    );
    await eventually(
      async () => {
        const runs = runsOf({ path: dirs[from.name] as string }).filter((r) => r.vmId === id);
        return runs.length > 0 && runs.every((r) => r.to !== null) ? runs : null;
      },
      20_000,
      "the old host's run log to close the VM's run",
    );
    await eventually(
      async () => !readFileSync(path.join(dirs[from.name] as string, 'vms.json'), 'utf8').includes(id),
      20_000,
      'the copy to be deleted from the old host',
    );
    // The new owner never ran it here (no start was queued), so no two runs overlap.
    expect(findRunOverlaps(Object.values(dirs).map((p) => ({ path: p })))).toEqual([]);
  }, 120_000);
});
