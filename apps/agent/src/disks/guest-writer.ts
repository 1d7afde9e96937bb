import { type FileHandle, open, readFile } from 'node:fs/promises';
import { fnv1a, mulberry32 } from '../drivers/simulated/random';
import { BLOCK_BYTES, blockLength, DiskDigest, WRITE_BYTES } from './blocks';

/**
 * The simulated guest's disk writes. Write number `seq` (1, 2, 3, … per VM:
 * the guestWriteSeq) is a pure function of (vmId, seq, the disks' sizes and
 * working set): which disk, which 4 KiB-aligned offset inside the disk's
 * working set (its first `workingSetBytes`, capped at the disk size), and the
 * 4 KiB of seeded-random content (the seq is in its first 8 bytes, so no two
 * writes are alike). So a disk's content after write S can be recomputed from
 * nothing (`replayDiskSha256`), which is how tests prove a replica point holds
 * exactly the writes up to its guestWriteSeq.
 *
 * The guest's work is transactions of GUEST_TX_WRITES writes each (writes
 * (t-1)·W+1 … t·W make transaction t), and every write says so in its header
 * (`guestWriteHeader`): a disk's content tells whether its last transaction is
 * whole. A crash-consistent point may stop inside one; a point taken while
 * the guest is quiesced (VmDiskSet.freezeConsistent) never does.
 */
export interface GuestDiskShape {
  sizeBytes: number;
  workingSetBytes: number;
}

export interface GuestWrite {
  seq: number;
  disk: number;
  offset: number;
  data: Buffer;
}

/** Writes per guest transaction: the guest's unit of consistency (a database's commit). */
export const GUEST_TX_WRITES = 4;
/** Bytes of a write's header: seq u64, transaction u32, index in it u16 (1-based), writes in it u16 (little-endian). */
export const GUEST_WRITE_HEADER_BYTES = 16;

/** Write `seq`'s transaction and its place in it. */
export function guestTransactionOf(seq: number): { tx: number; index: number; writes: number } {
  return { tx: Math.ceil(seq / GUEST_TX_WRITES), index: ((seq - 1) % GUEST_TX_WRITES) + 1, writes: GUEST_TX_WRITES };
}

/** True when writes 1..seq end on a transaction boundary (no transaction half-written). */
export function transactionsWhole(seq: number): boolean {
  return seq % GUEST_TX_WRITES === 0;
}

/** The header of a guest write read back from a disk (null for a 4 KiB slot the guest never wrote). */
export function guestWriteHeader(slot: Buffer): { seq: number; tx: number; index: number; writes: number } | null {
  if (slot.length < GUEST_WRITE_HEADER_BYTES) return null;
  const seq = Number(slot.readBigUInt64LE(0));
  if (seq === 0) return null;
  return { seq, tx: slot.readUInt32LE(8), index: slot.readUInt16LE(12), writes: slot.readUInt16LE(14) };
}

export function guestWrite(vmId: string, seq: number, disks: readonly GuestDiskShape[]): GuestWrite {
  const random = mulberry32(fnv1a(`guest/${vmId}/${seq}`));
  const disk = Math.floor(random() * disks.length);
  const shape = disks[disk] as GuestDiskShape;
  const slots = Math.max(1, Math.floor(Math.min(shape.workingSetBytes, shape.sizeBytes) / WRITE_BYTES));
  const offset = Math.floor(random() * slots) * WRITE_BYTES;
  const length = Math.min(WRITE_BYTES, shape.sizeBytes - offset);
  const data = Buffer.alloc(length);
  const words = new Uint32Array(data.buffer, data.byteOffset, Math.floor(length / 4));
  for (let i = 0; i < words.length; i += 1) words[i] = Math.floor(random() * 4294967296);
  if (length >= GUEST_WRITE_HEADER_BYTES) {
    const { tx, index, writes } = guestTransactionOf(seq);
    data.writeBigUInt64LE(BigInt(seq), 0);
    data.writeUInt32LE(tx, 8);
    data.writeUInt16LE(index, 12);
    data.writeUInt16LE(writes, 14);
  } else if (length >= 8) data.writeBigUInt64LE(BigInt(seq), 0);
  return { seq, disk, offset, data };
}

/**
 * The digests of a VM's disks after writes 1..`seq` on empty disks, computed
 * in memory (only the working sets can be written). For tests and benches.
 */
export function replayDiskSha256(vmId: string, seq: number, disks: readonly GuestDiskShape[]): string[] {
  const images = disks.map((d) => Buffer.alloc(Math.min(d.workingSetBytes, d.sizeBytes)));
  const touched = disks.map(() => new Set<number>());
  for (let n = 1; n <= seq; n += 1) {
    const write = guestWrite(vmId, n, disks);
    write.data.copy(images[write.disk] as Buffer, write.offset);
    (touched[write.disk] as Set<number>).add(Math.floor(write.offset / BLOCK_BYTES));
  }
  return disks.map((shape, i) => {
    const digest = new DiskDigest(shape.sizeBytes);
    const image = images[i] as Buffer;
    for (const index of [...(touched[i] as Set<number>)].sort((a, b) => a - b)) {
      const length = blockLength(index, shape.sizeBytes);
      const block = Buffer.alloc(length);
      image.copy(block, 0, index * BLOCK_BYTES, Math.min(image.length, index * BLOCK_BYTES + length));
      digest.add(index, block);
    }
    return digest.digest();
  });
}

/**
 * What a VM's disk content says of the guest's transactions: the newest write found (scanning every 4 KiB
 * slot of each disk's working set; the newest write is never overwritten, so it is the content's last write)
 * and whether its transaction is whole. Reads content only, so tests run it on a replica's files.
 */
export async function inspectGuestTransactions(
  files: readonly { file: string; sizeBytes: number; workingSetBytes: number }[],
): Promise<{ lastSeq: number; lastTx: number; whole: boolean; writesOfLastTx: number; digests: string[] }> {
  let last: { seq: number; tx: number; index: number; writes: number } | null = null;
  // Each disk's content digest as read (the guest writes only its working set), to tie what was inspected to a point.
  const digests: string[] = [];
  for (const { file, sizeBytes, workingSetBytes } of files) {
    const handle = await open(file, 'r');
    try {
      const span = Math.min(sizeBytes, workingSetBytes);
      const buffer = Buffer.alloc(span);
      await handle.read(buffer, 0, span, 0);
      for (let offset = 0; offset + GUEST_WRITE_HEADER_BYTES <= span; offset += WRITE_BYTES) {
        const header = guestWriteHeader(buffer.subarray(offset, offset + GUEST_WRITE_HEADER_BYTES));
        if (header && (last === null || header.seq > last.seq)) last = header;
      }
      const digest = new DiskDigest(sizeBytes);
      for (let index = 0; index * BLOCK_BYTES < span; index += 1) {
        const block = Buffer.alloc(blockLength(index, sizeBytes));
        buffer.copy(block, 0, index * BLOCK_BYTES, Math.min(span, index * BLOCK_BYTES + block.length));
        digest.add(index, block);
      }
      digests.push(digest.digest());
    } finally {
      await handle.close();
    }
  }
  if (!last) return { lastSeq: 0, lastTx: 0, whole: true, writesOfLastTx: 0, digests };
  return {
    lastSeq: last.seq,
    lastTx: last.tx,
    whole: last.index === last.writes,
    writesOfLastTx: last.index,
    digests,
  };
}

/**
 * The write log of a VM, `guest-writes.log` in its disk folder: one line per
 * write, `<seq> <disk> <offset>`, appended before the write. Its last line is
 * the VM's guestWriteSeq after an agent restart; tests count lines after a point.
 */
export class GuestWriteLog {
  private handle: FileHandle | null = null;

  constructor(readonly file: string) {}

  /** The last seq written (0 for a VM that never wrote). */
  async lastSeq(): Promise<number> {
    return (await this.last()).seq;
  }

  /** The last line's seq, and whether it is a write (not a mark): that write may not have reached its disk. */
  async last(): Promise<{ seq: number; write: boolean }> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return { seq: 0, write: false };
      throw error;
    }
    const lines = raw.trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      const [first, disk] = (lines[i] ?? '').split(' ');
      const seq = Number(first);
      if (Number.isSafeInteger(seq) && seq > 0) return { seq, write: disk !== '-' };
    }
    return { seq: 0, write: false };
  }

  async append(write: GuestWrite): Promise<void> {
    this.handle ??= await open(this.file, 'a');
    await this.handle.write(`${write.seq} ${write.disk} ${write.offset}\n`);
  }

  /** A line saying the disks hold writes up to `seq` without the lines before (`<seq> - -`). */
  async mark(seq: number): Promise<void> {
    this.handle ??= await open(this.file, 'a');
    await this.handle.write(`${seq} - -\n`);
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

/** Writes per second of a VM's guest: from its load profile's disk traffic, or FABRIC_SIM_DISK_WRITES_PER_SECOND. */
export function guestWritesPerSecond(diskBytesPerSecond: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FABRIC_SIM_DISK_WRITES_PER_SECOND;
  if (raw !== undefined && raw !== '') {
    const rate = Number(raw);
    if (Number.isFinite(rate) && rate >= 0 && rate <= 10_000) return rate;
    throw new Error(`FABRIC_SIM_DISK_WRITES_PER_SECOND must be a number from 0 to 10000, not "${raw}"`);
  }
  // About a third of the disk traffic is writes: 0.5–20 writes of 4 KiB a second (an idle VM 2–8).
  return Math.min(20, Math.max(0.5, diskBytesPerSecond / 3 / WRITE_BYTES));
}
