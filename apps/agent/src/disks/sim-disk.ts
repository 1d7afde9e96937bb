import { type FileHandle, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../state-store';
import { BLOCK_BYTES, blockCount, blockLength, DiskDigest, isZero, sha256Hex } from './blocks';

/**
 * One simulated virtual disk: a real SPARSE file of the disk's full size
 * (ftruncate; only written blocks take space), plus two small files beside it:
 *
 * - `<file>.alloc`: every block ever written, one index per line, appended on
 *   the first write of a block (the VHDX block allocation table: part of the
 *   disk, it goes where the disk goes);
 * - `<file>.cbt`: the change log (Resilient Change Tracking): a JSON header
 *   line `{"version":1,"inFlight":[…]}` then the index of every block changed
 *   since the last snapshot, appended on the block's first change. Blocks of a
 *   snapshot being shipped are `inFlight` until the cycle ends; a failed cycle
 *   puts them back. A disk found WITHOUT its change log (the agent restarted
 *   without it) has `changeTrackingLost`: a delta is impossible until a resync
 *   has run (snapshot 'all', then `release(true)`).
 *
 * All writes go through one chain per disk, so a snapshot is taken between
 * two writes, and a write to a block that a snapshot still has to ship first
 * preserves the old content for it (copy on write): a snapshot reads the disk
 * as it was when taken, while the guest goes on writing.
 */
export interface SimDiskOptions {
  file: string;
  sizeBytes: number;
}

export interface DiskSnapshot {
  readonly disk: SimDisk;
  /** 'changed': blocks changed since the last snapshot; 'all': every block ever written. */
  readonly kind: 'changed' | 'all';
  /** Sorted block indices to ship. */
  readonly blocks: readonly number[];
  /** The block's content when the snapshot was taken (each block is read once). */
  read(index: number): Promise<Buffer>;
  /** The same with its sha256, hashed once: the digest below reuses it. */
  readHashed(index: number): Promise<{ data: Buffer; sha256: string }>;
  /**
   * The disk's content digest when the snapshot was taken (same definition as SimDisk.sha256), before
   * `release`. Blocks whose hash was not known at the snapshot are hashed as they are read to be shipped
   * (the rest are read for it, as they were then): one pass over the data, overlapping the transfer.
   */
  sha256(): Promise<string>;
  /** true: shipped, forget these changes; false: failed, they are changed again. Idempotent. */
  release(shipped: boolean): Promise<void>;
}

interface ActiveSnapshot {
  /** Blocks to preserve on write: the snapshot's blocks not read yet. */
  wants: Set<number>;
  preserved: Map<number, Buffer>;
}

interface Mirror {
  target: FileHandle;
  targetFile: string;
}

/**
 * A mirror to another host (live migration without shared storage): called synchronously inside the
 * disk's chain with every write from the moment it is added, and with the blocks `copyBlocksTo` reads,
 * so what it receives is in the disk's own order. It must not keep `data` (copy it) and must not throw.
 */
export type WriteSink = (offset: number, data: Buffer) => void;

export class SimDisk {
  readonly file: string;
  readonly sizeBytes: number;
  readonly blockCount: number;
  private fh: FileHandle;
  private readonly allocated: Set<number>;
  private changed: Set<number>;
  private inFlight: Set<number>;
  private lost: boolean;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly snapshots = new Set<ActiveSnapshot>();
  private allocLog: FileHandle;
  private cbtLog: FileHandle | null;
  private mirror: Mirror | null = null;
  private readonly sinks = new Set<WriteSink>();
  private closed = false;
  /** sha256 of allocated blocks, dropped when a block is written: digests rehash only what changed. */
  private readonly hashes = new Map<number, string>();

  private constructor(
    options: SimDiskOptions,
    fh: FileHandle,
    allocLog: FileHandle,
    cbtLog: FileHandle | null,
    state: { allocated: Set<number>; changed: Set<number>; inFlight: Set<number>; lost: boolean },
  ) {
    this.file = options.file;
    this.sizeBytes = options.sizeBytes;
    this.blockCount = blockCount(options.sizeBytes);
    this.fh = fh;
    this.allocLog = allocLog;
    this.cbtLog = cbtLog;
    this.allocated = state.allocated;
    this.changed = state.changed;
    this.inFlight = state.inFlight;
    this.lost = state.lost;
  }

  /** Opens the disk, creating a sparse file of `sizeBytes` when there is none (idempotent). */
  static async open(options: SimDiskOptions): Promise<SimDisk> {
    const { file, sizeBytes } = options;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1) throw new Error(`disk size ${sizeBytes} is not usable`);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const existed = await exists(file);
    const fh = await open(file, existed ? 'r+' : 'w+');
    if (!existed) await fh.truncate(sizeBytes);
    else if ((await fh.stat()).size !== sizeBytes) await fh.truncate(sizeBytes);
    const allocated = existed ? await readIndexLog(`${file}.alloc`) : new Set<number>();
    let state = { allocated: allocated ?? new Set<number>(), changed: new Set<number>(), inFlight: new Set<number>() };
    let lost = false;
    if (existed && allocated === null) {
      // The allocation table is gone: find the written blocks by reading (slow, but only after damage).
      state.allocated = await scanAllocated(fh, sizeBytes);
    }
    const cbt = existed ? await readChangeLog(`${file}.cbt`) : { changed: new Set<number>(), inFlight: [] };
    if (cbt === null) lost = true;
    else {
      // Blocks that were in flight when the agent stopped were not confirmed: changed again.
      state = { ...state, changed: new Set([...cbt.changed, ...cbt.inFlight]) };
    }
    if (existed && allocated === null) await writeIndexLog(`${file}.alloc`, state.allocated);
    if (!lost) await writeChangeLog(`${file}.cbt`, state.changed, []);
    const allocLog = await open(`${file}.alloc`, 'a');
    const cbtLog = lost ? null : await open(`${file}.cbt`, 'a');
    return new SimDisk(options, fh, allocLog, cbtLog, { ...state, lost });
  }

  /** No change log: a delta cannot be computed until a resync (snapshot 'all') succeeds. */
  get changeTrackingLost(): boolean {
    return this.lost;
  }

  /** Blocks changed since the last shipped snapshot (for tests and figures). */
  get changedBlockCount(): number {
    return this.changed.size + this.inFlight.size;
  }

  allocatedBlocks(): number[] {
    return [...this.allocated].sort((a, b) => a - b);
  }

  /** Bytes the sparse file takes on disk (st_blocks), to show it is sparse. */
  async allocatedBytesOnDisk(): Promise<number> {
    return (await stat(this.file)).blocks * 512;
  }

  /** A guest write: `data` at `offset`, inside the disk. Serialized with every other operation. */
  write(offset: number, data: Buffer): Promise<void> {
    if (offset < 0 || offset + data.length > this.sizeBytes) {
      return Promise.reject(
        new Error(`write of ${data.length} bytes at ${offset} is outside the ${this.sizeBytes}-byte disk`),
      );
    }
    return this.serial(() => this.writeNow(offset, data));
  }

  /**
   * Replaces whole block `index` (replica apply, materialize, resync). Tracked like a guest write.
   * The block's hash is taken from the data at hand, so a digest never reads it back.
   */
  writeBlock(index: number, data: Buffer, sha256 = sha256Hex(data)): Promise<void> {
    const length = blockLength(index, this.sizeBytes);
    if (index < 0 || index >= this.blockCount || data.length !== length) {
      return Promise.reject(new Error(`block ${index} of ${data.length} bytes does not fit this disk`));
    }
    return this.serial(async () => {
      await this.writeNow(index * BLOCK_BYTES, data);
      this.hashes.set(index, sha256);
    });
  }

  /** The block's current content. */
  readBlock(index: number): Promise<Buffer> {
    return this.serial(() => this.readRaw(index));
  }

  /** Blocks `first`…`first + count - 1`, one buffer, one read (a never-written block reads as zeros: a hole). */
  readBlocks(first: number, count: number): Promise<Buffer> {
    if (first < 0 || count < 1 || first + count > this.blockCount) {
      return Promise.reject(new Error(`blocks ${first}+${count} are outside this disk`));
    }
    return this.serial(async () => {
      const start = first * BLOCK_BYTES;
      const buffer = Buffer.alloc(Math.min(count * BLOCK_BYTES, this.sizeBytes - start));
      await this.fh.read(buffer, 0, buffer.length, start);
      return buffer;
    });
  }

  /**
   * Replaces consecutive whole blocks from `first` (`data` holds them end to end; `sha256s` their hashes)
   * in one write, tracked like a guest write: what a replica applies from a batch.
   */
  writeBlocks(first: number, data: Buffer, sha256s: readonly string[]): Promise<void> {
    const start = first * BLOCK_BYTES;
    const count = Math.ceil(data.length / BLOCK_BYTES);
    const whole = data.length === Math.min(count * BLOCK_BYTES, this.sizeBytes - start);
    if (first < 0 || first + count > this.blockCount || !whole || sha256s.length !== count) {
      return Promise.reject(new Error(`blocks ${first}+${count} of ${data.length} bytes do not fit this disk`));
    }
    return this.serial(async () => {
      await this.writeNow(start, data);
      for (const [i, hash] of sha256s.entries()) this.hashes.set(first + i, hash);
    });
  }

  blockSha256(index: number): Promise<string> {
    return this.serial(() => this.hashOf(index));
  }

  /** sha256 per allocated block (for resync: the other side sends only blocks whose hash differs). */
  blockHashes(): Promise<Map<number, string>> {
    return this.serial(async () => {
      const hashes = new Map<number, string>();
      for (const index of this.allocatedBlocks()) hashes.set(index, await this.hashOf(index));
      return hashes;
    });
  }

  /** The disk's content digest now (see DiskDigest in blocks.ts). */
  sha256(): Promise<string> {
    return this.serial(() => this.digestNow());
  }

  /**
   * Takes a snapshot between two writes. 'changed' ships the blocks changed
   * since the last shipped snapshot and fails when change tracking is lost;
   * 'all' ships every block ever written and starts change tracking afresh.
   */
  snapshot(kind: 'changed' | 'all'): Promise<DiskSnapshot> {
    if (kind === 'changed' && this.lost) {
      return Promise.reject(new ChangeTrackingLostError(this.file));
    }
    return kind === 'all' ? this.snapshotAll() : this.snapshotChanged();
  }

  /** Mirrors every write to `targetFile` from now on and copies what is there already (storage migration). */
  async startMirror(targetFile: string): Promise<{ synced: Promise<void> }> {
    await mkdir(path.dirname(targetFile), { recursive: true, mode: 0o700 });
    const target = await this.serial(async () => {
      if (this.mirror) throw new Error(`${this.file} is mirrored to ${this.mirror.targetFile} already`);
      const handle = await open(targetFile, 'w+');
      await handle.truncate(this.sizeBytes);
      this.mirror = { target: handle, targetFile };
      return handle;
    });
    // Copy block by block through the chain: a write after a block's copy is mirrored, so the target ends equal.
    const synced = (async () => {
      for (const index of this.allocatedBlocks()) {
        await this.serial(async () => {
          if (this.mirror?.target !== target) throw new Error('mirror stopped');
          await target.write(await this.readRaw(index), 0, blockLength(index, this.sizeBytes), index * BLOCK_BYTES);
        });
      }
      await writeIndexLog(`${targetFile}.alloc`, this.allocated);
    })();
    synced.catch(() => undefined);
    return { synced };
  }

  /** Every write from now on also goes to `sink` (in order, inside the chain) until `removeSink`. */
  addSink(sink: WriteSink): Promise<void> {
    return this.serial(async () => {
      this.sinks.add(sink);
    });
  }

  removeSink(sink: WriteSink): void {
    this.sinks.delete(sink);
  }

  /**
   * Blocks `first`…`first + count - 1` as they are now, read at once and handed to `sink` between two
   * writes: ordered with the writes the sink gets. Returns the bytes handed over.
   */
  copyBlocksTo(first: number, count: number, sink: WriteSink): Promise<number> {
    if (first < 0 || count < 1 || first + count > this.blockCount) {
      return Promise.reject(new Error(`blocks ${first}+${count} are outside this disk`));
    }
    return this.serial(async () => {
      const start = first * BLOCK_BYTES;
      const data = Buffer.alloc(Math.min(count * BLOCK_BYTES, this.sizeBytes - start));
      await this.fh.read(data, 0, data.length, start);
      sink(start, data);
      return data.length;
    });
  }

  /**
   * Ends mirroring. `switchOver`: the disk continues on the target file (its
   * allocation table and change log move with it) and the source is deleted;
   * otherwise the target is closed and deleted.
   */
  async stopMirror(switchOver: boolean): Promise<void> {
    await this.serial(async () => {
      const mirror = this.mirror;
      if (!mirror) return;
      this.mirror = null;
      await mirror.target.sync();
      if (!switchOver) {
        await mirror.target.close();
        await rm(mirror.targetFile, { force: true });
        await rm(`${mirror.targetFile}.alloc`, { force: true });
        return;
      }
      await this.fh.close();
      await this.allocLog.close();
      await this.cbtLog?.close();
      await writeIndexLog(`${mirror.targetFile}.alloc`, this.allocated);
      if (!this.lost) await writeChangeLog(`${mirror.targetFile}.cbt`, this.changed, [...this.inFlight]);
      await removeDiskFiles(this.file);
      (this as { file: string }).file = mirror.targetFile;
      this.fh = mirror.target;
      this.allocLog = await open(`${this.file}.alloc`, 'a');
      this.cbtLog = this.lost ? null : await open(`${this.file}.cbt`, 'a');
    });
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      if (this.mirror) await this.mirror.target.close();
      await this.fh.close();
      await this.allocLog.close();
      await this.cbtLog?.close();
    });
  }

  // --- machinery -----------------------------------------------------------

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.closed) throw new Error(`${this.file} is closed`);
      return operation();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeNow(offset: number, data: Buffer): Promise<void> {
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + data.length - 1) / BLOCK_BYTES);
    for (let index = first; index <= last; index += 1) {
      this.hashes.delete(index);
      for (const snapshot of this.snapshots) {
        if (snapshot.wants.has(index) && !snapshot.preserved.has(index)) {
          snapshot.preserved.set(index, await this.readRaw(index));
        }
      }
      if (!this.allocated.has(index)) {
        this.allocated.add(index);
        await this.allocLog.write(`${index}\n`);
      }
      if (this.cbtLog && !this.changed.has(index)) {
        this.changed.add(index);
        await this.cbtLog.write(`${index}\n`);
      }
    }
    await this.fh.write(data, 0, data.length, offset);
    if (this.mirror) await this.mirror.target.write(data, 0, data.length, offset);
    for (const sink of this.sinks) sink(offset, data);
  }

  private async readRaw(index: number): Promise<Buffer> {
    const length = blockLength(index, this.sizeBytes);
    const buffer = Buffer.alloc(length);
    if (!this.allocated.has(index)) return buffer;
    await this.fh.read(buffer, 0, length, index * BLOCK_BYTES);
    return buffer;
  }

  private async snapshotChanged(): Promise<DiskSnapshot> {
    return this.serial(async () => {
      // Blocks still in flight from an unfinished snapshot ship again with this one.
      const blocks = new Set([...this.changed, ...this.inFlight]);
      this.inFlight = blocks;
      this.changed = new Set();
      await this.rewriteChangeLog();
      return this.makeSnapshot('changed', blocks);
    });
  }

  private async snapshotAll(): Promise<DiskSnapshot> {
    return this.serial(async () => {
      const blocks = new Set(this.allocated);
      // A resync or an initial copy: tracking starts afresh now; what it ships is in flight.
      this.inFlight = new Set(blocks);
      this.changed = new Set();
      this.lost = false;
      await this.rewriteChangeLog();
      return this.makeSnapshot('all', blocks);
    });
  }

  /**
   * Inside the chain: the snapshot starts between two writes. Its digest is not computed here (that
   * would read and hash every changed block before the first is shipped): the hashes known now are
   * kept, and every other allocated block is preserved on write like a block to ship, hashed when read.
   */
  private async makeSnapshot(kind: 'changed' | 'all', blocks: Set<number>): Promise<DiskSnapshot> {
    const allocated = this.allocatedBlocks();
    const known = new Map<number, string>();
    const wants = new Set(blocks);
    for (const index of allocated) {
      const hash = this.hashes.get(index);
      if (hash !== undefined) known.set(index, hash);
      else wants.add(index);
    }
    const active: ActiveSnapshot = { wants, preserved: new Map() };
    this.snapshots.add(active);
    const sorted = [...blocks].sort((a, b) => a - b);
    let released = false;
    let digest: Promise<string> | null = null;
    /** `keep`: the digest reads a block still to be shipped; it stays preserved for that read. */
    const readHashed = async (index: number, keep = false): Promise<{ data: Buffer; sha256: string }> => {
      if (released) throw new Error('snapshot released');
      let sha256 = known.get(index);
      let data = active.preserved.get(index);
      if (!data) {
        const got = await this.serial(async () => {
          const kept = active.preserved.get(index);
          if (kept) return { data: kept, hash: undefined };
          const now = await this.readRaw(index);
          if (sha256 !== undefined) return { data: now, hash: sha256 };
          // Not written since the snapshot: its hash is the disk's too.
          const hash = sha256Hex(now);
          if (this.allocated.has(index)) this.hashes.set(index, hash);
          return { data: now, hash };
        });
        data = got.data;
        sha256 ??= got.hash;
      }
      // Read once: a later write need not preserve it (memory stays bounded by what is not shipped yet).
      if (!keep) {
        active.wants.delete(index);
        active.preserved.delete(index);
      }
      // Preserved content was overwritten since: hashed from the content of then, never from the cache.
      sha256 ??= sha256Hex(data);
      known.set(index, sha256);
      return { data, sha256 };
    };
    return {
      disk: this,
      kind,
      blocks: sorted,
      read: async (index) => (await readHashed(index)).data,
      readHashed: (index) => readHashed(index),
      sha256: () => {
        digest ??= (async () => {
          const out = new DiskDigest(this.sizeBytes);
          for (const index of allocated) {
            const hash = known.get(index) ?? (await readHashed(index, blocks.has(index))).sha256;
            out.addHash(index, hash, blockLength(index, this.sizeBytes));
          }
          return out.digest();
        })();
        return digest;
      },
      release: async (shipped: boolean) => {
        if (released) return;
        released = true;
        this.snapshots.delete(active);
        await this.serial(async () => {
          if (!shipped) for (const index of this.inFlight) this.changed.add(index);
          this.inFlight = new Set();
          await this.rewriteChangeLog();
        });
      },
    };
  }

  private async hashOf(index: number): Promise<string> {
    let hash = this.hashes.get(index);
    if (hash === undefined) {
      hash = sha256Hex(await this.readRaw(index));
      if (this.allocated.has(index)) this.hashes.set(index, hash);
    }
    return hash;
  }

  private async digestNow(): Promise<string> {
    const digest = new DiskDigest(this.sizeBytes);
    for (const index of this.allocatedBlocks()) {
      digest.addHash(index, await this.hashOf(index), blockLength(index, this.sizeBytes));
    }
    return digest.digest();
  }

  private async rewriteChangeLog(): Promise<void> {
    if (this.closed) return;
    await this.cbtLog?.close();
    this.cbtLog = null;
    if (this.lost) return;
    await writeChangeLog(`${this.file}.cbt`, this.changed, [...this.inFlight]);
    this.cbtLog = await open(`${this.file}.cbt`, 'a');
  }
}

/** A delta was asked for but the disk has no change log: the control plane must ask for a resync. */
export class ChangeTrackingLostError extends Error {
  readonly code = 'CHANGE_TRACKING_LOST';
  constructor(file: string) {
    super(`${path.basename(file)} has no change log (the agent restarted without it): a resync is needed`);
    this.name = 'ChangeTrackingLostError';
  }
}

/** Deletes a disk file with its allocation table and change log. */
export async function removeDiskFiles(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.alloc`, { force: true });
  await rm(`${file}.cbt`, { force: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** A disk's allocation table (`<file>.alloc`): the blocks ever written; null when it is missing. */
export function readAllocationTable(file: string): Promise<Set<number> | null> {
  return readIndexLog(`${file}.alloc`);
}

/** Indices, one per line; null when the file is missing. Damaged lines are ignored (a torn last append). */
async function readIndexLog(file: string): Promise<Set<number> | null> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const set = new Set<number>();
  for (const line of raw.split('\n')) {
    if (/^\d+$/.test(line)) set.add(Number(line));
  }
  return set;
}

async function writeIndexLog(file: string, indices: Iterable<number>): Promise<void> {
  const lines = [...indices].sort((a, b) => a - b).map((i) => `${i}\n`);
  await writeFileAtomic(file, lines.join(''));
}

/** The change log: null when missing or its header is damaged (tracking lost). */
async function readChangeLog(file: string): Promise<{ changed: Set<number>; inFlight: number[] } | null> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const [header, ...rest] = raw.split('\n');
  let inFlight: number[];
  try {
    const parsed = JSON.parse(header ?? '') as { version?: unknown; inFlight?: unknown };
    if (parsed.version !== 1 || !Array.isArray(parsed.inFlight)) return null;
    inFlight = parsed.inFlight.filter((i): i is number => Number.isSafeInteger(i) && (i as number) >= 0);
  } catch {
    return null;
  }
  const changed = new Set<number>();
  for (const line of rest) if (/^\d+$/.test(line)) changed.add(Number(line));
  return { changed, inFlight };
}

async function writeChangeLog(file: string, changed: Set<number>, inFlight: number[]): Promise<void> {
  const header = JSON.stringify({ version: 1, inFlight: [...inFlight].sort((a, b) => a - b) });
  const lines = [...changed].sort((a, b) => a - b).map((i) => `${i}\n`);
  await writeFileAtomic(file, `${header}\n${lines.join('')}`);
}

/** Every non-zero block, by reading the file (only when the allocation table is gone). */
async function scanAllocated(fh: FileHandle, sizeBytes: number): Promise<Set<number>> {
  const set = new Set<number>();
  const buffer = Buffer.alloc(BLOCK_BYTES);
  for (let index = 0; index < blockCount(sizeBytes); index += 1) {
    const length = blockLength(index, sizeBytes);
    const { bytesRead } = await fh.read(buffer, 0, length, index * BLOCK_BYTES);
    if (!isZero(buffer.subarray(0, bytesRead))) set.add(index);
  }
  return set;
}
