import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayDiskSha256 } from '../../../agent/src/disks/guest-writer';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Hyper-V Replica end to end (issue 10) with two real agent processes, one
// per cluster: enable (the broker picks the host of the other cluster),
// initial replication and a scheduled cycle with checksums, a test failover
// while cycles continue, then a planned failover: the primary shut down, the
// last changes shipped, checksums equal, the VM running on the former
// replica and the direction reversed.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const agents: AgentProcess[] = [];
const stateDirs = new Map<string, string>();

interface Host {
  id: string;
  name: string;
  clusterId: string;
  state: string;
  lastHeartbeatAt: string | Date | null;
  storagePools: { name: string }[];
}
interface Replication {
  relationship: {
    state: string;
    health: string;
    primaryClusterId: string;
    replicaClusterId: string;
    direction: number;
    lagSeconds: number | null;
  };
  points: { id: string; checksums: { name: string; sha256: string }[] }[];
  cycles: {
    seq: number;
    mode: string;
    state: string;
    bytesSent: number;
    checksums: { name: string; sha256: string }[];
  }[];
}
interface Task {
  state: string;
  errorCode: string | null;
  errorMessage: string | null;
  steps: { key: string; detail: string }[];
}

/** A host's copy of a relationship (the agent's replicas/<id>/relationship.json), found by VM. */
interface AgentRelationship {
  vmId: string;
  state: string;
  failedOverPointId: string | null;
  points: { pointId: string; guestWriteSeq: number; disks: { name: string; sha256: string }[] }[];
}
async function agentRelationship(hostname: string, vmId: string): Promise<AgentRelationship> {
  const dir = path.join(stateDirs.get(hostname) as string, 'replicas');
  for (const name of await readdir(dir)) {
    const rel = JSON.parse(await readFile(path.join(dir, name, 'relationship.json'), 'utf8')) as AgentRelationship;
    if (rel.vmId === vmId) return rel;
  }
  throw new Error(`${hostname} holds no replica of VM ${vmId}`);
}

async function exists(file: string): Promise<boolean> {
  return readdir(file).then(
    () => true,
    () => false,
  );
}

const taskDone = (id: string) => async () => {
  const t = await c.blueAdmin.query<Task>('tasks.get', { id });
  if (t.state === 'failed') throw new Error(`task failed: ${t.errorCode} ${t.errorMessage}`);
  return t.state === 'succeeded' ? t : null;
};

async function hostNamed(name: string): Promise<Host> {
  const list = await c.admin.query<{ rows: { id: string; name: string }[] }>('hosts.list', { search: name });
  const row = list.rows.find((h) => h.name === name);
  if (!row) throw new Error(`no host ${name}`);
  return c.admin.query<Host>('hosts.get', { id: row.id });
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  for (const [hostname, clusterName] of [
    ['rep-a-01', 'Production'],
    ['rep-b-01', 'Development'],
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
        const hosts = await Promise.all(['rep-a-01', 'rep-b-01'].map((n) => hostNamed(n).catch(() => null)));
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

describe('replication between two real agents', () => {
  it('enables, replicates with matching checksums, tests a failover, then fails over planned with equal checksums and reverses', async () => {
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'rep-web-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 1 }],
      startAfterCreate: true,
    });
    const vmId = created.vm.id;
    const running = await eventually(
      async () => {
        const vm = await c.admin.query<{ state: string; hostId: string | null; clusterId: string | null }>('vms.get', {
          id: vmId,
        });
        return vm.state === 'running' ? vm : null;
      },
      40_000,
      'the VM to run',
    );
    const [a, b] = await Promise.all([hostNamed('rep-a-01'), hostNamed('rep-b-01')]);
    const primary = running.hostId === a.id ? a : b;
    const replica = primary === a ? b : a;

    // Not authorized yet: a clear 4xx, nothing written.
    const refused = await c.blueAdmin.call('replication.enable', 'mutation', {
      vmId,
      target: { kind: 'cluster', clusterId: replica.clusterId },
      frequencySeconds: 30,
    });
    expect(refused).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    const ownCluster = await c.blueAdmin.call('replication.enable', 'mutation', {
      vmId,
      target: { kind: 'cluster', clusterId: primary.clusterId },
      frequencySeconds: 30,
    });
    expect(ownCluster).toMatchObject({ ok: false, code: 'BAD_REQUEST' });

    // The provider authorizes the other cluster (both directions: the planned failover reverses it).
    for (const [to, pool] of [
      [replica, replica.storagePools[0]?.name],
      [primary, primary.storagePools[0]?.name],
    ] as const) {
      await c.admin.mutate('replication.authorizations.create', { replicaClusterId: to.clusterId, storagePool: pool });
    }
    const targets = await c.blueAdmin.query<{ clusterId: string }[]>('replication.targets', { vmId });
    expect(targets.map((t) => t.clusterId)).toEqual([replica.clusterId]);

    const { taskId } = await c.blueAdmin.mutate<{ taskId: string }>('replication.enable', {
      vmId,
      target: { kind: 'cluster', clusterId: replica.clusterId },
      frequencySeconds: 30,
      additionalPoints: 2,
    });
    await eventually(taskDone(taskId), 60_000, 'initial replication');
    const first = await c.blueAdmin.query<Replication>('replication.get', { vmId });
    expect(first.relationship.state).toBe('replicating');
    expect(first.points).toHaveLength(1);
    expect(first.cycles[0]).toMatchObject({ mode: 'initial', state: 'succeeded' });
    expect(first.cycles[0]?.bytesSent).toBeGreaterThan(0);
    expect(first.points[0]?.checksums.length).toBeGreaterThan(0);

    // The scheduler runs the next cycle (30 s): a delta whose point carries the primary's checksums.
    const second = await eventually(
      async () => {
        const r = await c.blueAdmin.query<Replication>('replication.get', { vmId });
        return r.cycles.some((cy) => cy.mode === 'delta' && cy.state === 'succeeded') ? r : null;
      },
      60_000,
      'a scheduled delta cycle',
    );
    const delta = second.cycles.find((cy) => cy.mode === 'delta' && cy.state === 'succeeded');
    expect(delta?.checksums.length).toBeGreaterThan(0);

    // Test failover from the latest point: the replica's test VM has exactly the point's checksums. No point id:
    // the point read a moment ago may be gone already (the next cycle's retention drops it within the hour; a run
    // at load 20 got NOT_FOUND), so the API takes the latest when the request arrives.
    expect(second.points.length).toBeGreaterThan(0);
    const test = await c.blueUser.mutate<{ taskId: string }>('replication.testFailover', { vmId });
    const testTask = await eventually(taskDone(test.taskId), 60_000, 'the test VM');
    expect(testTask.steps.find((st) => st.key === 'start')?.detail).toMatch(/equal the recovery point/);
    const again = await c.blueUser.call('replication.testFailover', 'mutation', { vmId });
    expect(again).toMatchObject({ ok: false, code: 'CONFLICT' });
    const stop = await c.blueUser.mutate<{ taskId: string }>('replication.stopTestFailover', { vmId });
    await eventually(taskDone(stop.taskId), 60_000, 'the test VM removed');

    // Planned failover: no data lost (checksums equal), the VM runs on the former replica, direction reversed.
    const planned = await c.blueAdmin.mutate<{ taskId: string }>('replication.plannedFailover', { vmId });
    const plannedTask = await eventually(taskDone(planned.taskId), 120_000, 'the planned failover');
    expect(plannedTask.steps.find((s) => s.key === 'start')?.detail).toMatch(/Checksums equal/);
    const after = await c.admin.query<{ hostId: string | null; state: string }>('vms.get', { id: vmId });
    expect(after.hostId).toBe(replica.id);
    const reversed = await c.admin.query<Replication>('replication.get', { vmId });
    expect(reversed.relationship.direction).toBe(2);
    expect(reversed.relationship.primaryClusterId).toBe(replica.clusterId);
    expect(reversed.relationship.replicaClusterId).toBe(primary.clusterId);
    // The reversed direction's first cycle resyncs from the new primary.
    let seen: Replication | null = null;
    await eventually(
      async () => {
        seen = await c.admin.query<Replication>('replication.get', { vmId });
        return seen.cycles.some((cy) => cy.mode === 'resync' && cy.state === 'succeeded') ? seen : null;
      },
      60_000,
      'the reversed resync',
    ).catch((error: unknown) => {
      // Say what the cycles did, not only that the wait ended.
      throw new Error(`${String(error)}; relationship and cycles: ${JSON.stringify(seen)}`);
    });
  }, 400_000);
  it('unplanned failover: the primary agent killed, the replica started from the latest point, then completed', async () => {
    const list = await c.blueAdmin.query<{ vmId: string; vmName: string }[]>('replication.list');
    const vmId = list.find((r) => r.vmName === 'rep-web-01')?.vmId as string;
    const before = await c.admin.query<{ hostId: string | null }>('vms.get', { id: vmId });
    const [a, b] = await Promise.all([hostNamed('rep-a-01'), hostNamed('rep-b-01')]);
    const primary = before.hostId === a.id ? a : b;
    const replica = primary === a ? b : a;
    // A point in this direction first.
    await eventually(
      async () => {
        const r = await c.admin.query<Replication>('replication.get', { vmId });
        return r.relationship.state === 'replicating' && r.points.length > 0 ? r : null;
      },
      90_000,
      'a recovery point in the reversed direction',
    );
    const index = primary.name === 'rep-a-01' ? 0 : 1;
    await agents[index]?.kill('SIGKILL');
    const latest = (await c.admin.query<Replication>('replication.get', { vmId })).points[0];
    const failover = await c.blueAdmin.mutate<{ taskId: string }>('replication.failover', {
      vmId,
      pointId: latest?.id,
    });
    const twice = await c.blueAdmin.call('replication.failover', 'mutation', { vmId });
    expect(twice).toMatchObject({ ok: false, code: 'CONFLICT' });
    await eventually(taskDone(failover.taskId), 90_000, 'the unplanned failover');
    const moved = await c.admin.query<{ hostId: string | null }>('vms.get', { id: vmId });
    expect(moved.hostId).toBe(replica.id);
    expect((await c.admin.query<Replication>('replication.get', { vmId })).relationship.state).toBe('failover-pending');
    const complete = await c.blueAdmin.mutate<{ taskId: string }>('replication.completeFailover', { vmId });
    await eventually(taskDone(complete.taskId), 60_000, 'the failover completed');
    expect((await c.admin.query<Replication>('replication.get', { vmId })).relationship.state).toBe('failed-over');
  }, 400_000);
  // The old primary returns while the VM runs on the former replica: its HA discard sets the replicated VM's disks
  // aside (they are not deleted while replica.accept seeds the reverse copy from them), and the resync proves by
  // checksums that the VM lost no byte of the point it failed over to.
  it('reverse replication when the old primary returns resyncs only the differences', async () => {
    const list = await c.blueAdmin.query<{ vmId: string; vmName: string }[]>('replication.list');
    const vmId = list.find((r) => r.vmName === 'rep-web-01')?.vmId as string;
    const now = await c.admin.query<{ hostId: string | null }>('vms.get', { id: vmId });
    const [a, b] = await Promise.all([hostNamed('rep-a-01'), hostNamed('rep-b-01')]);
    const primary = now.hostId === a.id ? b : a; // the old primary: not where the VM runs now
    const replica = primary === a ? b : a;
    const index = primary.name === 'rep-a-01' ? 0 : 1;
    // The old primary returns (same state dir, its credential on disk): reverse replication resyncs the differences.
    const hostname = primary.name;
    const restartedAt = Date.now();
    agents[index] = spawnAgent({
      api: api.url,
      hostname,
      stateDir: stateDirs.get(hostname) as string,
      profile: 'standard-2x16-512g',
      extraArgs: ['--sim-speed', '20', '--sample-seconds', '5'],
    });
    // Heard from since its restart: killed a moment ago, it may not even have turned suspect yet (a CI run read
    // "connected" at once, and the reverse then found it suspect).
    await eventually(
      async () => {
        const host = await hostNamed(hostname);
        return (
          host.state === 'connected' &&
          host.lastHeartbeatAt !== null &&
          new Date(host.lastHeartbeatAt).getTime() > restartedAt
        );
      },
      90_000,
      'the old primary back',
    );
    const reverse = await c.blueAdmin.mutate<{ taskId: string }>('replication.reverse', { vmId });
    await eventually(taskDone(reverse.taskId), 120_000, 'reverse replication');
    const back = await c.admin.query<Replication>('replication.get', { vmId });
    expect(back.relationship.state).toBe('replicating');
    expect(back.relationship.primaryClusterId).toBe(replica.clusterId);
    const resync = back.cycles.find((cy) => cy.mode === 'resync');
    expect(resync?.state).toBe('succeeded');

    // No byte lost: every point the old primary keeps now is exactly the guest's writes 1..seq (replayed here, not
    // read from a disk), from the resync on, and seq is past the point the VM failed over to.
    const failedOver = await agentRelationship(replica.name, vmId);
    const from = failedOver.points.find((p) => p.pointId === failedOver.failedOverPointId);
    expect(from).toBeDefined();
    const kept = await agentRelationship(hostname, vmId);
    expect(kept.state).toBe('replicating');
    expect(kept.points.length).toBeGreaterThan(0);
    const diskSet = JSON.parse(
      await readFile(path.join(stateDirs.get(replica.name) as string, 'disks', vmId, 'disks.json'), 'utf8'),
    ) as { workingSetBytes: number; disks: { sizeBytes: number }[] };
    const shapes = diskSet.disks.map((d) => ({ sizeBytes: d.sizeBytes, workingSetBytes: diskSet.workingSetBytes }));
    for (const point of kept.points) {
      expect(point.guestWriteSeq).toBeGreaterThanOrEqual(from?.guestWriteSeq ?? Number.POSITIVE_INFINITY);
      expect(point.disks.map((d) => d.sha256)).toEqual(replayDiskSha256(vmId, point.guestWriteSeq, shapes));
    }
    expect(resync?.checksums.length).toBe(shapes.length);
    // The old primary's copy of the VM is discarded (its files served as the seed, then went).
    const oldDisks = path.join(stateDirs.get(hostname) as string, 'disks', vmId);
    await eventually(async () => !(await exists(oldDisks)), 30_000, "the old primary's VM discarded");
    expect(await exists(path.join(stateDirs.get(hostname) as string, 'disks-set-aside', vmId))).toBe(false);
  }, 400_000);
});
