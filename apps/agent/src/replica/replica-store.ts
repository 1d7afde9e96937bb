import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { inflateRaw as inflateRawCb } from 'node:zlib';
import {
  REPLICA_CYCLE_MODES,
  type ReplicaAcceptParams,
  type ReplicaAcceptResult,
  type ReplicaCycleResult,
} from '@fabric/core/tasks/replica-task-protocol.schema';
import { z } from 'zod';
import { BLOCK_BYTES, blockLength, sha256Hex } from '../disks/blocks';
import { PeerError, type PeerRequest, type PeerResponse, type PeerServer } from '../disks/peer-server';
import { SimDisk } from '../disks/sim-disk';
import type { DiskSeed, VmDiskSet } from '../disks/vm-disks';
import { writeFileAtomic } from '../state-store';
import { decodeFrames, encodeHeader, FRAME_HEADER_BYTES } from './frames';

const inflateRaw = promisify(inflateRawCb);

/**
 * Replica storage on the replica host, one folder per relationship under
 * `<stateDir>/replicas/<relationshipId>/`:
 *
 * - `relationship.json`: the VM, its disks, the credential the primary uses,
 *   the recovery points (oldest first) and the state;
 * - `current/d<i>.img`: the disks as of the NEWEST point (sparse SimDisks);
 * - `undo/<pointId>.undo`: for every point but the oldest, the blocks that
 *   turn that point back into the point before it (the old content of every
 *   block the point changed). A point is materialized by copying `current` and
 *   applying the undo files from the newest down to it. Dropping a point merges
 *   two undo files into one, so disk use is `current` (≤ the working set) plus
 *   the blocks that really differ between the points kept;
 * - `pending` (in relationship.json) and its undo file while a cycle is received:
 *   blocks are applied to `current` as they arrive, each block's old content
 *   written to the undo file first. A cycle that dies halfway (or a replica
 *   agent killed mid-cycle) is rolled back from that undo file at the next
 *   begin or start, so `current` is always the newest kept point.
 *
 * The peer listener serves `/peer/v1/replica/<relationshipId>/…` to the
 * credential given in replica.accept; see `handlePeer`.
 */
export const DEFAULT_MAX_POINTS = 64;

const pointSchema = z.object({
  pointId: z.string(),
  guestWriteSeq: z.number().int().min(0),
  appConsistent: z.boolean(),
  mode: z.enum(REPLICA_CYCLE_MODES),
  disks: z.array(z.object({ name: z.string(), sha256: z.string() })),
  createdAt: z.string(),
  /** Restores the previous point from this one; null for the oldest. */
  undoFile: z.string().nullable(),
  /** The primary's cycle result, answered again to a cycle re-run with the same point id. */
  result: z.record(z.string(), z.unknown()),
});
export type ReplicaPoint = z.infer<typeof pointSchema>;

const relationshipFileSchema = z.object({
  version: z.literal(1),
  relationshipId: z.string(),
  vmId: z.string(),
  primaryHostId: z.string(),
  credential: z.string(),
  disks: z.array(z.object({ name: z.string(), sizeBytes: z.number().int().min(1) })),
  points: z.array(pointSchema),
  state: z.enum(['replicating', 'failed-over', 'committed']),
  failedOverPointId: z.string().nullable(),
  tests: z.array(z.object({ testVmId: z.string(), pointId: z.string() })),
  /** The point being received: its blocks are applied to `current` as they come, their old content in its undo file. */
  pending: z
    .object({ pointId: z.string(), mode: z.enum(REPLICA_CYCLE_MODES), guestWriteSeq: z.number().int().min(0) })
    .nullish(),
});
export type RelationshipRecord = z.infer<typeof relationshipFileSchema>;

const beginSchema = z.object({
  mode: z.enum(REPLICA_CYCLE_MODES),
  guestWriteSeq: z.number().int().min(0),
  disks: z.array(z.object({ name: z.string(), sizeBytes: z.number().int().min(1) })).max(64),
});
const commitSchema = z.object({
  guestWriteSeq: z.number().int().min(0),
  appConsistent: z.boolean(),
  disks: z.array(z.object({ name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).max(64),
  result: z.record(z.string(), z.unknown()),
});

interface Open {
  record: RelationshipRecord;
  current: SimDisk[];
  lock: Promise<unknown>;
  /**
   * Blocks (`disk:block`) of the pending cycle whose old content is in its undo file already: a block
   * sent again in the same cycle (a PUT the primary retried after its answer was lost) keeps its first
   * undo frame, the content of the last point, so the undo file holds each block once. Empty after a
   * restart, when the pending cycle is rolled back anyway.
   */
  pendingUndone: Set<string>;
}

export interface ReplicaStoreOptions {
  dir: string;
  peer: PeerServer;
  maxPoints?: number;
}

export class ReplicaStore {
  private readonly open = new Map<string, Open>();
  private readonly maxPoints: number;

  constructor(private readonly options: ReplicaStoreOptions) {
    this.maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
  }

  /** Reopens every relationship (grants their credentials again) and serves the `replica` peer family. */
  async start(): Promise<void> {
    this.options.peer.route('replica', (request) => this.handlePeer(request));
    let names: string[] = [];
    try {
      names = await readdir(this.options.dir);
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
    }
    for (const name of names) {
      try {
        await this.load(name);
      } catch {
        // A relationship folder without a readable record is not served; accept makes it again.
      }
    }
  }

  async close(): Promise<void> {
    for (const [id, rel] of this.open) {
      this.open.delete(id);
      await this.locked(rel, async () => {
        for (const disk of rel.current) await disk.close();
      });
    }
  }

  get(relationshipId: string): RelationshipRecord | null {
    return this.open.get(relationshipId)?.record ?? null;
  }

  /** replica.accept: storage prepared, the credential opens this relationship's peer path only. Idempotent. */
  async accept(params: ReplicaAcceptParams, seed: DiskSeed | null): Promise<ReplicaAcceptResult> {
    let rel = this.open.get(params.relationshipId) ?? (await this.load(params.relationshipId).catch(() => null));
    if (rel && rel.record.state !== 'replicating' && rel.record.credential !== params.credential) {
      // A new generation (new credential) on a host that was this relationship's replica in an earlier
      // direction and failed over from it (the same credential is a repeated accept, kept as it is): the
      // relationship now runs the other way, so the old replica copy and its points go; the VM's local
      // disks (if this host still has them) are the base the resync that follows compares against.
      const old = rel;
      await this.locked(old, async () => {
        for (const disk of old.current) await disk.close();
      });
      this.open.delete(params.relationshipId);
      this.options.peer.revoke(`replica/${params.relationshipId}`);
      await rm(this.relDir(params.relationshipId), { recursive: true, force: true });
      rel = null;
    }
    if (!rel) {
      const dir = this.relDir(params.relationshipId);
      await mkdir(path.join(dir, 'current'), { recursive: true, mode: 0o700 });
      const record: RelationshipRecord = {
        version: 1,
        relationshipId: params.relationshipId,
        vmId: params.vmId,
        primaryHostId: params.primaryHostId,
        credential: params.credential,
        disks: params.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
        points: [],
        state: 'replicating',
        failedOverPointId: null,
        tests: [],
        pending: null,
      };
      const current: SimDisk[] = [];
      for (const [i, d] of record.disks.entries()) {
        current.push(await SimDisk.open({ file: path.join(dir, 'current', `d${i}.img`), sizeBytes: d.sizeBytes }));
      }
      // Reverse replication onto a host that still has the VM's old disks: start from them, so the
      // resync that follows sends only the blocks that differ.
      if (seed && seed.disks.length === current.length) {
        for (const [i, disk] of current.entries()) {
          const from = seed.disks[i];
          if (from?.sizeBytes !== disk.sizeBytes) continue;
          for (const index of from.blocks) await disk.writeBlock(index, await from.read(index));
        }
      }
      rel = { record, current, lock: Promise.resolve(), pendingUndone: new Set() };
      this.open.set(params.relationshipId, rel);
      await this.persist(rel);
    } else {
      const opened = rel;
      await this.locked(opened, async () => {
        opened.record.credential = params.credential;
        opened.record.primaryHostId = params.primaryHostId;
        await this.persist(opened);
      });
    }
    this.options.peer.grant(`replica/${params.relationshipId}`, params.credential);
    return {
      relationshipId: params.relationshipId,
      points: rel.record.points.map((p) => ({ pointId: p.pointId, guestWriteSeq: p.guestWriteSeq })),
      storageBytes: await this.storageBytes(rel),
    };
  }

  /**
   * replica.remove: the relationship's folder goes (current disks, undo files, record) and its peer path is
   * closed. Waits for a cycle being received (the lock), so nothing is written into the folder after it went.
   * Returns null when this host holds nothing of it.
   */
  async remove(
    relationshipId: string,
  ): Promise<{ record: RelationshipRecord; freedBytes: number; pointsRemoved: number } | null> {
    const dir = this.relDir(relationshipId);
    this.options.peer.revoke(`replica/${relationshipId}`);
    const rel = this.open.get(relationshipId) ?? (await this.load(relationshipId).catch(() => null));
    if (!rel) {
      await rm(dir, { recursive: true, force: true });
      return null;
    }
    this.options.peer.revoke(`replica/${relationshipId}`); // load() granted it again
    return this.locked(rel, async () => {
      const freedBytes = await this.storageBytes(rel);
      for (const disk of rel.current) await disk.close();
      this.open.delete(relationshipId);
      await rm(dir, { recursive: true, force: true });
      return { record: rel.record, freedBytes, pointsRemoved: rel.record.points.length };
    });
  }

  /** replica.retain: drops every point not in `keep` (never the newest). */
  async retain(relationshipId: string, keep: readonly string[]): Promise<{ kept: string[]; dropped: string[] }> {
    const rel = this.must(relationshipId);
    return this.locked(rel, async () => {
      const newest = rel.record.points.at(-1)?.pointId;
      const wanted = new Set([...keep, ...(newest ? [newest] : [])]);
      const dropped: string[] = [];
      for (const point of [...rel.record.points]) {
        if (wanted.has(point.pointId)) continue;
        await this.dropPoint(rel, point.pointId);
        dropped.push(point.pointId);
      }
      await this.persist(rel);
      return { kept: rel.record.points.map((p) => p.pointId), dropped };
    });
  }

  /**
   * Writes point `pointId` into `target` (fresh disks of the same shapes):
   * `current`, then the undo files from the newest point down to it.
   */
  async materialize(relationshipId: string, pointId: string, target: VmDiskSet): Promise<ReplicaPoint> {
    const rel = this.must(relationshipId);
    return this.locked(rel, async () => {
      const at = rel.record.points.findIndex((p) => p.pointId === pointId);
      const point = rel.record.points[at];
      if (!point) throw new PeerError(404, 'POINT_NOT_FOUND', `recovery point ${pointId} is not kept`);
      if (target.disks.length !== rel.current.length) throw new Error('the target has another number of disks');
      for (const [i, disk] of rel.current.entries()) {
        const into = target.disks[i] as SimDisk;
        for (const index of disk.allocatedBlocks()) await into.writeBlock(index, await disk.readBlock(index));
      }
      // A cycle being received has written some of its blocks into `current` already (the lock is taken
      // per request, not per cycle): its undo file turns them back into the newest point first. Without
      // this, a (test) failover during a cycle made a VM of half the next point.
      const pending = rel.record.pending;
      if (pending) {
        const frames = await this.readFrames(this.undoPath(relationshipId, pending.pointId), rel.current.length).catch(
          () => [],
        );
        for (const frame of frames.reverse())
          await (target.disks[frame.disk] as SimDisk).writeBlock(frame.block, frame.data);
      }
      for (let k = rel.record.points.length - 1; k > at; k -= 1) {
        const undo = (rel.record.points[k] as ReplicaPoint).undoFile;
        if (undo) await this.applyFrameFile(path.join(this.relDir(relationshipId), undo), target.disks);
      }
      return point;
    });
  }

  async setState(relationshipId: string, change: Partial<RelationshipRecord>): Promise<RelationshipRecord> {
    const rel = this.must(relationshipId);
    return this.locked(rel, async () => {
      Object.assign(rel.record, change);
      await this.persist(rel);
      return rel.record;
    });
  }

  /** replica.commit after a failover: every point but the failed-over one goes, with the replica copy. */
  async commitFailover(relationshipId: string): Promise<RelationshipRecord> {
    const rel = this.must(relationshipId);
    return this.locked(rel, async () => {
      const keep = rel.record.failedOverPointId;
      for (const point of [...rel.record.points]) if (point.pointId !== keep) await this.dropPoint(rel, point.pointId);
      rel.record.state = 'committed';
      this.options.peer.revoke(`replica/${relationshipId}`);
      await this.persist(rel);
      return rel.record;
    });
  }

  async storageBytesOf(relationshipId: string): Promise<number> {
    return this.storageBytes(this.must(relationshipId));
  }

  // --- the peer protocol -----------------------------------------------------

  /**
   * `/peer/v1/replica/<relationshipId>/…` (the listener checked the credential):
   * - `GET hashes?disk=<i>` → `{ blocks: [[index, sha256], …] }` of `current` (resync);
   * - `POST points/<pointId>/begin` `{ mode, guestWriteSeq, disks }` → `{ status: 'ready' }`, or
   *   `{ status: 'committed', result }` when the point is kept already (a cycle run again);
   * - `PUT points/<pointId>/blocks` frames (frames.ts) → `{ frames, bytes }`;
   * - `POST points/<pointId>/commit` `{ guestWriteSeq, appConsistent, disks: [{name, sha256}], result }` →
   *   applies the blocks, checks every disk's sha256 (409 CHECKSUM_MISMATCH undoes them) → `{ status: 'committed' }`.
   */
  async handlePeer(request: PeerRequest): Promise<PeerResponse> {
    const relationshipId = request.scope.slice('replica/'.length);
    const rel = this.open.get(relationshipId);
    if (!rel) throw new PeerError(404, 'RELATIONSHIP_NOT_FOUND', 'no such relationship on this host');
    const [what, pointId, action] = request.rest;
    if (what === 'hashes' && request.method === 'GET') {
      const disk = rel.current[Number(request.query.get('disk'))];
      if (!disk) throw new PeerError(404, 'NOT_FOUND', 'no such disk');
      return { status: 200, json: { blocks: [...(await disk.blockHashes())] } };
    }
    if (what !== 'points' || !pointId || !/^[0-9a-f-]{36}$/.test(pointId)) {
      throw new PeerError(404, 'NOT_FOUND', 'no such replica path');
    }
    if (action === 'begin' && request.method === 'POST') {
      const body = parseJson(request.body, beginSchema);
      return this.locked(rel, async () => {
        const done = rel.record.points.find((p) => p.pointId === pointId);
        if (done) return { status: 200, json: { status: 'committed', result: done.result } };
        if (rel.record.state !== 'replicating') {
          throw new PeerError(409, 'NOT_REPLICATING', `the replica is ${rel.record.state}, not taking cycles`);
        }
        const same =
          body.disks.length === rel.record.disks.length &&
          body.disks.every((d, i) => d.sizeBytes === rel.record.disks[i]?.sizeBytes);
        if (!same) throw new PeerError(409, 'DISKS_DIFFER', 'the cycle has other disks than the relationship');
        // A cycle that did not finish (this point retried, or another) is undone first.
        await this.rollbackPending(rel);
        await mkdir(path.join(this.relDir(relationshipId), 'undo'), { recursive: true, mode: 0o700 });
        await (await open(this.undoPath(relationshipId, pointId), 'w')).close();
        rel.record.pending = { pointId, mode: body.mode, guestWriteSeq: body.guestWriteSeq };
        rel.pendingUndone.clear();
        await this.persist(rel);
        return { status: 200, json: { status: 'ready' } };
      });
    }
    if (action === 'blocks' && request.method === 'PUT') {
      let frames = 0;
      try {
        for (const _ of decodeFrames(request.body, rel.current.length)) frames += 1;
      } catch (error) {
        throw new PeerError(400, 'BAD_FRAMES', error instanceof Error ? error.message : String(error));
      }
      await this.locked(rel, async () => {
        if (rel.record.pending?.pointId !== pointId) throw new PeerError(409, 'NOT_BEGUN', 'begin the point first');
        const undo = await open(this.undoPath(relationshipId, pointId), 'a');
        try {
          await this.applyFrames(request.body, rel.current, undo, rel.pendingUndone);
        } finally {
          await undo.close();
        }
      });
      return { status: 200, json: { frames, bytes: request.body.length } };
    }
    if (action === 'commit' && request.method === 'POST') {
      const body = parseJson(request.body, commitSchema);
      return this.locked(rel, () => this.commitPoint(rel, pointId, body));
    }
    throw new PeerError(404, 'NOT_FOUND', 'no such replica path');
  }

  // --- machinery -------------------------------------------------------------

  private async commitPoint(rel: Open, pointId: string, body: z.infer<typeof commitSchema>): Promise<PeerResponse> {
    const done = rel.record.points.find((p) => p.pointId === pointId);
    if (done) return { status: 200, json: { status: 'committed', result: done.result } };
    const begun = rel.record.pending;
    if (begun?.pointId !== pointId) throw new PeerError(409, 'NOT_BEGUN', 'begin the point first');
    const undoName = path.join('undo', `${pointId}.undo`);
    const undoPath = this.undoPath(rel.record.relationshipId, pointId);
    const actual = [];
    for (const [i, disk] of rel.current.entries()) {
      actual.push({ name: rel.record.disks[i]?.name ?? `d${i}`, sha256: await disk.sha256() });
    }
    const mismatch = actual.findIndex((d, i) => d.sha256 !== body.disks[i]?.sha256);
    if (mismatch >= 0 || body.disks.length !== actual.length) {
      await this.rollbackPending(rel);
      throw new PeerError(
        409,
        'CHECKSUM_MISMATCH',
        `disk ${actual[mismatch]?.name ?? '?'}: the replica hashes to ${actual[mismatch]?.sha256 ?? '?'}, the primary sent ${body.disks[mismatch]?.sha256 ?? 'nothing'}; the point is not kept`,
      );
    }
    const first = rel.record.points.length === 0;
    if (first) await rm(undoPath, { force: true });
    rel.record.points.push({
      pointId,
      guestWriteSeq: body.guestWriteSeq,
      appConsistent: body.appConsistent,
      mode: begun.mode,
      disks: actual,
      createdAt: new Date().toISOString(),
      undoFile: first ? null : undoName,
      result: body.result,
    });
    rel.record.pending = null;
    rel.pendingUndone.clear();
    while (rel.record.points.length > this.maxPoints) {
      await this.dropPoint(rel, (rel.record.points[0] as ReplicaPoint).pointId);
    }
    await this.persist(rel);
    return { status: 200, json: { status: 'committed', disks: actual } };
  }

  /** Removes a point that is not the newest: its undo merges into the next point's. */
  private async dropPoint(rel: Open, pointId: string): Promise<void> {
    const points = rel.record.points;
    const at = points.findIndex((p) => p.pointId === pointId);
    if (at < 0 || at === points.length - 1) return;
    const relDir = this.relDir(rel.record.relationshipId);
    const point = points[at] as ReplicaPoint;
    const next = points[at + 1] as ReplicaPoint;
    if (at === 0 || point.undoFile === null) {
      // The oldest: nothing goes back past it, so the next one needs no undo any more.
      if (next.undoFile) await rm(path.join(relDir, next.undoFile), { force: true });
      next.undoFile = null;
    } else if (next.undoFile) {
      // next → point → previous becomes next → previous: the older undo wins where both have a block.
      const merged = new Map<string, { disk: number; block: number; data: Buffer }>();
      for (const file of [next.undoFile, point.undoFile]) {
        for (const frame of await this.readFrames(path.join(relDir, file), rel.current.length)) {
          merged.set(`${frame.disk}:${frame.block}`, frame);
        }
      }
      const name = path.join('undo', `${next.pointId}.merged.undo`);
      const fh = await open(path.join(relDir, name), 'w');
      try {
        for (const frame of merged.values()) {
          await fh.write(
            encodeHeader({ ...frame, length: frame.data.length, deflated: false, payloadBytes: frame.data.length }),
          );
          await fh.write(frame.data);
        }
      } finally {
        await fh.close();
      }
      const finalName = path.join('undo', `${next.pointId}.undo`);
      await rename(path.join(relDir, name), path.join(relDir, finalName));
      await rm(path.join(relDir, point.undoFile), { force: true });
      next.undoFile = finalName;
    }
    points.splice(at, 1);
  }

  /** Undoes the blocks of a point received but not kept (its undo file, newest frame last, applied backwards). */
  private async rollbackPending(rel: Open): Promise<void> {
    const pending = rel.record.pending;
    if (!pending) return;
    const file = this.undoPath(rel.record.relationshipId, pending.pointId);
    const frames = await this.readFrames(file, rel.current.length).catch(() => []);
    for (const frame of frames.reverse())
      await (rel.current[frame.disk] as SimDisk).writeBlock(frame.block, frame.data);
    await rm(file, { force: true });
    rel.record.pending = null;
    rel.pendingUndone.clear();
    await this.persist(rel);
  }

  /**
   * Applies a body of frames to `disks`: the old content of every block of the body goes to `undo` in one
   * write before any of them changes. Consecutive blocks of a disk are read and written as one run (a
   * cycle ships blocks in order), and each block's hash is taken as it arrives, so the commit's digest
   * reads nothing back.
   */
  private async applyFrames(
    body: Buffer,
    disks: readonly SimDisk[],
    undo: FileHandle,
    /** Blocks whose old content this cycle's undo file holds already: not recorded again (see Open). */
    undone: Set<string>,
  ): Promise<void> {
    const runs: { disk: number; first: number; data: Buffer[]; hashes: string[] }[] = [];
    for (const frame of decodeFrames(body, disks.length)) {
      const disk = disks[frame.disk] as SimDisk;
      const data = frame.deflated ? await inflateRaw(frame.payload) : frame.payload;
      if (data.length !== frame.length || frame.length !== blockLength(frame.block, disk.sizeBytes)) {
        throw new PeerError(
          400,
          'BAD_FRAMES',
          `block ${frame.block}: ${data.length} bytes for a ${frame.length}-byte block`,
        );
      }
      const run = runs.at(-1);
      if (run && run.disk === frame.disk && run.first + run.data.length === frame.block && run.data.length < 256) {
        run.data.push(data);
        run.hashes.push(sha256Hex(data));
      } else runs.push({ disk: frame.disk, first: frame.block, data: [data], hashes: [sha256Hex(data)] });
    }
    const out: Buffer[] = [];
    const recorded = new Set<string>();
    for (const run of runs) {
      const disk = disks[run.disk] as SimDisk;
      const old = await disk.readBlocks(run.first, run.data.length);
      for (let i = 0; i < run.data.length; i += 1) {
        const block = run.first + i;
        const key = `${run.disk}:${block}`;
        if (undone.has(key) || recorded.has(key)) continue;
        recorded.add(key);
        const length = blockLength(block, disk.sizeBytes);
        out.push(
          encodeHeader({ disk: run.disk, block, length, deflated: false, payloadBytes: length }),
          old.subarray(i * BLOCK_BYTES, i * BLOCK_BYTES + length),
        );
      }
    }
    // The old content is in the undo file before a block changes.
    await undo.writev(out);
    for (const key of recorded) undone.add(key);
    for (const run of runs) {
      await (disks[run.disk] as SimDisk).writeBlocks(run.first, Buffer.concat(run.data), run.hashes);
    }
  }

  /** Applies a frame file to `disks`; with `undo`, first records each block's old content there. */
  private async applyFrameFile(file: string, disks: readonly SimDisk[], undo?: FileHandle): Promise<void> {
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      let at = 0;
      while (at < size) {
        await fh.read(header, 0, FRAME_HEADER_BYTES, at);
        const flags = header.readUInt8(0);
        const disk = disks[header.readUInt16LE(2)];
        const block = header.readUInt32LE(4);
        const length = header.readUInt32LE(8);
        const payloadBytes = header.readUInt32LE(12);
        const payload = Buffer.alloc(payloadBytes);
        await fh.read(payload, 0, payloadBytes, at + FRAME_HEADER_BYTES);
        at += FRAME_HEADER_BYTES + payloadBytes;
        if (!disk) throw new Error(`${file}: frame for a disk the relationship does not have`);
        const data = flags & 1 ? await inflateRaw(payload) : payload;
        if (data.length !== length || length !== blockLength(block, disk.sizeBytes)) {
          throw new PeerError(400, 'BAD_FRAMES', `block ${block}: ${data.length} bytes for a ${length}-byte block`);
        }
        if (undo) {
          const old = await disk.readBlock(block);
          await undo.write(
            encodeHeader({ disk: header.readUInt16LE(2), block, length, deflated: false, payloadBytes: old.length }),
          );
          await undo.write(old);
        }
        await disk.writeBlock(block, data);
      }
    } finally {
      await fh.close();
    }
  }

  private async readFrames(file: string, diskCount: number) {
    const body = await readFile(file);
    const frames: { disk: number; block: number; data: Buffer }[] = [];
    for (const frame of decodeFrames(body, diskCount)) {
      frames.push({ disk: frame.disk, block: frame.block, data: Buffer.from(frame.payload) });
    }
    return frames;
  }

  private async storageBytes(rel: Open): Promise<number> {
    let total = 0;
    for (const disk of rel.current) total += await disk.allocatedBytesOnDisk();
    for (const point of rel.record.points) {
      if (!point.undoFile) continue;
      total += (
        await stat(path.join(this.relDir(rel.record.relationshipId), point.undoFile)).catch(() => ({ size: 0 }))
      ).size;
    }
    return total;
  }

  private async load(relationshipId: string): Promise<Open> {
    const dir = this.relDir(relationshipId);
    const record = relationshipFileSchema.parse(
      JSON.parse(await readFile(path.join(dir, 'relationship.json'), 'utf8')),
    );
    const current: SimDisk[] = [];
    for (const [i, d] of record.disks.entries()) {
      current.push(await SimDisk.open({ file: path.join(dir, 'current', `d${i}.img`), sizeBytes: d.sizeBytes }));
    }
    const rel: Open = { record, current, lock: Promise.resolve(), pendingUndone: new Set() };
    this.open.set(relationshipId, rel);
    // Killed while a cycle was received: back to the newest kept point.
    await this.rollbackPending(rel);
    if (record.state !== 'committed') this.options.peer.grant(`replica/${relationshipId}`, record.credential);
    return rel;
  }

  private must(relationshipId: string): Open {
    const rel = this.open.get(relationshipId);
    if (!rel) throw new PeerError(404, 'RELATIONSHIP_NOT_FOUND', `relationship ${relationshipId} is not on this host`);
    return rel;
  }

  private relDir(relationshipId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(relationshipId)) throw new PeerError(404, 'RELATIONSHIP_NOT_FOUND', 'bad id');
    return path.join(this.options.dir, relationshipId);
  }

  private undoPath(relationshipId: string, pointId: string): string {
    return path.join(this.relDir(relationshipId), 'undo', `${pointId}.undo`);
  }

  private async persist(rel: Open): Promise<void> {
    await writeFileAtomic(
      path.join(this.relDir(rel.record.relationshipId), 'relationship.json'),
      `${JSON.stringify(rel.record)}\n`,
    );
  }

  private locked<T>(rel: Open, fn: () => Promise<T>): Promise<T> {
    const run = rel.lock.then(fn);
    rel.lock = run.catch(() => undefined);
    return run;
  }
}

function parseJson<T>(body: Buffer, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PeerError(400, 'MALFORMED_JSON', 'the body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new PeerError(400, 'INVALID_BODY', parsed.error.issues[0]?.message ?? 'invalid body');
  return parsed.data;
}

export type { ReplicaCycleResult };
export { BLOCK_BYTES };
