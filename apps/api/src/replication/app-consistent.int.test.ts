import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectGuestTransactions, replayDiskSha256, transactionsWhole } from '../../../agent/src/disks/guest-writer';
import { GUEST_VSS_FILE } from '../../../agent/src/disks/vm-disks';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Application-consistent recovery points (issue 10) with two real agent
// processes: the primary's agent asks the simulated guest to quiesce for an
// application-consistent cycle (it finishes its transaction in progress and
// holds its writes while the snapshot is taken). The replica's files are read
// here, byte for byte: an application-consistent point never holds a
// half-written guest transaction; a standard (crash-consistent) point may, and
// its content says exactly as much as its write number. A guest whose VSS
// writer refuses gives a standard point that says why, and the next cycle asks
// again. Pattern failover picks the latest application-consistent point.

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
interface Point {
  id: string;
  kind: string;
  quiesce: { status: string; message: string } | null;
  checksums: { name: string; sha256: string }[];
}
interface Replication {
  relationship: { id: string; state: string; testVmId: string | null };
  points: Point[];
  cycles: { state: string; mode: string }[];
}
interface Task {
  state: string;
  errorCode: string | null;
  errorMessage: string | null;
}
interface AgentPoint {
  pointId: string;
  guestWriteSeq: number;
  appConsistent: boolean;
  disks: { name: string; sha256: string }[];
}
interface AgentRelationship {
  disks: { name: string; sizeBytes: number }[];
  points: AgentPoint[];
  tests: { testVmId: string; pointId: string }[];
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

async function enable(vmId: string, replicaClusterId: string) {
  const { taskId } = await c.blueAdmin.mutate<{ taskId: string }>('replication.enable', {
    vmId,
    target: { kind: 'cluster', clusterId: replicaClusterId },
    frequencySeconds: 30,
    additionalPoints: 4,
    appConsistentHours: 1,
  });
  await eventually(taskDone(taskId), 90_000, 'initial replication');
  return (await c.blueAdmin.query<Replication>('replication.get', { vmId })).relationship.id;
}

/**
 * Replication paused and no cycle running, so the replica's `current` disks are its newest point: that point
 * (the replica host's record, the API's view) and what its files hold, read here.
 */
async function newestPointContent(replicaHost: string, primaryHost: string, vmId: string, relId: string) {
  await c.blueAdmin.mutate('replication.pause', { vmId });
  await eventually(
    async () =>
      (await c.blueAdmin.query<Replication>('replication.get', { vmId })).cycles.every((cy) => cy.state !== 'running'),
    90_000,
    'no cycle running',
  );
  const relDir = path.join(stateDirs.get(replicaHost) as string, 'replicas', relId);
  const record = JSON.parse(await readFile(path.join(relDir, 'relationship.json'), 'utf8')) as AgentRelationship;
  const point = record.points.at(-1) as AgentPoint;
  const diskSet = JSON.parse(
    await readFile(path.join(stateDirs.get(primaryHost) as string, 'disks', vmId, 'disks.json'), 'utf8'),
  ) as { workingSetBytes: number };
  const shapes = record.disks.map((d) => ({ sizeBytes: d.sizeBytes, workingSetBytes: diskSet.workingSetBytes }));
  const content = await inspectGuestTransactions(
    shapes.map((shape, i) => ({ ...shape, file: path.join(relDir, 'current', `d${i}.img`) })),
  );
  // What was read is that point: its digests, and exactly the guest's writes 1..seq replayed from nothing.
  expect(content.digests).toEqual(point.disks.map((d) => d.sha256));
  expect(content.digests).toEqual(replayDiskSha256(vmId, point.guestWriteSeq, shapes));
  const view = (await c.blueAdmin.query<Replication>('replication.get', { vmId })).points.find(
    (p) => p.id === point.pointId,
  );
  expect(view).toBeDefined();
  return { point, view: view as Point, content };
}

async function resume(vmId: string) {
  await c.blueAdmin.mutate('replication.resume', { vmId });
}

/** Waits for `count` more succeeded cycles, then the live points, newest first (retention drops some). */
async function moreCycles(vmId: string, count: number): Promise<Point[]> {
  const done = (r: Replication) => r.cycles.filter((cy) => cy.state === 'succeeded').length;
  const before = done(await c.blueAdmin.query<Replication>('replication.get', { vmId }));
  const r = await eventually(
    async () => {
      const now = await c.blueAdmin.query<Replication>('replication.get', { vmId });
      return done(now) >= before + count ? now : null;
    },
    150_000,
    `${count} more cycle(s)`,
  );
  return r.points;
}

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  for (const [hostname, clusterName] of [
    ['acp-a-01', 'Production'],
    ['acp-b-01', 'Development'],
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
        const hosts = await Promise.all(['acp-a-01', 'acp-b-01'].map((n) => hostNamed(n).catch(() => null)));
        return hosts.every((h) => h?.state === 'connected');
      },
      150_000,
      'both hosts to register',
    );
    const [a, b] = await Promise.all([hostNamed('acp-a-01'), hostNamed('acp-b-01')]);
    for (const h of [a, b]) {
      await c.admin.mutate('replication.authorizations.create', {
        replicaClusterId: h.clusterId,
        storagePool: h.storagePools[0]?.name,
      });
    }
  } catch (error) {
    for (const a of agents) console.error(a.output().slice(-3000));
    throw error;
  }
}, 200_000);

afterAll(async () => {
  for (const a of agents) await a.kill('SIGTERM');
  await api?.close();
});

describe('application-consistent recovery points with a quiescing guest', () => {
  it('an application-consistent point holds whole guest transactions; a standard one may not, and says as much', async () => {
    const vm = await runningVm('acp-db-01');
    const [a, b] = await Promise.all([hostNamed('acp-a-01'), hostNamed('acp-b-01')]);
    const primary = vm.hostId === a.id ? a : b;
    const replica = primary === a ? b : a;
    const relId = await enable(vm.id, replica.clusterId);

    // The initial point is the first application-consistent one (every hour): the guest quiesced for it.
    const first = await newestPointContent(replica.name, primary.name, vm.id, relId);
    expect(first.point.appConsistent).toBe(true);
    expect(first.view).toMatchObject({ kind: 'app-consistent', quiesce: { status: 'quiesced' } });
    expect(first.point.guestWriteSeq).toBeGreaterThan(0);
    expect(transactionsWhole(first.point.guestWriteSeq)).toBe(true);
    // Read from the replica's bytes: the newest write in the point closes its transaction.
    expect(first.content).toMatchObject({ lastSeq: first.point.guestWriteSeq, whole: true });

    // Within the hour, cycles are standard (crash-consistent): taken between two guest writes, wherever they fall.
    await resume(vm.id);
    const live = await moreCycles(vm.id, 2);
    expect(live[0]).toMatchObject({ kind: 'standard', quiesce: null });
    // Retention keeps the hour's application-consistent point beside the latest; the standard ones between go.
    expect(live.map((p) => p.id)).toEqual([live[0]?.id, first.point.pointId]);
    const standard = await newestPointContent(replica.name, primary.name, vm.id, relId);
    expect(standard.view).toMatchObject({ kind: 'standard', quiesce: null });
    expect(standard.content.lastSeq).toBe(standard.point.guestWriteSeq);
    // The content tells a half-written transaction exactly when the write number falls inside one.
    expect(standard.content.whole).toBe(transactionsWhole(standard.point.guestWriteSeq));
    console.log(
      `standard point at write ${standard.point.guestWriteSeq}: ${
        standard.content.whole
          ? 'ends on a transaction boundary'
          : `transaction ${standard.content.lastTx} half-written (${standard.content.writesOfLastTx} of 4 writes)`
      }`,
    );
    await resume(vm.id);
  }, 500_000);

  it('a guest whose VSS writer refuses gives standard points that say why, asked again each cycle until it quiesces', async () => {
    const vm = await runningVm('acp-legacy-01');
    const [a, b] = await Promise.all([hostNamed('acp-a-01'), hostNamed('acp-b-01')]);
    const primary = vm.hostId === a.id ? a : b;
    const replica = primary === a ? b : a;
    const vss = path.join(stateDirs.get(primary.name) as string, 'disks', vm.id, GUEST_VSS_FILE);
    await writeFile(vss, 'refuse\n');
    const relId = await enable(vm.id, replica.clusterId);
    const first = (await c.blueAdmin.query<Replication>('replication.get', { vmId: vm.id })).points[0];
    expect(first).toMatchObject({ kind: 'standard', quiesce: { status: 'failed' } });
    expect(first?.quiesce?.message).toMatch(/refused/);
    // The next cycle asks again (the hour's application-consistent point is still owed).
    const [second] = await moreCycles(vm.id, 1);
    expect(second).toMatchObject({ kind: 'standard', quiesce: { status: 'failed' } });
    // The writer works again: the next cycle's point is application-consistent.
    await rm(vss);
    const [third] = await moreCycles(vm.id, 1);
    expect(third).toMatchObject({ kind: 'app-consistent', quiesce: { status: 'quiesced' } });
    const held = await newestPointContent(replica.name, primary.name, vm.id, relId);
    if (held.point.pointId === third?.id) expect(held.content).toMatchObject({ whole: true });
    await resume(vm.id);
  }, 500_000);

  it('a pattern test failover chosen from the latest application-consistent point starts the test VM from it', async () => {
    const list = await c.blueAdmin.query<{ vmId: string; vmName: string }[]>('replication.list');
    const vmId = list.find((r) => r.vmName === 'acp-db-01')?.vmId as string;
    const [a, b] = await Promise.all([hostNamed('acp-a-01'), hostNamed('acp-b-01')]);
    const vm = await c.admin.query<{ hostId: string }>('vms.get', { id: vmId });
    const replica = vm.hostId === a.id ? b : a;
    const rel = await eventually(
      async () => {
        const r = await c.blueAdmin.query<Replication>('replication.get', { vmId });
        return r.relationship.state === 'replicating' ? r : null;
      },
      60_000,
      'replicating',
    );
    const app = rel.points.find((p) => p.kind === 'app-consistent');
    expect(app).toBeDefined();
    const input = { pattern: 'ACP-db-*', kind: 'test', point: { choice: 'latest-app-consistent' } };
    const preview = await c.blueUser.query<{ items: { name: string; ok: boolean; detail: string | null }[] }>(
      'replication.previewFailoverByPattern',
      input,
    );
    expect(preview.items).toEqual([
      expect.objectContaining({
        name: 'acp-db-01',
        ok: true,
        detail: expect.stringMatching(/^From its latest application-consistent recovery point, /),
      }),
    ]);
    // A planned failover takes no point: a clear 400, nothing started.
    const planned = await c.blueUser.call('replication.failoverByPattern', 'mutation', { ...input, kind: 'planned' });
    expect(planned).toMatchObject({ ok: false, code: 'BAD_REQUEST' });

    const result = await c.blueUser.mutate<{ started: number; items: { taskId: string | null }[] }>(
      'replication.failoverByPattern',
      input,
    );
    expect(result.started).toBe(1);
    await eventually(taskDone(result.items[0]?.taskId as string), 90_000, 'the test VM');
    // The replica host made the test VM from exactly that point (its own record of the test).
    const record = JSON.parse(
      await readFile(
        path.join(stateDirs.get(replica.name) as string, 'replicas', rel.relationship.id, 'relationship.json'),
        'utf8',
      ),
    ) as AgentRelationship;
    expect(record.tests.map((t) => t.pointId)).toEqual([app?.id]);
    const stop = await c.blueUser.mutate<{ taskId: string }>('replication.stopTestFailover', { vmId });
    await eventually(taskDone(stop.taskId), 60_000, 'the test VM removed');
  }, 300_000);
});
