import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { QuiesceReport } from '@fabric/core/tasks/replica-task-protocol.schema';
import { z } from 'zod';
import { writeFileAtomic } from '../state-store';
import { BLOCK_BYTES, blockLength, workingSetBytesFromEnv } from './blocks';
import { GUEST_TX_WRITES, type GuestDiskShape, GuestWriteLog, guestWrite } from './guest-writer';
import { readAllocationTable, SimDisk } from './sim-disk';

/**
 * The disks of the simulated host's VMs, under `<stateDir>/disks/<vmId>/`:
 * `disks.json` (names, sizes, working set), one sparse file per disk
 * (`d<i>.img`, with its `.alloc` and `.cbt`), and `guest-writes.log`. A
 * running VM's guest writes into its disks (see guest-writer.ts) at its rate.
 *
 * A replicated VM that this host no longer owns (the HA discard after a
 * failover moved it) keeps its disk files, set aside under
 * `<stateDir>/disks-set-aside/<vmId>/`: they seed the replica copy when this
 * host takes the reverse direction (`withSeed`), so its resync sends only the
 * blocks that differ. The set-aside copy goes once a replica copy was seeded
 * (from it or from the VM's own disks) or the VM's disks are made here again.
 */
const MAX_DISKS = 64;
const REPLICATION_FILE = 'replication.json';
/**
 * A simulation knob in the VM's folder: `refuse` or `hang` makes the guest's VSS writer fail or never answer
 * (a guest without working integration services), so tests can see the fallback to a standard point.
 */
export const GUEST_VSS_FILE = 'guest-vss';

const replicationFileSchema = z.object({ version: z.literal(1), relationshipId: z.string().min(1).max(64) });

const diskSetFileSchema = z.object({
  version: z.literal(1),
  workingSetBytes: z.number().int().min(1),
  disks: z
    .array(z.object({ name: z.string().min(1).max(255), file: z.string().min(1), sizeBytes: z.number().int().min(1) }))
    .max(MAX_DISKS),
});

/** One disk of a seed: its shape, its written blocks and their content, read through the seed's own file handle. */
export interface SeedDisk {
  readonly sizeBytes: number;
  readonly blocks: readonly number[];
  read(index: number): Promise<Buffer>;
}

/** A VM's disk files opened read-only by whoever seeds from them: no other path closes these handles. */
export interface DiskSeed {
  /** 'live': the VM's disks on this host; 'set-aside': the files kept when the VM was discarded here. */
  readonly source: 'live' | 'set-aside';
  readonly disks: readonly SeedDisk[];
}

export interface DiskDefinition {
  name: string;
  sizeBytes: number;
}

export interface SimDisksOptions {
  stateDir: string;
  /** Each disk's guest working set; default FABRIC_SIM_DISK_WORKING_SET_MIB (16 MiB). */
  workingSetBytes?: number;
  /** Guest writes per second of a VM while it runs. */
  writesPerSecond: (vmId: string) => number;
  /** How often the guest's due writes are done. Default 50 ms. */
  tickMs?: number;
}

export class SimDisks {
  private readonly sets = new Map<string, Promise<VmDiskSet>>();
  /** Per VM: set-aside, seed and discard run one at a time. */
  private readonly vmLocks = new Map<string, Promise<unknown>>();
  readonly workingSetBytes: number;

  constructor(private readonly options: SimDisksOptions) {
    this.workingSetBytes = options.workingSetBytes ?? workingSetBytesFromEnv();
  }

  vmDir(vmId: string): string {
    if (!/^[0-9a-zA-Z-]{1,64}$/.test(vmId)) throw new Error(`"${vmId}" is not a usable VM id`);
    return path.join(this.options.stateDir, 'disks', vmId);
  }

  /** Where a discarded replicated VM's disk files are kept (see the class comment). */
  setAsideDir(vmId: string): string {
    return path.join(this.options.stateDir, 'disks-set-aside', path.basename(this.vmDir(vmId)));
  }

  /** Creates the VM's disks as sparse files (idempotent: files that exist keep their content). */
  async create(vmId: string, disks: readonly DiskDefinition[]): Promise<VmDiskSet> {
    const existing = await this.get(vmId);
    if (existing) return existing;
    // The VM's disks are made here again: a copy set aside earlier is out of date.
    await this.dropSetAside(vmId);
    if (disks.length > MAX_DISKS) throw new Error(`a VM has at most ${MAX_DISKS} disks`);
    const dir = this.vmDir(vmId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = {
      version: 1 as const,
      workingSetBytes: this.workingSetBytes,
      disks: disks.map((d, i) => ({ name: d.name, file: `d${i}.img`, sizeBytes: d.sizeBytes })),
    };
    // The disk files first: disks.json is the mark that the set is complete.
    for (const disk of file.disks)
      await (await SimDisk.open({ file: path.join(dir, disk.file), sizeBytes: disk.sizeBytes })).close();
    await writeFileAtomic(path.join(dir, 'disks.json'), `${JSON.stringify(file, null, 2)}\n`);
    return (await this.get(vmId)) as VmDiskSet;
  }

  /** The VM's disks, opened once; null when it has none. */
  get(vmId: string): Promise<VmDiskSet | null> {
    const open = this.sets.get(vmId);
    if (open) return open;
    return this.openSet(vmId);
  }

  async has(vmId: string): Promise<boolean> {
    return (await this.get(vmId)) !== null;
  }

  /** Stops the guest, closes and deletes every file of the VM's disks (idempotent). */
  async remove(vmId: string): Promise<void> {
    await this.closeSet(vmId);
    await rm(this.vmDir(vmId), { recursive: true, force: true });
  }

  private async closeSet(vmId: string): Promise<void> {
    const set = await this.get(vmId);
    this.sets.delete(vmId);
    if (set) await set.close();
  }

  private exclusive<T>(vmId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.vmLocks.get(vmId) ?? Promise.resolve()).then(fn);
    const settled = run.catch(() => undefined);
    this.vmLocks.set(vmId, settled);
    void settled.then(() => {
      if (this.vmLocks.get(vmId) === settled) this.vmLocks.delete(vmId);
    });
    return run;
  }

  /** The relationship whose cycles shipped this VM's disks from this host (replica.cycle marks it), or null. */
  async replicationOf(vmId: string): Promise<string | null> {
    try {
      const raw = await readFile(path.join(this.vmDir(vmId), REPLICATION_FILE), 'utf8');
      return replicationFileSchema.parse(JSON.parse(raw)).relationshipId;
    } catch {
      return null;
    }
  }

  /**
   * The HA discard of a VM this host no longer owns, called with the VM off and before the driver
   * deletes it: a VM whose disks were replicated from here keeps its files, set aside, unless
   * `keep(relationshipId)` says no seed is needed (this host holds a replica copy already);
   * any other VM's disks are deleted.
   */
  discard(vmId: string, keep: (relationshipId: string) => boolean): Promise<'set-aside' | 'removed'> {
    return this.exclusive(vmId, async () => {
      const relationshipId = await this.replicationOf(vmId);
      if (relationshipId === null || !keep(relationshipId)) {
        await this.remove(vmId);
        return 'removed';
      }
      await this.closeSet(vmId);
      const to = this.setAsideDir(vmId);
      await rm(to, { recursive: true, force: true });
      await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
      await rename(this.vmDir(vmId), to);
      return 'set-aside';
    });
  }

  /**
   * Runs `fn` with the VM's disk files opened read-only for it (the VM's own disks when this host has
   * them, else the set-aside copy, else null), one at a time with `discard`. The handles are the
   * seed's own: a discard or a delete of the VM meanwhile cannot close them (a file deleted while
   * open is still read whole). When `fn` succeeds the set-aside copy has served and is deleted.
   */
  withSeed<T>(vmId: string, fn: (seed: DiskSeed | null) => Promise<T>): Promise<T> {
    return this.exclusive(vmId, async () => {
      const opened =
        (await openSeed(this.vmDir(vmId), 'live')) ?? (await openSeed(this.setAsideDir(vmId), 'set-aside'));
      let result: T;
      try {
        result = await fn(opened?.seed ?? null);
      } finally {
        await opened?.close();
      }
      await this.dropSetAside(vmId);
      return result;
    });
  }

  /**
   * Deletes the set-aside copy of the VM's disks when it was kept for `relationshipId` (replication removed:
   * no reverse direction will seed from it); true when there was one. One at a time with discard and seeding.
   */
  dropSetAsideOf(vmId: string, relationshipId: string): Promise<boolean> {
    return this.exclusive(vmId, async () => {
      const dir = this.setAsideDir(vmId);
      let kept: string | null = null;
      try {
        kept = replicationFileSchema.parse(
          JSON.parse(await readFile(path.join(dir, REPLICATION_FILE), 'utf8')),
        ).relationshipId;
      } catch {
        return false;
      }
      if (kept !== relationshipId) return false;
      await rm(dir, { recursive: true, force: true });
      return true;
    });
  }

  /** Deletes the set-aside copy of the VM's disks, if any. */
  async dropSetAside(vmId: string): Promise<void> {
    await rm(this.setAsideDir(vmId), { recursive: true, force: true });
  }

  /** The guest starts writing (the VM runs). */
  async startGuest(vmId: string): Promise<void> {
    const set = await this.get(vmId);
    set?.startGuest(this.options.writesPerSecond(vmId), this.options.tickMs ?? 50);
  }

  /** The guest stops writing (shut down, turned off, paused, saved); waits for the write in progress. */
  async stopGuest(vmId: string): Promise<void> {
    const set = await this.get(vmId);
    await set?.stopGuest();
  }

  async close(): Promise<void> {
    for (const [vmId, set] of this.sets) {
      this.sets.delete(vmId);
      await (await set.catch(() => null))?.close();
    }
  }

  private openSet(vmId: string): Promise<VmDiskSet | null> {
    const opening = (async () => {
      const dir = this.vmDir(vmId);
      let raw: string;
      try {
        raw = await readFile(path.join(dir, 'disks.json'), 'utf8');
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
        throw error;
      }
      const parsed = diskSetFileSchema.parse(JSON.parse(raw));
      const disks: SimDisk[] = [];
      for (const d of parsed.disks)
        disks.push(await SimDisk.open({ file: path.join(dir, d.file), sizeBytes: d.sizeBytes }));
      const log = new GuestWriteLog(path.join(dir, 'guest-writes.log'));
      const last = await log.last();
      const set = new VmDiskSet(
        vmId,
        dir,
        parsed.disks.map((d) => d.name),
        disks,
        parsed.workingSetBytes,
        log,
        last.seq,
      );
      // The log line goes first, then the disk write: an agent killed between the two left the log one
      // write ahead of the disk (a resync then shipped disks that were not writes 1..seq). Writes are a
      // function of (VM, seq), so the last one is written again: the same bytes at the same place.
      if (last.write) await set.redo(last.seq);
      return set;
    })();
    const cached = opening.then((set) => {
      if (set === null) this.sets.delete(vmId);
      return set;
    });
    this.sets.set(vmId, cached as Promise<VmDiskSet>);
    cached.catch(() => this.sets.delete(vmId));
    return cached;
  }
}

/** One VM's disks and its guest. */
export class VmDiskSet {
  private seq: number;
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private guestStartedAt = 0;
  private guestWritesDone = 0;
  private writing: Promise<void> | null = null;
  private closed = false;
  private replicatedAs: string | null = null;

  constructor(
    readonly vmId: string,
    readonly dir: string,
    readonly names: readonly string[],
    readonly disks: readonly SimDisk[],
    readonly workingSetBytes: number,
    private readonly log: GuestWriteLog,
    lastSeq: number,
  ) {
    this.seq = lastSeq;
  }

  /** The number of the last guest write (0: none yet). */
  get guestWriteSeq(): number {
    return this.seq;
  }

  get shapes(): GuestDiskShape[] {
    return this.disks.map((d) => ({ sizeBytes: d.sizeBytes, workingSetBytes: this.workingSetBytes }));
  }

  disk(name: string): SimDisk | undefined {
    const index = this.names.indexOf(name);
    return index < 0 ? undefined : this.disks[index];
  }

  get guestRunning(): boolean {
    return this.timer !== null;
  }

  /** Runs `fn` between two guest writes, with the seq of the last write before it (a consistent point). */
  freeze<T>(fn: (guestWriteSeq: number) => Promise<T>): Promise<T> {
    return this.locked(() => fn(this.seq));
  }

  /**
   * Runs `fn` with the guest quiesced, as Hyper-V asks a guest's VSS writers for an application-consistent
   * point: the guest finishes the transaction in progress (its remaining writes, flushed now), holds every
   * write while `fn` runs (the snapshot), then thaws. When the guest cannot quiesce (it is not running, its
   * writer refuses, or it does not answer within `timeoutMs`) `fn` runs as a crash-consistent freeze
   * instead, and the report says why, as Hyper-V falls back to a standard point.
   */
  async freezeConsistent<T>(
    timeoutMs: number,
    fn: (guestWriteSeq: number, quiesce: QuiesceReport) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const failed = (status: 'failed' | 'timed-out', message: string) =>
      this.freeze((seq) => fn(seq, { status, durationMs: Math.round(performance.now() - started), message }));
    if (!this.guestRunning) return failed('failed', 'the guest is not running, so no writer could quiesce it');
    const writer = await this.vssWriter();
    if (writer === 'refuse') return failed('failed', "the guest's VSS writer refused to quiesce");
    if (writer === 'hang') {
      // The writer never answers: Hyper-V waits out its timeout, then takes a standard point.
      await new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
      return failed('timed-out', `the guest did not quiesce within ${Math.round(timeoutMs / 1000)} s`);
    }
    return this.locked(async () => {
      const open = this.seq % GUEST_TX_WRITES;
      // The transaction in progress is finished at once (a writer flushes before it reports frozen); these
      // writes count toward the guest's rate, so it does not write them twice.
      if (open !== 0) {
        await this.writeUnlocked(GUEST_TX_WRITES - open);
        this.guestWritesDone += GUEST_TX_WRITES - open;
      }
      const report: QuiesceReport = {
        status: 'quiesced',
        durationMs: Math.round(performance.now() - started),
        message: `the guest quiesced after transaction ${this.seq / GUEST_TX_WRITES}`,
      };
      return fn(this.seq, report);
    });
  }

  /** The simulated guest's VSS writer: `ok` unless the VM folder's `guest-vss` file says `refuse` or `hang`. */
  private async vssWriter(): Promise<'ok' | 'refuse' | 'hang'> {
    const raw = await readFile(path.join(this.dir, GUEST_VSS_FILE), 'utf8').catch(() => 'ok');
    const mode = raw.trim();
    return mode === 'refuse' || mode === 'hang' ? mode : 'ok';
  }

  /** One guest write now (tests drive the guest by hand with this). */
  /**
   * Writes guest write `seq` again (it is a function of the VM and seq) unless the disk holds it already,
   * so a clean restart changes nothing, not even the changed-block log: see openSet.
   */
  redo(seq: number): Promise<void> {
    return this.locked(async () => {
      const write = guestWrite(this.vmId, seq, this.shapes);
      const disk = this.disks[write.disk] as SimDisk;
      const first = Math.floor(write.offset / BLOCK_BYTES);
      const last = Math.floor((write.offset + write.data.length - 1) / BLOCK_BYTES);
      const now = await disk.readBlocks(first, last - first + 1);
      const at = write.offset - first * BLOCK_BYTES;
      if (!now.subarray(at, at + write.data.length).equals(write.data)) await disk.write(write.offset, write.data);
    });
  }

  writeNext(count = 1): Promise<number> {
    return this.locked(() => this.writeUnlocked(count));
  }

  private async writeUnlocked(count: number): Promise<number> {
    for (let i = 0; i < count; i += 1) {
      const write = guestWrite(this.vmId, this.seq + 1, this.shapes);
      await this.log.append(write);
      await (this.disks[write.disk] as SimDisk).write(write.offset, write.data);
      this.seq = write.seq;
    }
    return this.seq;
  }

  /**
   * The guest goes on from write `seq` (a VM made from a replica point holds writes 1..seq):
   * recorded in the write log, so the next write is seq + 1. Never goes back.
   */
  continueFrom(seq: number): Promise<void> {
    return this.locked(async () => {
      if (seq <= this.seq) return;
      await this.log.mark(seq);
      this.seq = seq;
    });
  }

  /** Records that replica cycles ship these disks for `relationshipId` (so an HA discard sets them aside). */
  async markReplicated(relationshipId: string): Promise<void> {
    if (this.replicatedAs === relationshipId) return;
    await writeFileAtomic(path.join(this.dir, REPLICATION_FILE), `${JSON.stringify({ version: 1, relationshipId })}\n`);
    this.replicatedAs = relationshipId;
  }

  /** Per disk, in order: name and content digest now. */
  async sha256s(): Promise<{ name: string; sha256: string }[]> {
    return this.freeze(async () => {
      const out: { name: string; sha256: string }[] = [];
      for (const [i, disk] of this.disks.entries())
        out.push({ name: this.names[i] as string, sha256: await disk.sha256() });
      return out;
    });
  }

  startGuest(writesPerSecond: number, tickMs: number): void {
    if (this.timer || this.closed || writesPerSecond <= 0) return;
    this.guestStartedAt = Date.now();
    this.guestWritesDone = 0;
    this.timer = setInterval(() => this.tick(writesPerSecond), tickMs);
    this.timer.unref();
  }

  async stopGuest(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
  }

  async close(): Promise<void> {
    await this.stopGuest();
    await this.locked(async () => {
      if (this.closed) return;
      this.closed = true;
      for (const disk of this.disks) await disk.close();
      await this.log.close();
    });
  }

  private tick(writesPerSecond: number): void {
    if (this.writing) return;
    const due = Math.floor(((Date.now() - this.guestStartedAt) / 1000) * writesPerSecond) - this.guestWritesDone;
    if (due <= 0) return;
    // A stalled host does not make the guest write a burst of thousands: at most a second's worth at once.
    const count = Math.min(due, Math.max(1, Math.ceil(writesPerSecond)));
    this.guestWritesDone += due;
    this.writing = this.writeNext(count)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.writing = null;
      });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(() => {
      if (this.closed) throw new Error(`the disks of VM ${this.vmId} are closed`);
      return fn();
    });
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/** The disk files under `dir` opened read-only, or null when there are none (or they went meanwhile). */
async function openSeed(
  dir: string,
  source: DiskSeed['source'],
): Promise<{ seed: DiskSeed; close: () => Promise<void> } | null> {
  const handles: FileHandle[] = [];
  const close = async () => {
    for (const fh of handles.splice(0)) await fh.close().catch(() => undefined);
  };
  try {
    const parsed = diskSetFileSchema.parse(JSON.parse(await readFile(path.join(dir, 'disks.json'), 'utf8')));
    const disks: SeedDisk[] = [];
    for (const d of parsed.disks) {
      const file = path.join(dir, d.file);
      const fh = await open(file, 'r');
      handles.push(fh);
      // Without its allocation table a disk seeds nothing (the resync then sends all of it).
      const blocks = [...((await readAllocationTable(file)) ?? [])].sort((a, b) => a - b);
      disks.push({
        sizeBytes: d.sizeBytes,
        blocks,
        read: async (index) => {
          const buffer = Buffer.alloc(blockLength(index, d.sizeBytes));
          await fh.read(buffer, 0, buffer.length, index * BLOCK_BYTES);
          return buffer;
        },
      });
    }
    return { seed: { source, disks }, close };
  } catch (error) {
    await close();
    // Moved or deleted while being opened (a discard): no seed from here.
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
}
