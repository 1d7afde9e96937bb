import { createHash } from 'node:crypto';

/**
 * Units of the simulated disks. A disk is tracked, hashed and shipped in
 * blocks of BLOCK_BYTES (64 KiB, like a VHDX's sector bitmap granularity is
 * coarse but cheap); the simulated guest writes WRITE_BYTES (4 KiB) at a time.
 */
export const BLOCK_BYTES = 64 * 1024;
export const WRITE_BYTES = 4 * 1024;
const MIB = 1024 * 1024;

/** The default bound of a disk's guest working set (FABRIC_SIM_DISK_WORKING_SET_MIB): 16 MiB. */
export const DEFAULT_WORKING_SET_MIB = 16;

export function workingSetBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FABRIC_SIM_DISK_WORKING_SET_MIB;
  const mib = raw === undefined || raw === '' ? DEFAULT_WORKING_SET_MIB : Number(raw);
  if (!Number.isFinite(mib) || mib < 1 || mib > 4096) {
    throw new Error(`FABRIC_SIM_DISK_WORKING_SET_MIB must be a number from 1 to 4096 (MiB), not "${raw}"`);
  }
  return Math.floor(mib) * MIB;
}

export function blockCount(sizeBytes: number): number {
  return Math.ceil(sizeBytes / BLOCK_BYTES);
}

/** Bytes of block `index` in a disk of `sizeBytes` (the last block may be short). */
export function blockLength(index: number, sizeBytes: number): number {
  return Math.min(BLOCK_BYTES, sizeBytes - index * BLOCK_BYTES);
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_BYTES);

export function isZero(data: Buffer): boolean {
  return data.length <= BLOCK_BYTES ? data.equals(ZERO_BLOCK.subarray(0, data.length)) : data.every((b) => b === 0);
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A disk's sha256, defined on its content only (so a sparse file, a file with
 * written zeros, a replica built from deltas and a replayed guest all agree):
 * sha256 over `fabric-disk-v1 <sizeBytes>\n` followed by `<index> <block sha256>\n`
 * for every block that is not all zeros, in index order. Reading only the
 * blocks ever written keeps it cheap on a sparse 1 TiB disk.
 */
export class DiskDigest {
  private readonly hash = createHash('sha256');

  constructor(sizeBytes: number) {
    this.hash.update(`fabric-disk-v1 ${sizeBytes}\n`);
  }

  /** Blocks in increasing index order; all-zero blocks are skipped. */
  add(index: number, block: Buffer): void {
    this.addHash(index, sha256Hex(block), block.length);
  }

  /** The same with the block's sha256 known already. */
  addHash(index: number, blockSha256: string, length: number): void {
    if (blockSha256 === zeroSha256(length)) return;
    this.hash.update(`${index} ${blockSha256}\n`);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

const zeroHashes = new Map<number, string>();

/** sha256 of `length` zero bytes (a block never written, or written with zeros). */
export function zeroSha256(length: number): string {
  let hash = zeroHashes.get(length);
  if (!hash) {
    hash = sha256Hex(Buffer.alloc(length));
    zeroHashes.set(length, hash);
  }
  return hash;
}
