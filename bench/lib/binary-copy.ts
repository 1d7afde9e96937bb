// Postgres binary COPY encoding (https://www.postgresql.org/docs/current/sql-copy.html,
// "Binary Format") for the column types of vm_samples, so a benchmark can
// measure the database's real ingest ceiling: no text parsing on the server,
// rows sent in large chunks.

export type BinaryValue =
  | { type: 'uuid'; value: string }
  | { type: 'timestamptz'; value: Date | string }
  | { type: 'int4'; value: number }
  | { type: 'int8'; value: number }
  | { type: 'numeric'; value: number };

const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);
/** Postgres timestamps count microseconds from 2000-01-01 UTC. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** A numeric as Postgres stores it: base-10,000 digits, a weight, a sign and a display scale. */
function encodeNumeric(value: number): Buffer {
  const text = Math.abs(value).toString();
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`cannot encode ${value} as numeric`);
  const [whole = '0', fraction = ''] = text.split('.');
  const intPart = whole.replace(/^0+/, '');
  const padInt = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const padFrac = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  const digits: number[] = [];
  for (let i = 0; i < padInt.length; i += 4) digits.push(Number(padInt.slice(i, i + 4)));
  for (let i = 0; i < padFrac.length; i += 4) digits.push(Number(padFrac.slice(i, i + 4)));
  let weight = padInt.length / 4 - 1;
  while (digits.length && digits[0] === 0) {
    digits.shift();
    weight--;
  }
  while (digits.length && digits[digits.length - 1] === 0) digits.pop();
  const buf = Buffer.alloc(8 + 2 * digits.length);
  buf.writeInt16BE(digits.length, 0);
  buf.writeInt16BE(digits.length ? weight : 0, 2);
  buf.writeUInt16BE(value < 0 ? 0x4000 : 0, 4);
  buf.writeInt16BE(fraction.length, 6);
  digits.forEach((d, i) => {
    buf.writeInt16BE(d, 8 + 2 * i);
  });
  return buf;
}

function encodeValue(v: BinaryValue): Buffer {
  switch (v.type) {
    case 'uuid':
      return Buffer.from(v.value.replaceAll('-', ''), 'hex');
    case 'timestamptz': {
      const buf = Buffer.alloc(8);
      const ms = (typeof v.value === 'string' ? Date.parse(v.value) : v.value.getTime()) - PG_EPOCH_MS;
      buf.writeBigInt64BE(BigInt(ms) * 1000n);
      return buf;
    }
    case 'int4': {
      const buf = Buffer.alloc(4);
      buf.writeInt32BE(v.value);
      return buf;
    }
    case 'int8': {
      const buf = Buffer.alloc(8);
      buf.writeBigInt64BE(BigInt(v.value));
      return buf;
    }
    case 'numeric':
      return encodeNumeric(v.value);
  }
}

/** One tuple: its field count, then each field's length and bytes. */
export function encodeRow(values: BinaryValue[]): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(2);
  count.writeInt16BE(values.length);
  parts.push(count);
  for (const v of values) {
    const data = encodeValue(v);
    const length = Buffer.alloc(4);
    length.writeInt32BE(data.length);
    parts.push(length, data);
  }
  return Buffer.concat(parts);
}

/** A whole COPY … (FORMAT binary) stream: header, the rows in chunks of about 1 MiB, trailer. */
export function* binaryCopyChunks(rows: Iterable<Buffer>): Generator<Buffer> {
  let chunk: Buffer[] = [HEADER];
  let size = HEADER.length;
  for (const row of rows) {
    chunk.push(row);
    size += row.length;
    if (size >= 1 << 20) {
      yield Buffer.concat(chunk);
      chunk = [];
      size = 0;
    }
  }
  chunk.push(TRAILER);
  yield Buffer.concat(chunk);
}
