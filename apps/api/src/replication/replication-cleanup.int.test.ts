import { mkdtempSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// What replication leaves behind after a failover or a crash (issue 10), with
// two real agent processes, one per cluster:
// - after an unplanned failover, the old primary returns and its HA discard
//   sets the VM's disks aside (to seed a reverse direction); removing the
//   replication instead deletes that copy too, not only the replica;
// - an API that died between a VM's delete and its replica's removal leaves
//   the relationship and the replica folder: the sweep (at start, then every
//   minute) finds the relationship of the deleted VM and removes the replica.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents = new Map<string, AgentProcess>();
const stateDirs = new Map<string, string>();
const HOSTS = ['cln-a-01', 'cln-b-01'] as const;

interface Host {
  id: string;
  name: string;
  clusterId: string;
  state: string;
  lastHeartbeatAt: string | null;
  storagePools: { name: string }[];
}
interface Replication {
  relationship: { id: string; state: string };
  points: { id: string }[];
}
interface Task {
  id: string;
  state: string;
  message: string;
  errorCode: string | null;
  errorMessage: string | null;
  steps: { key: string; detail: string | null }[];
}

const taskDone = (id: string) => async () => {
  const t = await c.admin.query<Task>('tasks.get', { id });
  if (t.state === 'failed') throw new Error(`task failed: ${t.errorCode} ${t.errorMessage}`);
  return t.state === 'succeeded' ? t : null;
};

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function hostNamed(name: string): Promise<Host> {
  const list = await c.admin.query<{ rows: { id: string; name: string }[] }>('hosts.list', { search: name });
  const row = list.rows.find((h) => h.name === name);
  if (!row) throw new Error(`no host ${name}`);
  return c.admin.query<Host>('hosts.get', { id: row.id });
}

function startAgent(hostname: string, token?: string) {
  agents.set(
    hostname,
    spawnAgent({
      api: api.url,
      hostname,
      ...(token ? { token } : {}),
      stateDir: stateDirs.get(hostname) as string,
      profile: 'standard-2x16-512g',
      extraArgs: ['--sim-speed', '20', '--sample-seconds', '5'],
    }),
  );
}

/** A running VM replicating to the other host's cluster (placement picks where it runs: the other is the replica). */
async function replicatingVm(name: string) {
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 1 }],
    startAfterCreate: true,
  });
  const vmId = created.vm.id;
  const running = await eventually(
    async () => {
      const vm = await c.admin.query<{ state: string; hostId: string | null }>('vms.get', { id: vmId });
      return vm.state === 'running' ? vm : null;
    },
    60_000,
    `${name} to run`,
  );
  const [a, b] = (await Promise.all(HOSTS.map((n) => hostNamed(n)))) as [Host, Host];
  const primary = running.hostId === a.id ? a : b;
  const replica = primary === a ? b : a;
  const { taskId } = await c.blueAdmin.mutate<{ taskId: string }>('replication.enable', {
    vmId,
    target: { kind: 'cluster', clusterId: replica.clusterId },
    frequencySeconds: 30,
    additionalPoints: 1,
  });
  await eventually(taskDone(taskId), 90_000, `initial replication of ${name}`);
  const rel = (await c.blueAdmin.query<Replication>('replication.get', { vmId })).relationship;
  return { vmId, relId: rel.id, primary, replica };
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  for (const [hostname, clusterName] of [
    [HOSTS[0], 'Production'],
    [HOSTS[1], 'Development'],
  ] as const) {
    const cluster = clusters.find((cl) => cl.name === clusterName);
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: cluster?.id });
    stateDirs.set(hostname, mkdtempSync(path.join(os.tmpdir(), `fabric-${hostname}-`)));
    startAgent(hostname, token);
  }
  try {
    await eventually(
      async () => {
        const hosts = await Promise.all(HOSTS.map((n) => hostNamed(n).catch(() => null)));
        return hosts.every((h) => h?.state === 'connected');
      },
      150_000,
      'both hosts to register',
    );
    for (const name of HOSTS) {
      const h = await hostNamed(name);
      await c.admin.mutate('replication.authorizations.create', {
        replicaClusterId: h.clusterId,
        storagePool: h.storagePools[0]?.name,
      });
    }
  } catch (error) {
    for (const a of agents.values()) console.error(a.output().slice(-3000));
    throw error;
  }
}, 200_000);

afterAll(async () => {
  for (const a of agents.values()) await a.kill('SIGTERM');
  await api?.close();
});

describe('replication cleans up after failovers and crashes', () => {
  it('the sweep removes the replica of a VM whose delete committed while its cleanup never started', async () => {
    const { vmId, relId, replica } = await replicatingVm('cln-gone-01');
    const replicaFolder = path.join(stateDirs.get(replica.name) as string, 'replicas', relId);
    expect(await exists(path.join(replicaFolder, 'relationship.json'))).toBe(true);

    // The VM's row is deleted as its host's vm.delete report deletes it, and the API dies before it starts the
    // replica's removal (here: the hook never runs). The relationship and the replica stay behind…
    await withSql(api.databaseUrl, (sql) => sql.query('DELETE FROM vms WHERE id = $1', [vmId]));
    // …until the sweep (every minute) starts the removal, as the deleted VM's own.
    const removal = await eventually(
      async () => {
        const list = await c.admin.query<{ rows: Task[] }>('tasks.list', {
          kind: 'replication.remove',
          targetId: vmId,
        });
        const t = list.rows[0];
        if (t?.state === 'failed') throw new Error(`removal failed: ${t.errorCode} ${t.errorMessage}`);
        return t?.state === 'succeeded' ? t : null;
      },
      150_000,
      "the deleted VM's replica removed by the sweep",
    );
    expect(removal.message).toMatch(/removed/);
    expect(await exists(replicaFolder)).toBe(false);
    const left = await c.admin.query<{ vmId: string }[]>('replication.list');
    expect(left.map((r) => r.vmId)).not.toContain(vmId);
  }, 400_000);

  it('removing replication after an unplanned failover deletes the disks the returning old primary set aside', async () => {
    const { vmId, relId, primary, replica } = await replicatingVm('cln-web-01');
    const primaryDir = stateDirs.get(primary.name) as string;
    expect((await c.admin.query<{ hostId: string }>('vms.get', { id: vmId })).hostId).toBe(primary.id);

    // The primary dies; the VM fails over to its latest point on the replica host, and the failover is completed.
    await agents.get(primary.name)?.kill('SIGKILL');
    const failover = await c.blueAdmin.mutate<{ taskId: string }>('replication.failover', { vmId });
    await eventually(taskDone(failover.taskId), 90_000, 'the unplanned failover');
    const complete = await c.blueAdmin.mutate<{ taskId: string }>('replication.completeFailover', { vmId });
    await eventually(taskDone(complete.taskId), 60_000, 'the failover completed');

    // The old primary returns: the VM is not its own any more, so its HA discard sets the VM's disks aside.
    const restartedAt = Date.now();
    startAgent(primary.name);
    await eventually(
      async () => {
        const host = await hostNamed(primary.name);
        return (
          host.state === 'connected' &&
          host.lastHeartbeatAt !== null &&
          new Date(host.lastHeartbeatAt).getTime() > restartedAt
        );
      },
      90_000,
      'the old primary back',
    );
    const setAside = path.join(primaryDir, 'disks-set-aside', vmId);
    await eventually(
      async () =>
        (await exists(path.join(setAside, 'disks.json'))) && !(await exists(path.join(primaryDir, 'disks', vmId))),
      60_000,
      "the old primary's copy set aside",
    );

    // Removing the replication (no reverse will come) deletes the replica and the copy set aside.
    const removed = await c.blueAdmin.mutate<{ taskId: string }>('replication.remove', { vmId });
    const task = await eventually(taskDone(removed.taskId), 90_000, 'the replication removed');
    expect(task.steps.find((s) => s.key === 'primary')?.detail).toMatch(
      new RegExp(`The copy ${primary.name} kept for this replication was deleted`),
    );
    expect(await exists(setAside)).toBe(false);
    expect(await exists(path.join(stateDirs.get(replica.name) as string, 'replicas', relId))).toBe(false);
    // The VM itself runs on, on the former replica host, with its disks.
    const vm = await c.admin.query<{ hostId: string; state: string }>('vms.get', { id: vmId });
    expect(vm).toMatchObject({ hostId: replica.id, state: 'running' });
    expect(await exists(path.join(stateDirs.get(replica.name) as string, 'disks', vmId, 'disks.json'))).toBe(true);
  }, 500_000);
});
