/**
 * The disks follow a migrating VM from host to host (live migration without
 * shared storage, the whitepaper's six steps; cold moves the same way). No
 * pool is shared between two simulated hosts (each agent has its own state
 * directory), so every migration carries the disk files:
 *
 *   receive   (destination) a folder for the incoming disks,
 *             `<stateDir>/migrations-incoming/<migrationId>/`, and a fresh
 *             credential for the peer scope `migration/<migrationId>`;
 *   copy      (source) a mirror on each disk (SimDisk.addSink, all disks at the
 *             same guest write), then every allocated block read between two
 *             guest writes and queued behind the writes mirrored so far: one
 *             ordered stream (frames of disk, offset, bytes) sent over the peer
 *             listener one batch at a time, so the destination applies blocks
 *             and writes in the order the source did them and ends equal. The
 *             guest keeps writing to its source files throughout (steps 1–3);
 *   handover  (source, guest stopped) the stream drained, each disk's digest sent;
 *             the destination checks its files give the same digests, then
 *             writes their allocation tables, the guest's write number and
 *             `disks.json` (the copy is complete); the mirror ends;
 *   install   (destination, migration.activate) the folder becomes the VM's
 *             disk folder (`<stateDir>/disks/<vmId>`), so the VM is created on
 *             the copied files and its guest goes on from the same write number;
 *   abort     source: the mirror stopped, source untouched; destination: the
 *             incoming folder deleted.
 *
 * The source's files go with the VM's source copy (migration.cleanup deletes
 * it after the VM runs on the destination). The copied disks have no change
 * log: change tracking is lost on the destination, so a replication of the VM
 * resyncs rather than ship a delta that could miss a change.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationDisksResult } from '@fabric/core/tasks/migration-task-protocol.schema';
import { z } from 'zod';
import { BLOCK_BYTES, blockLength, DiskDigest, sha256Hex } from '../disks/blocks';
import { PeerError, type PeerRequest, type PeerResponse, type PeerServer } from '../disks/peer-server';
import type { SimDisk, WriteSink } from '../disks/sim-disk';
import type { SimDisks, VmDiskSet } from '../disks/vm-disks';
import { putChunks } from '../put-chunks';
import { writeFileAtomic } from '../state-store';
import { TaskError } from '../task-handlers';

/** Frame header: u16 disk, u16 reserved, u32 length, u64 byte offset; then `length` bytes. */
const FRAME_HEADER_BYTES = 16;
/** Payload per PUT (the peer listener takes 8 MiB bodies). */
const BATCH_BYTES = 4 * 1024 * 1024;
/** The copy reads ahead at most this much beyond what was sent. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
const FAMILY = 'migration';
/** Consecutive written blocks read at once (1 MiB): one read and one frame instead of sixteen. */
const RUN_BLOCKS = 16;

const beginSchema = z.object({
  vmId: z.string().min(1).max(64),
  workingSetBytes: z.number().int().min(1),
  disks: z.array(z.object({ name: z.string().min(1).max(255), sizeBytes: z.number().int().min(1) })).max(64),
});
const commitSchema = z.object({
  guestWriteSeq: z.number().int().min(0),
  disks: z.array(z.object({ name: z.string(), sha256: z.string() })).max(64),
});

export interface MigrationDisksDeps {
  stateDir: string;
  disks: SimDisks;
  peer: PeerServer;
}

interface Incoming {
  migrationId: string;
  vmId: string;
  credential: string;
  shape: z.infer<typeof beginSchema> | null;
  files: (FileHandle | null)[];
  allocated: Set<number>[];
  bytes: number;
  answer: { disks: { name: string; sha256: string; blocks: number }[] } | null;
  chain: Promise<unknown>;
}

interface Outgoing {
  migrationId: string;
  vmId: string;
  set: VmDiskSet;
  sender: DiskSender;
  sinks: { disk: SimDisk; sink: WriteSink }[];
  seqAtStart: number;
  copied: MigrationDisksResult | null;
  handedOver: MigrationDisksResult | null;
}

export class MigrationDisks {
  private readonly incoming = new Map<string, Incoming>();
  private readonly outgoing = new Map<string, Outgoing>();

  constructor(private readonly deps: MigrationDisksDeps) {
    deps.peer.route(FAMILY, (request) => this.serve(request));
  }

  incomingDir(migrationId: string): string {
    if (!/^[0-9a-fA-F-]{36}$/.test(migrationId)) throw new Error(`"${migrationId}" is not a migration id`);
    return path.join(this.deps.stateDir, 'migrations-incoming', migrationId);
  }

  // --- destination ---------------------------------------------------------

  /** Opens this migration's peer scope (idempotent: a re-run answers the same credential). */
  async receive(migrationId: string, vmId: string): Promise<{ peerUrl: string; credential: string }> {
    let inc = this.incoming.get(migrationId);
    if (!inc) {
      inc = {
        migrationId,
        vmId,
        credential: randomBytes(32).toString('hex'),
        shape: null,
        files: [],
        allocated: [],
        bytes: 0,
        answer: null,
        chain: Promise.resolve(),
      };
      this.incoming.set(migrationId, inc);
    }
    await mkdir(this.incomingDir(migrationId), { recursive: true, mode: 0o700 });
    this.deps.peer.grant(`${FAMILY}/${migrationId}`, inc.credential);
    return { peerUrl: this.deps.peer.url, credential: inc.credential };
  }

  /**
   * migration.activate, before the VM is created here: a complete copy of its disks (disks.json written
   * by the handover) becomes its disk folder. False when this migration brought no disks.
   */
  async install(migrationId: string, vmId: string): Promise<boolean> {
    const dir = this.incomingDir(migrationId);
    if (!(await exists(path.join(dir, 'disks.json')))) return false;
    await this.closeIncoming(migrationId);
    // Anything of this VM's left here from before (a stale folder, a set-aside copy) is out of date.
    await this.deps.disks.remove(vmId);
    await this.deps.disks.dropSetAside(vmId);
    const to = this.deps.disks.vmDir(vmId);
    await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
    await rename(dir, to);
    return true;
  }

  /** The destination's undo: the incoming copy deleted (never the VM's own disk folder). Idempotent. */
  async dropIncoming(migrationId: string): Promise<void> {
    await this.closeIncoming(migrationId);
    await rm(this.incomingDir(migrationId), { recursive: true, force: true });
  }

  private async closeIncoming(migrationId: string): Promise<void> {
    const inc = this.incoming.get(migrationId);
    this.incoming.delete(migrationId);
    this.deps.peer.revoke(`${FAMILY}/${migrationId}`);
    if (!inc) return;
    await inc.chain.catch(() => undefined);
    for (const fh of inc.files) await fh?.close().catch(() => undefined);
    inc.files = [];
  }

  private serve(request: PeerRequest): Promise<PeerResponse> {
    const migrationId = request.scope.split('/')[1] as string;
    const inc = this.incoming.get(migrationId);
    if (!inc) {
      return Promise.reject(
        new PeerError(404, 'MIGRATION_NOT_FOUND', 'no incoming disks of this migration here (restarted or aborted)'),
      );
    }
    // One request at a time, in arrival order (the source sends one batch at a time).
    const run = inc.chain.then(() => this.handle(inc, request));
    inc.chain = run.catch(() => undefined);
    return run;
  }

  private async handle(inc: Incoming, request: PeerRequest): Promise<PeerResponse> {
    const what = `${request.method} ${request.rest.join('/')}`;
    const dir = this.incomingDir(inc.migrationId);
    if (what === 'POST begin') {
      const shape = beginSchema.safeParse(parseJson(request.body));
      if (!shape.success || shape.data.vmId !== inc.vmId) {
        throw new PeerError(400, 'BAD_REQUEST', 'begin: not the disks of the VM this host expects');
      }
      if (!inc.shape) {
        inc.shape = shape.data;
        inc.files = shape.data.disks.map(() => null);
        inc.allocated = shape.data.disks.map(() => new Set<number>());
      }
      return { status: 200, json: { status: 'ready' } };
    }
    const shape = inc.shape;
    if (!shape) throw new PeerError(409, 'NOT_BEGUN', 'begin first');
    if (what === 'PUT data') {
      if (inc.answer) throw new PeerError(409, 'COMMITTED', 'the copy is complete already');
      let at = 0;
      const body = request.body;
      while (at < body.length) {
        if (body.length - at < FRAME_HEADER_BYTES) throw new PeerError(400, 'BAD_FRAME', 'truncated frame header');
        const disk = body.readUInt16LE(at);
        const length = body.readUInt32LE(at + 4);
        const offset = Number(body.readBigUInt64LE(at + 8));
        at += FRAME_HEADER_BYTES;
        const size = shape.disks[disk]?.sizeBytes;
        if (size === undefined || length > body.length - at || offset + length > size) {
          throw new PeerError(400, 'BAD_FRAME', `frame for disk ${disk} at ${offset}+${length} does not fit`);
        }
        const fh = await this.file(inc, disk, dir);
        await fh.write(body, at, length, offset);
        const allocated = inc.allocated[disk] as Set<number>;
        for (let b = Math.floor(offset / BLOCK_BYTES); b <= Math.floor((offset + length - 1) / BLOCK_BYTES); b += 1) {
          allocated.add(b);
        }
        inc.bytes += length;
        at += length;
      }
      return { status: 200, json: { bytes: inc.bytes } };
    }
    if (what === 'POST commit') {
      if (inc.answer) return { status: 200, json: inc.answer };
      const commit = commitSchema.safeParse(parseJson(request.body));
      if (!commit.success || commit.data.disks.length !== shape.disks.length) {
        throw new PeerError(400, 'BAD_REQUEST', 'commit: one digest per disk');
      }
      const disks: { name: string; sha256: string; blocks: number }[] = [];
      for (const [i, d] of shape.disks.entries()) {
        const fh = await this.file(inc, i, dir);
        await fh.sync();
        const blocks = [...(inc.allocated[i] as Set<number>)].sort((a, b) => a - b);
        const sha256 = await digestOf(fh, d.sizeBytes, blocks);
        if (sha256 !== commit.data.disks[i]?.sha256) {
          throw new PeerError(409, 'NOT_SYNCHRONIZED', `${d.name}: the copy here differs from the source`);
        }
        await writeFileAtomic(path.join(dir, `d${i}.img.alloc`), blocks.map((b) => `${b}\n`).join(''));
        disks.push({ name: d.name, sha256, blocks: blocks.length });
      }
      // The guest goes on from the source's last write; disks.json last: it marks the copy complete.
      await writeFileAtomic(path.join(dir, 'guest-writes.log'), `${commit.data.guestWriteSeq} - -\n`);
      const file = {
        version: 1,
        workingSetBytes: shape.workingSetBytes,
        disks: shape.disks.map((d, i) => ({ name: d.name, file: `d${i}.img`, sizeBytes: d.sizeBytes })),
      };
      await writeFileAtomic(path.join(dir, 'disks.json'), `${JSON.stringify(file, null, 2)}\n`);
      for (const fh of inc.files) await fh?.close();
      inc.files = [];
      inc.answer = { disks };
      return { status: 200, json: inc.answer };
    }
    throw new PeerError(404, 'NOT_FOUND', `nothing serves ${what}`);
  }

  /** Disk `i`'s file here, created sparse at its full size on its first frame. */
  private async file(inc: Incoming, i: number, dir: string): Promise<FileHandle> {
    const open_ = inc.files[i];
    if (open_) return open_;
    const size = inc.shape?.disks[i]?.sizeBytes as number;
    const name = `d${i}.img`;
    try {
      const fh = await open(path.join(dir, name), 'w+');
      await fh.truncate(size);
      inc.files[i] = fh;
      return fh;
    } catch (error) {
      const received = `${(inc.bytes / 1048576).toFixed(1)} MiB received before`;
      throw new PeerError(
        507,
        'WRITE_FAILED',
        `${name}: ${error instanceof Error ? error.message : String(error)} (${received})`,
      );
    }
  }

  // --- source --------------------------------------------------------------

  /**
   * Mirrors the VM's disks to the destination and copies what they hold while the guest writes;
   * resolves when the initial copy has arrived (the mirror goes on until handover or abort).
   */
  async copy(
    migrationId: string,
    vmId: string,
    target: { peerUrl: string; credential: string },
    context: { signal: AbortSignal; onProgress: (percent: number, message: string) => void },
  ): Promise<MigrationDisksResult> {
    const set = await this.deps.disks.get(vmId);
    if (!set) return { disks: [], bytes: 0, durationMs: 0, guestWriteSeq: 0 };
    const running = this.outgoing.get(migrationId);
    if (running?.copied) return running.copied;
    if (running) await this.stopOutgoing(migrationId);
    // A migration handed over already is over here (its cleanup left to reconciliation): its record goes.
    for (const o of [...this.outgoing.values()]) {
      if (o.vmId === vmId && o.handedOver) await this.stopOutgoing(o.migrationId);
    }
    const other = [...this.outgoing.values()].find((o) => o.vmId === vmId);
    if (other)
      throw new TaskError('MIGRATION_IN_PROGRESS', `the disks of this VM are mirrored for ${other.migrationId}`);
    const started = performance.now();
    const sender = new DiskSender(
      `${target.peerUrl.replace(/\/$/, '')}/peer/v1/${FAMILY}/${migrationId}/`,
      target.credential,
    );
    const out: Outgoing = { migrationId, vmId, set, sender, sinks: [], seqAtStart: 0, copied: null, handedOver: null };
    this.outgoing.set(migrationId, out);
    let copiedBytes = 0;
    try {
      await sender.json('begin', {
        vmId,
        workingSetBytes: set.workingSetBytes,
        disks: set.disks.map((d, i) => ({ name: set.names[i] as string, sizeBytes: d.sizeBytes })),
      });
      // Every disk mirrored from the same guest write on.
      out.seqAtStart = await set.freeze(async (seq) => {
        for (const [i, disk] of set.disks.entries()) {
          const sink: WriteSink = (offset, data) => sender.push(i, offset, data, true);
          await disk.addSink(sink);
          out.sinks.push({ disk, sink });
        }
        return seq;
      });
      const plan = set.disks.map((disk) => disk.allocatedBlocks());
      const total = plan.reduce((sum, blocks) => sum + blocks.length, 0);
      let done = 0;
      for (const [i, disk] of set.disks.entries()) {
        const toCopy: WriteSink = (offset, data) => sender.push(i, offset, data, false);
        for (const [first, count] of runs(plan[i] as number[], RUN_BLOCKS)) {
          if (context.signal.aborted) throw new TaskError('CANCELLED', 'cancelled');
          await sender.room();
          copiedBytes += await disk.copyBlocksTo(first, count, toCopy);
          done += count;
          if (done % 64 < count) {
            context.onProgress(
              Math.min(99, Math.round((done / Math.max(1, total)) * 100)),
              `${done} of ${total} blocks`,
            );
          }
        }
      }
      await sender.drained();
    } catch (error) {
      await this.stopOutgoing(migrationId);
      const sent = (sender.sentBytes / 1048576).toFixed(1);
      if (error instanceof TaskError && error.code === 'CANCELLED') throw error;
      throw new TaskError(
        'COPY_FAILED',
        `the disk copy to the destination failed after ${sent} MiB: ${describe(error)}`,
      );
    }
    out.copied = {
      disks: set.disks.map((d, i) => ({ name: set.names[i] as string, blocks: d.allocatedBlocks().length })),
      bytes: copiedBytes,
      durationMs: Math.round(performance.now() - started),
      guestWriteSeqAtStart: out.seqAtStart,
      guestWriteSeq: set.guestWriteSeq,
    };
    return out.copied;
  }

  /** The guest stopped: what is mirrored arrives, the destination checks its digests, the mirror ends. */
  async handover(migrationId: string, vmId: string): Promise<MigrationDisksResult> {
    const out = this.outgoing.get(migrationId);
    if (!out) {
      if (!(await this.deps.disks.has(vmId))) return { disks: [], bytes: 0, durationMs: 0, guestWriteSeq: 0 };
      throw new TaskError(
        'MIRROR_LOST',
        'no disk mirror of this migration runs here (the agent restarted since the copy): the disks stay on the source',
      );
    }
    if (out.handedOver) return out.handedOver;
    const started = performance.now();
    try {
      const { seq, sha256s } = await out.set.freeze(async (at) => {
        await out.sender.drained();
        const digests: string[] = [];
        for (const disk of out.set.disks) digests.push(await disk.sha256());
        return { seq: at, sha256s: digests };
      });
      const answer = (await out.sender.json('commit', {
        guestWriteSeq: seq,
        disks: out.set.disks.map((_, i) => ({ name: out.set.names[i] as string, sha256: sha256s[i] })),
      })) as { disks: { name: string; sha256: string; blocks: number }[] };
      for (const { disk, sink } of out.sinks) disk.removeSink(sink);
      out.handedOver = {
        disks: answer.disks,
        bytes: out.sender.sentBytes,
        durationMs: Math.round(performance.now() - started),
        guestWriteSeqAtStart: out.seqAtStart,
        guestWriteSeq: seq,
        mirroredWrites: seq - out.seqAtStart,
      };
      return out.handedOver;
    } catch (error) {
      throw new TaskError('HANDOVER_FAILED', `the destination's disks are not in step: ${describe(error)}`);
    }
  }

  /**
   * Why this migration's mirror no longer reaches the destination (null while it does, or when there is
   * none): checked before the final copy, so a broken mirror rolls back while the VM still runs.
   */
  mirrorError(migrationId: string): string | null {
    return this.outgoing.get(migrationId)?.sender.failure ?? null;
  }

  /** The source's undo: the mirror stopped; the VM's disks were never touched. Idempotent. */
  async stopOutgoing(migrationId: string): Promise<void> {
    const out = this.outgoing.get(migrationId);
    this.outgoing.delete(migrationId);
    if (!out) return;
    for (const { disk, sink } of out.sinks) disk.removeSink(sink);
    out.sender.close();
  }
}

/** One ordered stream of frames to the destination, one batch on the wire at a time. */
class DiskSender {
  private queue: { disk: number; offset: number; data: Buffer }[] = [];
  private queuedBytes = 0;
  private pumping: Promise<void> | null = null;
  private error: Error | null = null;
  private readonly controller = new AbortController();
  sentBytes = 0;

  constructor(
    private readonly base: string,
    private readonly credential: string,
  ) {}

  /** Called inside a disk's chain: never throws, never waits. */
  push(disk: number, offset: number, data: Buffer, copy: boolean): void {
    if (this.error) return;
    this.queue.push({ disk, offset, data: copy ? Buffer.from(data) : data });
    this.queuedBytes += data.length;
    this.pump();
  }

  /** Waits while the copy is too far ahead of the wire. */
  async room(): Promise<void> {
    while (this.queuedBytes > MAX_QUEUED_BYTES) {
      if (this.error) throw this.error;
      if (!this.pumping) this.pump();
      await this.pumping;
    }
    if (this.error) throw this.error;
  }

  async drained(): Promise<void> {
    for (;;) {
      if (this.error) throw this.error;
      if (!this.pumping && this.queue.length === 0) return;
      if (!this.pumping) this.pump();
      await this.pumping;
    }
  }

  /** The error that stopped the stream, if any. */
  get failure(): string | null {
    return this.error ? this.error.message : null;
  }

  close(): void {
    this.error ??= new Error('mirror stopped');
    this.queue = [];
    this.queuedBytes = 0;
    this.controller.abort();
  }

  async json(what: string, body: unknown): Promise<unknown> {
    const answer = await this.call('POST', what, JSON.stringify(body), 'application/json');
    return answer.json();
  }

  private pump(): void {
    if (this.pumping || this.error) return;
    const run = (async () => {
      while (this.queue.length > 0 && !this.error) {
        const parts: Buffer[] = [];
        let bytes = 0;
        while (this.queue.length > 0 && bytes < BATCH_BYTES) {
          const item = this.queue.shift() as { disk: number; offset: number; data: Buffer };
          const header = Buffer.alloc(FRAME_HEADER_BYTES);
          header.writeUInt16LE(item.disk, 0);
          header.writeUInt32LE(item.data.length, 4);
          header.writeBigUInt64LE(BigInt(item.offset), 8);
          parts.push(header, item.data);
          bytes += item.data.length;
        }
        await this.put(parts);
        this.queuedBytes -= bytes;
        this.sentBytes += bytes;
      }
    })();
    this.pumping = run
      .catch((error: unknown) => {
        this.error ??= error instanceof Error ? error : new Error(String(error));
        this.queue = [];
        this.queuedBytes = 0;
      })
      .finally(() => {
        this.pumping = null;
        if (this.queue.length > 0) this.pump();
      });
  }

  /**
   * A batch, its frames written to the socket as they are (node:http, kept alive): fetch would copy the
   * body again after a concat (what replica-cycle.ts found costs most of a busy sender's CPU).
   */
  private async put(chunks: readonly Buffer[]): Promise<void> {
    const answer = await putChunks(new URL(`${this.base}data`), this.credential, chunks, this.controller.signal).catch(
      (error: unknown) => {
        throw new Error(`the destination's peer listener did not answer (${describe(error)})`);
      },
    );
    if (answer.status >= 200 && answer.status < 300) return;
    let detail = String(answer.status);
    try {
      const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: { code?: string; message?: string } };
      if (parsed.error) detail = `${answer.status} ${parsed.error.code}: ${parsed.error.message}`;
    } catch {
      // not JSON
    }
    throw new Error(`the destination refused PUT data (${detail})`);
  }

  private async call(method: string, what: string, body: string | Buffer, type: string): Promise<Response> {
    let answer: Response;
    try {
      answer = await fetch(this.base + what, {
        method,
        headers: { authorization: `Bearer ${this.credential}`, 'content-type': type },
        body: body as BodyInit,
        signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(60_000)]),
      });
    } catch (error) {
      throw new Error(`the destination's peer listener did not answer (${describe(error)})`);
    }
    if (answer.ok) return answer;
    let detail = `${answer.status} ${answer.statusText}`;
    try {
      const parsed = (await answer.json()) as { error?: { code?: string; message?: string } };
      if (parsed.error) detail = `${answer.status} ${parsed.error.code}: ${parsed.error.message}`;
    } catch {
      // not JSON
    }
    throw new Error(`the destination refused ${method} ${what} (${detail})`);
  }
}

async function digestOf(fh: FileHandle, sizeBytes: number, blocks: readonly number[]): Promise<string> {
  const digest = new DiskDigest(sizeBytes);
  for (const index of blocks) {
    const length = blockLength(index, sizeBytes);
    const buffer = Buffer.alloc(length);
    await fh.read(buffer, 0, length, index * BLOCK_BYTES);
    digest.addHash(index, sha256Hex(buffer), length);
  }
  return digest.digest();
}

/** Sorted block indices as runs of consecutive blocks, `[first, count]`, each at most `max` long. */
export function runs(sorted: readonly number[], max: number): [number, number][] {
  const out: [number, number][] = [];
  for (const index of sorted) {
    const last = out.at(-1);
    if (last && last[0] + last[1] === index && last[1] < max) last[1] += 1;
    else out.push([index, 1]);
  }
  return out;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
