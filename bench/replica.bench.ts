// `npm run bench -- replica`: Hyper-V Replica figures. Prints, never asserts.
//
// Data path (agent side, `disks`):
//   1. agent-to-agent replication throughput: an initial cycle of one VM (its working set
//      full of random blocks) from the primary's cycle code to a REAL replica agent process
//      (its peer listener, replica storage, checksum check), beside a plain HTTP copy of the
//      same bytes (same 4 MiB batches, same loopback, 2 in flight, to a child process that
//      appends them to a file) in the same run. No compression (random data does not compress).
//   2. peak RSS of one primary agent PROCESS replicating 40 running VMs (initial cycle of
//      each, then delta rounds) to a replica agent process: /proc/<pid>/status VmHWM.
//
// Control plane (`replica` engineer): the health pass over 100,000 relationships and cycle
// reports/s live in bench/lib/replica-control-plane.ts and run after these sections.
//
// Flags: --mib 256 (working set of section 1) --vms 40 --rounds 3 --skip-control-plane
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BLOCK_BYTES } from '../apps/agent/src/disks/blocks';
import { SimDisks } from '../apps/agent/src/disks/vm-disks';
import { BATCH_BYTES, runReplicaCycle } from '../apps/agent/src/replica/replica-cycle';
import { FakeAgentApi, waitFor } from '../apps/agent/src/testing/fake-agent-api';
import { GIB, vmDisk, vmSpec } from '../apps/agent/src/testing/vm-fixtures';
import type { TaskKind, TaskReport } from '../packages/core/src/tasks/task-protocol.schema';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const MIB = 1024 * 1024;
const WORKING_SET_MIB = Number(flag('mib', '256'));
const VMS = Number(flag('vms', '40'));
const ROUNDS = Number(flag('rounds', '3'));
const MAIN = path.join(import.meta.dirname, '../apps/agent/src/main.ts');

const dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-bench-replica-'));
const api = new FakeAgentApi();
await api.start();
const children: ChildProcess[] = [];

function spawnAgent(name: string, env: Record<string, string>): ChildProcess {
  const args = ['--api', api.url, '--profile', 'small-1x8-64g', '--hostname', name, '--token', api.issueToken()];
  args.push('--state-dir', path.join(dir, name), '--heartbeat-ms', '1000', '--sim-speed', '50');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return child;
}

function hostNamed(name: string) {
  const host = [...api.hosts.values()].find((h) => h.inventory.hostname === name);
  if (!host) throw new Error(`no host ${name}`);
  return host;
}

async function run(
  hostId: string,
  kind: TaskKind,
  vmId: string,
  params: Record<string, unknown> | null,
  spec = null as ReturnType<typeof vmSpec> | null,
): Promise<TaskReport> {
  const taskId = api.enqueueTask(hostId, kind, vmId, spec, params);
  await waitFor(() => api.mustGetTask(taskId).final !== null, `${kind}`, 600_000);
  const final = api.mustGetTask(taskId).final as TaskReport;
  if (final.status !== 'succeeded') throw new Error(`${kind} failed: ${JSON.stringify(final)}`);
  return final;
}

async function vmHwmMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const mibps = (bytes: number, ms: number) => (bytes / MIB / (ms / 1000)).toFixed(1);

try {
  // ---- 1. throughput -------------------------------------------------------------------
  spawnAgent('bench-replica', { FABRIC_SIM_DISK_WRITES_PER_SECOND: '0' });
  await waitFor(() => api.hosts.size === 1, 'the replica agent to register', 30_000);
  const replica = hostNamed('bench-replica');
  const peerUrl = replica.inventory.peerUrl as string;

  const vmId = randomUUID();
  const disks = new SimDisks({
    stateDir: path.join(dir, 'primary-inproc'),
    workingSetBytes: WORKING_SET_MIB * MIB,
    writesPerSecond: () => 0,
  });
  const set = await disks.create(vmId, [{ name: 'os.vhdx', sizeBytes: 40 * GIB }]);
  const disk = set.disks[0];
  if (!disk) throw new Error('no disk');
  const blocks = (WORKING_SET_MIB * MIB) / BLOCK_BYTES;
  for (let i = 0; i < blocks; i += 1) await disk.writeBlock(i, randomBytes(BLOCK_BYTES));
  const relationshipId = randomUUID();
  const credential = randomBytes(24).toString('hex');
  await run(replica.hostId, 'replica.accept', vmId, {
    relationshipId,
    vmId,
    credential,
    primaryHostId: randomUUID(),
    disks: [{ name: 'os.vhdx', sizeBytes: 40 * GIB }],
  });

  // Plain HTTP copy of the same bytes: a child process appending PUT bodies to a file.
  const sink = spawn(
    process.execPath,
    [
      '-e',
      `const fs=require('fs');const f=fs.openSync(process.argv[1],'w');require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d));q.on('end',()=>{fs.writeSync(f,Buffer.concat(c));s.end('{}')})}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`,
      path.join(dir, 'plain.bin'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(sink);
  const sinkPort = await new Promise<number>((resolve) =>
    sink.stdout?.once('data', (d) => resolve(Number(String(d).trim()))),
  );
  const plainCopy = async (): Promise<number> => {
    const fh = await open(disk.file, 'r');
    const t0 = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let at = 0; at < WORKING_SET_MIB * MIB; at += BATCH_BYTES) {
      const body = Buffer.alloc(Math.min(BATCH_BYTES, WORKING_SET_MIB * MIB - at));
      await fh.read(body, 0, body.length, at);
      const p: Promise<unknown> = fetch(`http://127.0.0.1:${sinkPort}/`, {
        method: 'PUT',
        body: body as unknown as BodyInit,
      })
        .then((r) => r.arrayBuffer())
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await fh.close();
    return performance.now() - t0;
  };

  const noop = { signal: new AbortController().signal, onProgress: () => undefined };
  const replicaRuns: number[] = [];
  const plainRuns: number[] = [];
  let bytes = 0;
  for (let round = 0; round < 3; round += 1) {
    plainRuns.push(await plainCopy());
    const tCycle = performance.now();
    const result = await runReplicaCycle(
      {
        relationshipId,
        pointId: randomUUID(),
        mode: 'initial',
        peerUrl,
        credential,
        compression: false,
        appConsistent: false,
        quiesceTimeoutMs: 10_000,
      },
      set,
      noop,
    );
    // Resync against a replica that holds the point already ships nothing: make every block differ again.
    if (result.blocksSent > 0) {
      // Wall time of the whole cycle, commit (the replica's checksum check) included.
      replicaRuns.push(performance.now() - tCycle);
      bytes = result.bytesLogical;
    }
    for (let i = 0; i < blocks; i += 1) await disk.writeBlock(i, randomBytes(BLOCK_BYTES));
  }
  const best = (xs: number[]) => Math.min(...xs);
  console.log(
    `1. throughput, ${WORKING_SET_MIB} MiB of random 64 KiB blocks, loopback, no compression (best of ${replicaRuns.length}):`,
  );
  console.log(
    `   agent-to-agent cycle (snapshot, frames, replica applies + undo + sha256 check): ${mibps(bytes, best(replicaRuns))} MiB/s (${best(replicaRuns).toFixed(0)} ms)`,
  );
  console.log(
    `   plain HTTP copy of the same bytes:                                            ${mibps(WORKING_SET_MIB * MIB, best(plainRuns))} MiB/s (${best(plainRuns).toFixed(0)} ms)`,
  );
  console.log(
    `   ratio: ${((WORKING_SET_MIB * MIB) / best(plainRuns) / (bytes / best(replicaRuns))).toFixed(2)}x slower -> ${(bytes / best(replicaRuns) / ((WORKING_SET_MIB * MIB) / best(plainRuns))).toFixed(2)}x of plain (target >= 0.8x)`,
  );
  await disks.close();

  // ---- 2. peak RSS of one agent replicating VMS VMs ------------------------------------------
  const primaryChild = spawnAgent('bench-primary', {});
  await waitFor(() => api.hosts.size === 2, 'the primary agent to register', 30_000);
  const primary = hostNamed('bench-primary');
  const vms = Array.from({ length: VMS }, (_, i) =>
    vmSpec({
      name: `rep-${i}`,
      memory: { dynamic: false, startupMiB: 512, minimumMiB: 512, maximumMiB: 512, bufferPercent: 20, weight: 5000 },
      disks: [vmDisk({ sizeBytes: 40 * GIB, kind: 'dynamic' })],
    }),
  );
  const t0 = performance.now();
  await Promise.all(vms.map((spec) => run(primary.hostId, 'vm.create', spec.vmId, null, spec)));
  await Promise.all(vms.map((spec) => run(primary.hostId, 'vm.start', spec.vmId, null)));
  const rels = await Promise.all(
    vms.map(async (spec) => {
      const rel = { relationshipId: randomUUID(), credential: randomBytes(24).toString('hex'), vmId: spec.vmId };
      await run(replica.hostId, 'replica.accept', spec.vmId, {
        ...rel,
        primaryHostId: primary.hostId,
        disks: spec.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
      });
      return rel;
    }),
  );
  const baseline = await vmHwmMiB(primaryChild.pid as number);
  let sent = 0;
  let cycles = 0;
  const tc = performance.now();
  for (let round = 0; round <= ROUNDS; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const reports = await Promise.all(
      rels.map((rel) =>
        run(primary.hostId, 'replica.cycle', rel.vmId, {
          relationshipId: rel.relationshipId,
          pointId: randomUUID(),
          mode: round === 0 ? 'initial' : 'delta',
          peerUrl,
          credential: rel.credential,
          compression: true,
          appConsistent: false,
          quiesceTimeoutMs: 10_000,
        }),
      ),
    );
    for (const r of reports) if (r.status === 'succeeded') sent += Number(r.result?.bytesSent ?? 0);
    cycles += reports.length;
  }
  const cycleMs = performance.now() - tc;
  console.log(
    `2. one primary agent process, ${VMS} running VMs (guests writing), ${ROUNDS + 1} rounds (initial + deltas) to a replica agent:`,
  );
  console.log(
    `   setup ${((tc - t0) / 1000).toFixed(1)} s; ${cycles} cycles in ${(cycleMs / 1000).toFixed(1)} s (incl. 2 s pauses), ${(sent / MIB).toFixed(1)} MiB sent`,
  );
  console.log(
    `   primary agent peak RSS (VmHWM): ${await vmHwmMiB(primaryChild.pid as number)} MiB (before cycles ${baseline} MiB)`,
  );
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await api.stop();
  await rm(dir, { recursive: true, force: true });
}

// ---- control plane (replica engineer) -------------------------------------------------------
if (!process.argv.includes('--skip-control-plane')) {
  const controlPlane = await import('./lib/replica-control-plane');
  controlPlane.healthPass(Number(flag('relationships', '100000')));
  await controlPlane.cycleReports();
}
