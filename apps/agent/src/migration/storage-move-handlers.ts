/**
 * The host side of live storage migration (issue 12; the whitepaper's "Move
 * virtual machine storage with no downtime"; the kinds and their params are in
 * packages/core/src/tasks/storage-move-task-protocol.schema.ts). A running
 * VM's disks move to another pool of the same host while its guest writes:
 *
 *   copy     each disk mirrored to its file in the destination pool's folder
 *            (pool-folders.ts): what is there is copied block by block through
 *            the disk's own chain while the guest goes on writing, and every
 *            write from the mirror's start goes to both files (SimDisk.startMirror);
 *   sync     between two guest writes, each destination's digest is compared
 *            with its source's: equal means synchronized;
 *   switch   between two guest writes: the destination's allocation table and
 *            `disks.json` name the new files first, then each disk continues on
 *            its destination (SimDisk.stopMirror(true), which deletes the
 *            source file) — the point of no return; the VM's record names the pool;
 *   cleanup  no file of the VM's disks is left anywhere but where they are now;
 *   abort    before the switch: mirrors stopped, the destination files deleted;
 *            the VM never left its source files.
 *
 * The mirror lives in this process between copy and switch: an agent that
 * restarts in between has none, and sync / switch fail with MIRROR_LOST (the
 * control plane then aborts: the VM stays on its source disks).
 */
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HostInventory } from '@fabric/core/fabric/inventory.schema';
import {
  type StorageMoveParams,
  type StorageMoveResult,
  storageMoveParamsSchema,
} from '@fabric/core/tasks/storage-move-task-protocol.schema';
import type { AgentTask } from '@fabric/core/tasks/task-protocol.schema';
import { BLOCK_BYTES, blockLength, DiskDigest, sha256Hex } from '../disks/blocks';
import type { SimDisk } from '../disks/sim-disk';
import type { SimDisks, VmDiskSet } from '../disks/vm-disks';
import { writeFileAtomic } from '../state-store';
import { parseParams, TaskError, type TaskHandlers } from '../task-handlers';
import { poolVmDir } from './pool-folders';

export interface StorageMoveDeps {
  disks: SimDisks;
  /** The host's pools now (the simulated driver's inventory). */
  inventory: () => Promise<HostInventory>;
  /** Records the disks' new pool on the VM (SimulatedDriver.setDiskPool). */
  setDiskPool: (vmId: string, diskNames: readonly string[], pool: string) => Promise<void>;
}

interface ActiveMove {
  moveId: string;
  vmId: string;
  toPool: string;
  disks: { name: string; disk: SimDisk; target: string }[];
  synced: Promise<void>;
  /** The guest's write number when mirroring began. */
  seqAtStart: number;
}

const DISK_FILE = /^d\d+\.img(\.alloc|\.cbt)?$/;

export function registerStorageMoveHandlers(handlers: TaskHandlers, deps: StorageMoveDeps): void {
  /** Mirrors in progress, by move id (one per VM at a time). */
  const moves = new Map<string, ActiveMove>();

  const diskSet = async (task: AgentTask): Promise<VmDiskSet> => {
    const set = await deps.disks.get(task.vmId);
    if (!set) throw new TaskError('VM_NOT_FOUND', 'the VM has no disks on this host');
    return set;
  };
  const stateDirOf = (set: VmDiskSet) => path.dirname(path.dirname(set.dir));
  const targetsOf = (set: VmDiskSet, p: StorageMoveParams) =>
    p.disks.map((name) => {
      const disk = set.disk(name);
      if (!disk) throw new TaskError('DISK_NOT_FOUND', `the VM has no disk "${name}"`);
      return { name, disk, target: path.join(poolVmDir(set.dir, p.toPool), path.basename(disk.file)) };
    });
  const report = (set: VmDiskSet, disks: { name: string; disk: SimDisk }[], sha256s?: string[]) =>
    disks.map((d, i) => ({
      name: d.name,
      file: path.relative(stateDirOf(set), d.disk.file),
      blocks: d.disk.allocatedBlocks().length,
      ...(sha256s?.[i] ? { sha256: sha256s[i] } : {}),
    }));
  const activeFor = (p: StorageMoveParams): ActiveMove => {
    const move = moves.get(p.moveId);
    if (!move) {
      throw new TaskError(
        'MIRROR_LOST',
        'no mirror of this move runs here (the agent restarted since the copy): the disks stay on the source',
      );
    }
    return move;
  };

  handlers.register('storage.copy', async (task, context) => {
    const p = parseParams(task, storageMoveParamsSchema);
    const set = await diskSet(task);
    const pools = (await deps.inventory()).storagePools;
    if (!pools.some((pool) => pool.name === p.toPool)) {
      const known = pools.map((pool) => pool.name).join(', ');
      throw new TaskError(
        'POOL_NOT_FOUND',
        `storage pool "${p.toPool}" does not exist on this host (it has: ${known})`,
      );
    }
    const targets = targetsOf(set, p);
    if (targets.every((t) => t.disk.file === t.target)) {
      throw new TaskError('ALREADY_THERE', `the disks are in ${p.toPool} already`);
    }
    let move = moves.get(p.moveId);
    if (!move) {
      const other = [...moves.values()].find((m) => m.vmId === task.vmId);
      if (other) throw new TaskError('MOVE_IN_PROGRESS', `another storage move of this VM runs (${other.moveId})`);
      const seqAtStart = set.guestWriteSeq;
      const started: ActiveMove['disks'] = [];
      const synced: Promise<void>[] = [];
      try {
        for (const t of targets) {
          const mirror = await t.disk.startMirror(t.target);
          started.push(t);
          synced.push(mirror.synced);
        }
      } catch (error) {
        await undo(started, set, p.toPool);
        throw new TaskError('COPY_FAILED', `cannot copy to ${p.toPool}: ${describe(error)}`);
      }
      let done = 0;
      const all = Promise.all(
        synced.map((s) =>
          s.then(() => {
            done += 1;
            context.onProgress(Math.round((done / synced.length) * 100), `${done} of ${synced.length} disks copied`);
          }),
        ),
      ).then(() => undefined);
      all.catch(() => undefined);
      move = { moveId: p.moveId, vmId: task.vmId, toPool: p.toPool, disks: started, synced: all, seqAtStart };
      moves.set(p.moveId, move);
    }
    try {
      await move.synced;
    } catch (error) {
      moves.delete(p.moveId);
      await undo(move.disks, set, p.toPool);
      throw new TaskError('COPY_FAILED', `the copy to ${p.toPool} failed: ${describe(error)}`);
    }
    const result: StorageMoveResult = {
      disks: report(set, move.disks),
      guestWriteSeqAtStart: move.seqAtStart,
      guestWriteSeq: set.guestWriteSeq,
      copiedBytes: move.disks.reduce((sum, d) => sum + d.disk.allocatedBlocks().length * BLOCK_BYTES, 0),
    };
    return {
      status: 'succeeded',
      vmState: null,
      message: `${move.disks.length} disks copied to ${p.toPool}; writes now go to both`,
      result: { ...result },
    };
  });

  handlers.register('storage.sync', async (task) => {
    const p = parseParams(task, storageMoveParamsSchema);
    const set = await diskSet(task);
    const move = activeFor(p);
    await move.synced;
    // Between two guest writes: the source and the destination hold the same content.
    const checked = await set.freeze(async (seq) => {
      const sha256s: string[] = [];
      for (const d of move.disks) {
        const source = await d.disk.sha256();
        const target = await fileDigest(d.target, d.disk);
        if (source !== target) {
          throw new TaskError('NOT_SYNCHRONIZED', `${d.name}: the destination differs from the source`);
        }
        sha256s.push(source);
      }
      return { seq, sha256s };
    });
    const result: StorageMoveResult = { disks: report(set, move.disks, checked.sha256s), guestWriteSeq: checked.seq };
    return {
      status: 'succeeded',
      vmState: null,
      message: `Synchronized at guest write ${checked.seq}`,
      result: { ...result },
    };
  });

  handlers.register('storage.switch', async (task) => {
    const p = parseParams(task, storageMoveParamsSchema);
    const set = await diskSet(task);
    const move = moves.get(p.moveId);
    const targets = targetsOf(set, p);
    if (!move) {
      // Run again after a restart that followed the switch: done already.
      if (targets.every((t) => t.disk.file === t.target)) {
        await deps.setDiskPool(task.vmId, p.disks, p.toPool);
        const result: StorageMoveResult = { disks: report(set, targets), guestWriteSeq: set.guestWriteSeq };
        return { status: 'succeeded', vmState: null, message: `On ${p.toPool} already`, result: { ...result } };
      }
      activeFor(p);
    }
    const active = move as ActiveMove;
    await active.synced;
    const sources = active.disks.map((d) => d.disk.file);
    const seq = await set.freeze(async (at) => {
      // disks.json names the destination files before any source file goes, with their allocation
      // tables current: a crash from here on restarts on the destination (change tracking then lost,
      // so replication resyncs), never on a deleted source.
      for (const d of active.disks) await writeIndexFile(`${d.target}.alloc`, d.disk.allocatedBlocks());
      await relocate(set, active.disks);
      for (const d of active.disks) await d.disk.stopMirror(true);
      return at;
    });
    moves.delete(p.moveId);
    await deps.setDiskPool(task.vmId, p.disks, p.toPool);
    const stateDir = stateDirOf(set);
    const result: StorageMoveResult = {
      disks: report(set, active.disks),
      guestWriteSeq: seq,
      removed: sources.map((file) => path.relative(stateDir, file)),
    };
    return {
      status: 'succeeded',
      vmState: null,
      message: `Running on ${p.toPool} since guest write ${seq}; the source files deleted`,
      result: { ...result },
    };
  });

  handlers.register('storage.cleanup', async (task) => {
    const p = parseParams(task, storageMoveParamsSchema);
    const set = await diskSet(task);
    const current = new Set(set.disks.map((d) => d.file));
    const stateDir = stateDirOf(set);
    const removed: string[] = [];
    // The VM's folder and its folder in every pool: any disk file that is not a current one is a source left.
    const folders = [set.dir, ...(await poolFolders(stateDir, task.vmId))];
    for (const folder of folders) {
      for (const name of await listOrEmpty(folder)) {
        const file = path.join(folder, name);
        if (!DISK_FILE.test(name) || current.has(file.replace(/\.(alloc|cbt)$/, ''))) continue;
        await rm(file, { force: true });
        removed.push(path.relative(stateDir, file));
      }
      if (folder !== set.dir && (await listOrEmpty(folder)).length === 0)
        await rm(folder, { recursive: true, force: true });
    }
    for (const d of set.disks) await stat(d.file); // the current files are there
    const result: StorageMoveResult = {
      disks: report(set, targetsOf(set, p)),
      guestWriteSeq: set.guestWriteSeq,
      removed,
    };
    return {
      status: 'succeeded',
      vmState: null,
      message: removed.length ? `${removed.length} source files deleted` : 'No source file left',
      result: { ...result },
    };
  });

  handlers.register('storage.abort', async (task) => {
    const p = parseParams(task, storageMoveParamsSchema);
    const set = await deps.disks.get(task.vmId);
    const move = moves.get(p.moveId);
    moves.delete(p.moveId);
    if (set) await undo(move?.disks ?? [], set, p.toPool);
    return {
      status: 'succeeded',
      vmState: null,
      message: 'Destination files deleted; the disks stay where they were',
      result: {},
    };
  });
}

/** Stops the mirrors (the destination dropped) and deletes whatever of the move is in the destination folder. */
async function undo(started: { disk: SimDisk }[], set: VmDiskSet, toPool: string): Promise<void> {
  for (const d of started) await d.disk.stopMirror(false).catch(() => undefined);
  const folder = poolVmDir(set.dir, toPool);
  const current = new Set(set.disks.map((d) => d.file));
  // Never a file the VM runs on (a disk of the VM that lives in that pool already).
  if ([...current].some((file) => path.dirname(file) === folder)) {
    for (const name of await listOrEmpty(folder)) {
      const file = path.join(folder, name);
      if (DISK_FILE.test(name) && !current.has(file.replace(/\.(alloc|cbt)$/, ''))) await rm(file, { force: true });
    }
    return;
  }
  await rm(folder, { recursive: true, force: true });
}

/** disks.json with the moved disks' files named relative to the VM's folder. */
async function relocate(set: VmDiskSet, moved: { name: string; target: string }[]): Promise<void> {
  const file = path.join(set.dir, 'disks.json');
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { disks: { name: string; file: string }[] };
  for (const disk of parsed.disks) {
    const to = moved.find((m) => m.name === disk.name);
    if (to) disk.file = path.relative(set.dir, to.target);
  }
  await writeFileAtomic(file, `${JSON.stringify(parsed, null, 2)}\n`);
}

async function writeIndexFile(file: string, indices: readonly number[]): Promise<void> {
  await writeFileAtomic(file, indices.map((i) => `${i}\n`).join(''));
}

/** The digest (blocks.ts DiskDigest) of the destination file, over the source's written blocks. */
async function fileDigest(file: string, like: SimDisk): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const digest = new DiskDigest(like.sizeBytes);
    for (const index of like.allocatedBlocks()) {
      const length = blockLength(index, like.sizeBytes);
      const buffer = Buffer.alloc(length);
      await fh.read(buffer, 0, length, index * BLOCK_BYTES);
      digest.addHash(index, sha256Hex(buffer), length);
    }
    return digest.digest();
  } finally {
    await fh.close();
  }
}

async function poolFolders(stateDir: string, vmId: string): Promise<string[]> {
  const pools = path.join(stateDir, 'pools');
  return (await listOrEmpty(pools)).map((name) => path.join(pools, name, vmId));
}

async function listOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
