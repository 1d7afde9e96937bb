import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReplicaCycleResult, ReplicaMaterializeResult } from '@fabric/core/tasks/replica-task-protocol.schema';
import type { TaskKind, TaskReport } from '@fabric/core/tasks/task-protocol.schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from '../disks/blocks';
import { guestWrite, replayDiskSha256 } from '../disks/guest-writer';
import { FakeAgentApi, waitFor } from '../testing/fake-agent-api';
import { GIB, vmDisk, vmSpec } from '../testing/vm-fixtures';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const MIB = 1024 * 1024;
/** Small working sets and a busy guest: every cycle has something to ship. */
const WORKING_SET_MIB = 16;
const ENV = { FABRIC_SIM_DISK_WORKING_SET_MIB: String(WORKING_SET_MIB), FABRIC_SIM_DISK_WRITES_PER_SECOND: '30' };

interface Agent {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Hyper-V Replica between TWO REAL AGENT PROCESSES: the fake API hands them
 * replica.* tasks, the primary ships blocks to the replica's peer listener.
 */
describe('replication between two agent processes', () => {
  let api: FakeAgentApi;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    api = new FakeAgentApi();
    await api.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-replica-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function spawnAgent(name: string, token: string | null): Agent {
    const args = ['--api', api.url, '--profile', 'small-1x8-64g', '--hostname', name];
    args.push('--state-dir', path.join(dir, name), '--heartbeat-ms', '100', '--sim-speed', '50');
    if (token) args.push('--token', token);
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...ENV },
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  function hostNamed(name: string) {
    const host = [...api.hosts.values()].find((h) => h.inventory.hostname === name);
    if (!host) throw new Error(`no host ${name}`);
    return host;
  }

  async function run(
    agents: Agent[],
    hostId: string,
    kind: TaskKind,
    vmId: string,
    params: Record<string, unknown> | null,
    spec = null as ReturnType<typeof vmSpec> | null,
  ): Promise<TaskReport> {
    const taskId = api.enqueueTask(hostId, kind, vmId, spec, params);
    await waitFor(() => api.mustGetTask(taskId).final !== null, `${kind} to finish`, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; agents said:\n${agents.map((a) => a.output()).join('\n---\n')}`);
    });
    return api.mustGetTask(taskId).final as TaskReport;
  }

  function resultOf<T>(report: TaskReport): T {
    if (report.status !== 'succeeded') throw new Error(`task failed: ${JSON.stringify(report)}`);
    return report.result as T;
  }

  it('replicates, fails over losing exactly the writes after the point, and resyncs after a lost change log', async () => {
    let primary = spawnAgent('hv-primary', api.issueToken());
    const replica = spawnAgent('hv-replica', api.issueToken());
    const agents = () => [primary, replica];
    await waitFor(() => api.hosts.size === 2, 'both agents to register', 20_000);
    const a = hostNamed('hv-primary');
    const b = hostNamed('hv-replica');
    const peerUrl = b.inventory.peerUrl;
    expect(peerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const spec = vmSpec({
      name: 'db-01',
      disks: [vmDisk({ name: 'os.vhdx', sizeBytes: 40 * GIB }), vmDisk({ name: 'log.vhdx', sizeBytes: 1 * GIB })],
    });
    const shapes = spec.disks.map((d) => ({ sizeBytes: d.sizeBytes, workingSetBytes: WORKING_SET_MIB * MIB }));
    expect(await run(agents(), a.hostId, 'vm.create', spec.vmId, null, spec)).toMatchObject({ status: 'succeeded' });
    expect(await run(agents(), a.hostId, 'vm.start', spec.vmId, null)).toMatchObject({ vmState: 'running' });

    const relationshipId = randomUUID();
    const credential = randomBytes(24).toString('hex');
    const accept = await run(agents(), b.hostId, 'replica.accept', spec.vmId, {
      relationshipId,
      vmId: spec.vmId,
      credential,
      primaryHostId: a.hostId,
      disks: spec.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
    });
    expect(accept).toMatchObject({ status: 'succeeded', result: { relationshipId, points: [] } });

    const cycle = async (mode: string, extra: Record<string, unknown> = {}) =>
      run(agents(), a.hostId, 'replica.cycle', spec.vmId, {
        relationshipId,
        pointId: randomUUID(),
        mode,
        peerUrl,
        credential,
        compression: true,
        appConsistent: false,
        ...extra,
      });

    // Initial replication, then deltas: every point hashes to the primary's disks at its guestWriteSeq.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const points: ReplicaCycleResult[] = [];
    for (const mode of ['initial', 'delta', 'delta']) {
      const point = resultOf<ReplicaCycleResult>(await cycle(mode));
      expect(point.guestWriteSeq).toBeGreaterThan(points.at(-1)?.guestWriteSeq ?? 0);
      expect(point.disks.map((d) => d.sha256)).toEqual(replayDiskSha256(spec.vmId, point.guestWriteSeq, shapes));
      points.push(point);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const [initial, , last] = points as [ReplicaCycleResult, ReplicaCycleResult, ReplicaCycleResult];
    // A delta ships exactly the blocks the guest wrote since the point before, not the disk.
    /** Distinct blocks the guest's writes after..upTo touch. */
    const touched = (after: number, upTo: number) => {
      const blocks = new Set<string>();
      for (let seq = after + 1; seq <= upTo; seq += 1) {
        const write = guestWrite(spec.vmId, seq, shapes);
        blocks.add(`${write.disk}:${Math.floor(write.offset / BLOCK_BYTES)}`);
      }
      return blocks.size;
    };
    expect(initial.blocksSent).toBe(touched(0, initial.guestWriteSeq));
    for (const [i, point] of points.entries()) {
      if (i > 0) expect(point.blocksSent).toBe(touched(points[i - 1]?.guestWriteSeq ?? 0, point.guestWriteSeq));
    }
    expect(initial.bytesSent).toBeLessThan(initial.bytesLogical); // compressed
    // A cycle run again with the same point id answers the same point and sends nothing.
    const again = resultOf<ReplicaCycleResult>(await cycle('delta', { pointId: last.pointId }));
    expect(again).toEqual(last);
    // The wrong credential is refused by the replica's peer listener.
    expect(await cycle('delta', { credential: 'z'.repeat(48) })).toMatchObject({
      status: 'failed',
      code: 'REPLICA_REFUSED',
    });

    // A test failover of the first point: a running test VM holding exactly that point.
    const testVmId = randomUUID();
    const test = resultOf<ReplicaMaterializeResult>(
      await run(agents(), b.hostId, 'replica.test-failover', testVmId, {
        relationshipId,
        pointId: initial.pointId,
        testVmId,
        name: 'db-01-test',
      }),
    );
    expect(test).toMatchObject({ vmId: testVmId, vmState: 'running', guestWriteSeq: initial.guestWriteSeq });
    expect(test.disks).toEqual(initial.disks);
    expect(await run(agents(), b.hostId, 'replica.stop-test', testVmId, { relationshipId, testVmId })).toMatchObject({
      status: 'succeeded',
    });

    // The primary dies. Fail over to the newest point.
    primary.child.kill('SIGKILL');
    await primary.exited;
    const log = await readFile(path.join(dir, 'hv-primary', 'disks', spec.vmId, 'guest-writes.log'), 'utf8');
    const primarySeqs = log
      .trim()
      .split('\n')
      .map((line) => Number(line.split(' ')[0]));
    const primaryLastSeq = Math.max(...primarySeqs);
    const failover = resultOf<ReplicaMaterializeResult>(
      await run(agents(), b.hostId, 'replica.failover', spec.vmId, { relationshipId, pointId: last.pointId, spec }),
    );
    expect(failover).toMatchObject({ vmId: spec.vmId, vmState: 'running', guestWriteSeq: last.guestWriteSeq });
    // The failed-over disks hold writes 1..S and nothing after: the lost writes are exactly those after S.
    expect(failover.disks.map((d) => d.sha256)).toEqual(replayDiskSha256(spec.vmId, last.guestWriteSeq, shapes));
    const lost = primarySeqs.filter((seq) => seq > last.guestWriteSeq);
    expect(lost.length).toBe(primaryLastSeq - last.guestWriteSeq);
    expect(lost.length).toBeGreaterThan(0);

    // Back to replicating (revert), and the primary returns WITHOUT its change log.
    expect(await run(agents(), b.hostId, 'replica.revert', spec.vmId, { relationshipId })).toMatchObject({
      status: 'succeeded',
    });
    for (const file of ['d0.img.cbt', 'd1.img.cbt']) await rm(path.join(dir, 'hv-primary', 'disks', spec.vmId, file));
    primary = spawnAgent('hv-primary', null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refused = await cycle('delta');
    expect(refused).toMatchObject({ status: 'failed', code: 'CHANGE_TRACKING_LOST' });
    const resync = resultOf<ReplicaCycleResult>(await cycle('resync'));
    expect(resync.disks.map((d) => d.sha256)).toEqual(replayDiskSha256(spec.vmId, resync.guestWriteSeq, shapes));
    // Only the blocks that differ from the replica's newest point travel, not every block the disks hold.
    expect(resync.blocksSent).toBe(touched(last.guestWriteSeq, resync.guestWriteSeq));
    expect(resync.blocksSent).toBeLessThan(touched(0, resync.guestWriteSeq));
    const after = resultOf<ReplicaCycleResult>(await cycle('delta'));
    expect(after.disks.map((d) => d.sha256)).toEqual(replayDiskSha256(spec.vmId, after.guestWriteSeq, shapes));

    // Retention drops old points; the newest stays.
    const retain = await run(agents(), b.hostId, 'replica.retain', spec.vmId, {
      relationshipId,
      keepPointIds: [last.pointId],
    });
    expect(retain).toMatchObject({ status: 'succeeded' });
    const kept = (retain.status === 'succeeded' ? retain.result?.kept : []) as string[];
    expect(kept).toContain(after.pointId);
    expect(kept).toContain(last.pointId);
    expect(kept).not.toContain(initial.pointId);
    // The point kept across the merge still materializes exactly.
    const testVm2 = randomUUID();
    const test2 = resultOf<ReplicaMaterializeResult>(
      await run(agents(), b.hostId, 'replica.test-failover', testVm2, {
        relationshipId,
        pointId: last.pointId,
        testVmId: testVm2,
        name: 'db-01-test2',
      }),
    );
    expect(test2.disks.map((d) => d.sha256)).toEqual(replayDiskSha256(spec.vmId, last.guestWriteSeq, shapes));
  }, 120_000);
});
