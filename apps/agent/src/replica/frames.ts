import { BLOCK_BYTES } from '../disks/blocks';

/**
 * The block frame, used on the wire (a cycle's PUT bodies) and on disk (a
 * point's staging and undo files): a 16-byte header then the payload.
 *
 *   u8  flags      bit 0: payload is deflate-raw (node:zlib) of the block
 *   u8  reserved
 *   u16 disk       index of the disk in the relationship's disk list
 *   u32 block      block index (64 KiB blocks)
 *   u32 length     the block's length uncompressed (≤ 65536)
 *   u32 payload    bytes of payload that follow
 */
export const FRAME_HEADER_BYTES = 16;
export const FLAG_DEFLATE = 1;

export interface Frame {
  disk: number;
  block: number;
  length: number;
  deflated: boolean;
  payload: Buffer;
}

export function encodeHeader(frame: Omit<Frame, 'payload'> & { payloadBytes: number }): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt8(frame.deflated ? FLAG_DEFLATE : 0, 0);
  header.writeUInt16LE(frame.disk, 2);
  header.writeUInt32LE(frame.block, 4);
  header.writeUInt32LE(frame.length, 8);
  header.writeUInt32LE(frame.payloadBytes, 12);
  return header;
}

/** Frames of a body, checked: a malformed body throws (the whole batch is refused). */
export function* decodeFrames(body: Buffer, diskCount: number): Generator<Frame> {
  let at = 0;
  while (at < body.length) {
    if (body.length - at < FRAME_HEADER_BYTES) throw new Error('truncated frame header');
    const flags = body.readUInt8(at);
    const disk = body.readUInt16LE(at + 2);
    const block = body.readUInt32LE(at + 4);
    const length = body.readUInt32LE(at + 8);
    const payloadBytes = body.readUInt32LE(at + 12);
    at += FRAME_HEADER_BYTES;
    if (disk >= diskCount) throw new Error(`frame for disk ${disk}; the relationship has ${diskCount}`);
    if (length < 1 || length > BLOCK_BYTES) throw new Error(`frame block length ${length}`);
    if (payloadBytes > body.length - at) throw new Error('truncated frame payload');
    const deflated = (flags & FLAG_DEFLATE) !== 0;
    if (!deflated && payloadBytes !== length) throw new Error('frame payload does not match its length');
    yield { disk, block, length, deflated, payload: body.subarray(at, at + payloadBytes) };
    at += payloadBytes;
  }
}
