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
  if (length >= 8) data.writeBigUInt64LE(BigInt(seq), 0);
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
 * The write log of a VM, `guest-writes.log` in its disk folder: one line per
 * write, `<seq> <disk> <offset>`, appended before the write. Its last line is
 * the VM's guestWriteSeq after an agent restart; tests count lines after a point.
 */
export class GuestWriteLog {
  private handle: FileHandle | null = null;

  constructor(readonly file: string) {}

  /** The last seq written (0 for a VM that never wrote). */
  async lastSeq(): Promise<number> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return 0;
      throw error;
    }
    const lines = raw.trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      const seq = Number((lines[i] ?? '').split(' ')[0]);
      if (Number.isSafeInteger(seq) && seq > 0) return seq;
    }
    return 0;
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
