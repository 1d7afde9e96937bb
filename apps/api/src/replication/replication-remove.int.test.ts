import { mkdtempSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Removing replication deletes the replica (issue 10), with two real agent
// processes, one per cluster, and two VMs replicating from one to the other:
// removing the first VM's replication (while a test failover runs from it) is
// a task whose agent step deletes that relationship's replica folder and the
// test VM's disks on the replica host, and nothing else: the VM keeps running
// with its disks, the second VM's replica stays and keeps receiving cycles.
// Deleting the second VM then deletes its replica too, through a task of its own.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: AgentProcess[] = [];
const stateDirs = new Map<string, string>();

interface Host {
  id: string;
  name: string;
  clusterId: string;
  state: string;
  storagePools: { name: string }[];
}
interface Replication {
  relationship: { id: string; state: string; testVmId: string | null };
  points: { id: string }[];
  cycles: { state: string; startedAt: string }[];
}
interface Task {
  id: string;
  kind: string;
  state: string;
  targetId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  message: string;
  steps: { key: string; state: string; detail: string | null }[];
}

const taskDone = (id: string) => async () => {
  const t = await c.blueAdmin.query<Task>('tasks.get', { id });
  if (t.state === 'failed') throw new Error(`task failed: ${t.errorCode} ${t.errorMessage}`);
  return t.state === 'succeeded' ? t : null;
};

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Every file under `dir` (relative paths), for "nothing else was removed". */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  await walk(dir);
  return out.sort();
}

async function hostNamed(name: string): Promise<Host> {
  const list = await c.admin.query<{ rows: { id: string; name: string }[] }>('hosts.list', { search: name });
  const row = list.rows.find((h) => h.name === name);
  if (!row) throw new Error(`no host ${name}`);
  return c.admin.query<Host>('hosts.get', { id: row.id });
}

async function runningVm(name: string): Promise<{ id: string; hostId: string }> {
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 1 }],
    startAfterCreate: true,
  });
  return eventually(
    async () => {
      const vm = await c.admin.query<{ state: string; hostId: string | null }>('vms.get', { id: created.vm.id });
      return vm.state === 'running' && vm.hostId ? { id: created.vm.id, hostId: vm.hostId } : null;
    },
    60_000,
    `${name} to run`,
  );
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  for (const [hostname, clusterName] of [
    ['rmv-a-01', 'Production'],
    ['rmv-b-01', 'Development'],
  ] as const) {
    const cluster = clusters.find((cl) => cl.name === clusterName);
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: cluster?.id });
    const stateDir = mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`));
    stateDirs.set(hostname, stateDir);
    agents.push(
      spawnAgent({
        api: api.url,
        hostname,
        token,
        stateDir,
        profile: 'standard-2x16-512g',
        extraArgs: ['--sim-speed', '20', '--sample-seconds', '5'],
      }),
    );
  }
  try {
    await eventually(
      async () => {
        const hosts = await Promise.all(['rmv-a-01', 'rmv-b-01'].map((n) => hostNamed(n).catch(() => null)));
        return hosts.every((h) => h?.state === 'connected');
      },
      150_000,
      'both hosts to register',
    );
  } catch (error) {
    for (const a of agents) console.error(a.output().slice(-3000));
    throw error;
  }
}, 200_000);

afterAll(async () => {
  for (const a of agents) await a.kill('SIGTERM');
  await api?.close();
});

describe('removing replication deletes the replica and nothing else', () => {
  it('remove (during a test failover), then delete a replicated VM: each a task that deletes only its replica', async () => {
    const [a, b] = await Promise.all([hostNamed('rmv-a-01'), hostNamed('rmv-b-01')]);
    for (const h of [a, b]) {
      await c.admin.mutate('replication.authorizations.create', {
        replicaClusterId: h.clusterId,
        storagePool: h.storagePools[0]?.name,
      });
    }
    const one = await runningVm('rmv-web-01');
    const two = await runningVm('rmv-web-02');
    // Both on the Production host (the only one in its cluster), both replicating to the Development host.
    expect(two.hostId).toBe(one.hostId);
    const primary = one.hostId === a.id ? a : b;
    const replica = primary === a ? b : a;
    const primaryDir = stateDirs.get(primary.name) as string;
    const replicaDir = stateDirs.get(replica.name) as string;
    for (const vm of [one, two]) {
      const { taskId } = await c.blueAdmin.mutate<{ taskId: string }>('replication.enable', {
        vmId: vm.id,
        target: { kind: 'cluster', clusterId: replica.clusterId },
        frequencySeconds: 30,
        additionalPoints: 2,
      });
      await untilDone(taskId);
    }
    const relOne = (await c.blueAdmin.query<Replication>('replication.get', { vmId: one.id })).relationship;
    const relTwo = (await c.blueAdmin.query<Replication>('replication.get', { vmId: two.id })).relationship;
    const oneReplica = path.join(replicaDir, 'replicas', relOne.id);
    const twoReplica = path.join(replicaDir, 'replicas', relTwo.id);
    expect(await exists(path.join(oneReplica, 'relationship.json'))).toBe(true);
    expect(await exists(path.join(twoReplica, 'relationship.json'))).toBe(true);

    // A test failover of the first VM: a test VM with disks of its own on the replica host.
    const test = await c.blueUser.mutate<{ taskId: string }>('replication.testFailover', { vmId: one.id });
    await eventually(taskDone(test.taskId), 60_000, 'the test VM');
    const testVmId = (await c.blueAdmin.query<Replication>('replication.get', { vmId: one.id })).relationship.testVmId;
    expect(testVmId).toBeTruthy();
    const testDisks = path.join(replicaDir, 'disks', testVmId as string);
    expect(await exists(testDisks)).toBe(true);

    // What must survive, as files: the primary's disks of both VMs, the second VM's replica.
    const primaryBefore = await filesUnder(path.join(primaryDir, 'disks'));
    expect(primaryBefore.some((f) => f.startsWith(`${one.id}/`))).toBe(true);
    const twoBefore = await filesUnder(twoReplica);
    const twoRecord = JSON.parse(await readFile(path.join(twoReplica, 'relationship.json'), 'utf8')) as {
      points: { pointId: string }[];
    };

    // Another tenant cannot remove it (NOT_FOUND, nothing happens).
    expect(await c.yellowAdmin.call('replication.remove', 'mutation', { vmId: one.id })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
    expect(await exists(oneReplica)).toBe(true);

    const removed = await c.blueUser.mutate<{ taskId: string }>('replication.remove', { vmId: one.id });
    // Cycles stop at once; a second remove while the first runs is refused.
    const second = await c.blueUser.call('replication.remove', 'mutation', { vmId: one.id });
    expect(second.ok).toBe(false);
    const task = await eventually(taskDone(removed.taskId), 90_000, 'the replica removed');
    expect(task.kind).toBe('replication.remove');
    expect(task.targetId).toBe(one.id);
    // The provider reads which host it was (tenants are told "a host").
    const asAdmin = await c.admin.query<Task>('tasks.get', { id: removed.taskId });
    expect(asAdmin.steps.find((s) => s.key === 'replica')?.detail).toMatch(
      new RegExp(`[1-9]\\d* recovery point\\(s\\) and .+ of replica storage deleted on ${replica.name}`),
    );
    // The tenant finds it in Tasks.
    const listed = await c.blueUser.query<{ rows: Task[] }>('tasks.list', { kind: 'replication.remove' });
    expect(listed.rows.map((r) => r.id)).toContain(removed.taskId);

    // Gone: the relationship, its replica folder (disks, undo files, record), the test VM's disks.
    expect(await c.blueAdmin.query<Replication | null>('replication.get', { vmId: one.id })).toBeNull();
    expect(await exists(oneReplica)).toBe(false);
    expect(await exists(testDisks)).toBe(false);
    // Kept: the VM, running where it was, with every disk file it had on its host.
    const vmOne = await c.admin.query<{ state: string; hostId: string }>('vms.get', { id: one.id });
    expect(vmOne).toMatchObject({ state: 'running', hostId: primary.id });
    const primaryAfter = await filesUnder(path.join(primaryDir, 'disks'));
    for (const f of primaryBefore) expect(primaryAfter).toContain(f);
    // Kept: the second VM's replica, every file and point, and it goes on receiving cycles.
    const twoAfter = await filesUnder(twoReplica);
    for (const f of twoBefore) expect(twoAfter).toContain(f);
    const twoNow = JSON.parse(await readFile(path.join(twoReplica, 'relationship.json'), 'utf8')) as {
      points: { pointId: string }[];
    };
    expect(twoNow.points.map((p) => p.pointId)).toEqual(
      expect.arrayContaining(twoRecord.points.slice(-1).map((p) => p.pointId)),
    );
    const removedAt = Date.now();
    await eventually(
      async () => {
        const r = await c.blueAdmin.query<Replication>('replication.get', { vmId: two.id });
        return r.cycles.some((cy) => cy.state === 'succeeded' && Date.parse(cy.startedAt) > removedAt) ? r : null;
      },
      75_000,
      "a cycle of the second VM after the first one's removal",
    );
    // The removed VM can be replicated again from scratch.
    const again = await c.blueAdmin.mutate<{ taskId: string }>('replication.enable', {
      vmId: one.id,
      target: { kind: 'cluster', clusterId: replica.clusterId },
      frequencySeconds: 300,
    });
    await untilDone(again.taskId);

    // Deleting the second VM deletes its replica too: a replication.remove task of its own.
    await c.blueAdmin.mutate('vms.act', { id: two.id, action: 'turn-off' });
    await eventually(
      async () => (await c.admin.query<{ state: string }>('vms.get', { id: two.id })).state === 'off',
      60_000,
      'the second VM off',
    );
    await c.blueAdmin.mutate('vms.act', { id: two.id, action: 'delete' });
    const cleanup = await eventually(
      async () => {
        const list = await c.blueAdmin.query<{ rows: Task[] }>('tasks.list', {
          kind: 'replication.remove',
          targetId: two.id,
        });
        const t = list.rows[0];
        if (t?.state === 'failed') throw new Error(`cleanup failed: ${t.errorCode} ${t.errorMessage}`);
        return t?.state === 'succeeded' ? t : null;
      },
      90_000,
      "the deleted VM's replica removed",
    );
    expect(cleanup.message).toMatch(/removed/);
    expect(await exists(twoReplica)).toBe(false);
    const left = (await c.blueAdmin.query<{ vmId: string }[]>('replication.list')).map((r) => r.vmId);
    expect(left).toEqual([one.id]);
    // The first VM's new replica is untouched by the second one's cleanup.
    const relAgain = (await c.blueAdmin.query<Replication>('replication.get', { vmId: one.id })).relationship;
    expect(await exists(path.join(replicaDir, 'replicas', relAgain.id, 'relationship.json'))).toBe(true);
  }, 500_000);
});

async function untilDone(taskId: string) {
  return eventually(taskDone(taskId), 90_000, `task ${taskId}`);
}
