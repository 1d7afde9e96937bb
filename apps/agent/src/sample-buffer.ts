import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_MAX_PER_BATCH, type VmSample, vmSampleSchema } from '@fabric/core/metering/sample-protocol.schema';
import { z } from 'zod';
import type { Logger } from './log';
import { StateError, writeFileAtomic } from './state-store';

/**
 * Metering samples waiting for the API, on disk in `<state dir>/samples/`:
 * one file per batch (`batch-<number>.json`, written atomically), plus
 * `meta.json` {lastBatch, pendingDropped} so batch numbers keep increasing
 * across restarts even when every batch was sent and deleted.
 *
 * Bounded by `maxSamples`: appending to a full buffer drops the oldest
 * samples first (whole batches, then the front of a batch), and their number
 * goes into the next batch's `dropped`, so the API learns how much it will
 * never get. A batch that is deleted while it carried a `dropped` count hands
 * that count on, so no loss goes unreported.
 *
 * Crash safety: the count is recorded in meta.json before samples are deleted,
 * so a crash in between over-reports a loss rather than hiding one; a batch
 * file newer than meta.json's lastBatch means the pending count was already
 * written into it.
 */
export interface BufferedBatch {
  batch: number;
  /** Samples dropped before this batch (buffer full), to report with it. */
  dropped: number;
  samples: VmSample[];
}

interface IndexEntry {
  batch: number;
  count: number;
  dropped: number;
}

export interface AppendResult {
  /** Batch numbers written, oldest first (a large interval is split to fit the API's limits). */
  batches: number[];
  /** Samples dropped to make room for these. */
  dropped: number;
}

/** The API's body limit (docs/agent-protocol.md, "Common rules"). */
export const API_MAX_BODY_BYTES = 262_144;
/** Room left for seq, batch and dropped around the samples, with margin. */
const ENVELOPE_BYTES = 1024;

const batchFileSchema = z.object({
  version: z.literal(1),
  batch: z.number().int().min(1),
  dropped: z.number().int().min(0),
  samples: z.array(vmSampleSchema),
});
const metaFileSchema = z.object({
  version: z.literal(1),
  lastBatch: z.number().int().min(0),
  pendingDropped: z.number().int().min(0),
});
const BATCH_FILE = /^batch-(\d{16})\.json$/;

export interface SampleBufferOptions {
  /** The agent's state directory; the buffer lives in `samples/` under it. */
  stateDir: string;
  /** Most samples kept; default 100,000. */
  maxSamples?: number;
  /** Largest request body a batch may make; default the API's 256 KiB. */
  maxBodyBytes?: number;
  log: Logger;
}

export class SampleBuffer {
  readonly dir: string;
  readonly maxSamples: number;
  private readonly maxBodyBytes: number;
  private readonly log: Logger;
  private readonly metaPath: string;
  /** Buffered batches, oldest first. */
  private index: IndexEntry[] = [];
  private lastBatch = 0;
  private pendingDropped = 0;
  private total = 0;
  /** The batch being sent: never trimmed or dropped under the sender. */
  private inFlight: number | null = null;
  private opened = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: SampleBufferOptions) {
    this.dir = path.join(options.stateDir, 'samples');
    this.maxSamples = Math.max(1, options.maxSamples ?? 100_000);
    this.maxBodyBytes = options.maxBodyBytes ?? API_MAX_BODY_BYTES;
    this.log = options.log;
    this.metaPath = path.join(this.dir, 'meta.json');
  }

  /** Samples buffered now. */
  get size(): number {
    return this.total;
  }

  /** Batch numbers buffered now, oldest first. */
  get batchNumbers(): number[] {
    return this.index.map((e) => e.batch);
  }

  /** Dropped samples not yet written into a batch's `dropped`. */
  get pendingDroppedCount(): number {
    return this.pendingDropped;
  }

  /** The number the last batch got (0 before the first). */
  get lastBatchNumber(): number {
    return this.lastBatch;
  }

  /** Reads what an earlier run left; a damaged batch file is moved aside (`.damaged`) and reported. */
  open(): Promise<void> {
    return this.exclusive(async () => {
      if (this.opened) return;
      try {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        const meta = metaFileSchema.safeParse(parseJson(await readIfExists(this.metaPath)));
        this.lastBatch = meta.success ? meta.data.lastBatch : 0;
        this.pendingDropped = meta.success ? meta.data.pendingDropped : 0;
        const names = (await readdir(this.dir)).sort();
        const index: IndexEntry[] = [];
        for (const name of names) {
          const file = path.join(this.dir, name);
          if (name.endsWith('.tmp')) {
            // A write that a crash interrupted; its batch was never complete.
            await rm(file, { force: true });
            continue;
          }
          const match = BATCH_FILE.exec(name);
          if (!match) continue;
          const parsed = batchFileSchema.safeParse(parseJson(await readIfExists(file)));
          if (!parsed.success || parsed.data.batch !== Number(match[1])) {
            this.log.error(`metering: ${file} is damaged; moved aside to ${name}.damaged, its samples are lost`);
            await rename(file, `${file}.damaged`);
            continue;
          }
          index.push({ batch: parsed.data.batch, count: parsed.data.samples.length, dropped: parsed.data.dropped });
        }
        this.index = index;
        this.total = index.reduce((sum, e) => sum + e.count, 0);
        const newest = index.at(-1)?.batch ?? 0;
        if (newest > this.lastBatch) {
          // Written after meta.json last was: the pending count went into that batch.
          this.lastBatch = newest;
          this.pendingDropped = 0;
        }
        this.opened = true;
      } catch (error) {
        if (error instanceof StateError) throw error;
        throw new StateError(`cannot use the sample buffer ${this.dir}: ${describe(error)}`);
      }
    });
  }

  /**
   * Adds one interval's samples as one or more batches (each within the API's
   * sample and body limits), dropping the oldest buffered samples to stay
   * within `maxSamples`.
   */
  append(samples: VmSample[]): Promise<AppendResult> {
    return this.exclusive(async () => {
      this.mustBeOpen();
      const result: AppendResult = { batches: [], dropped: 0 };
      let incoming = samples;
      if (incoming.length > this.maxSamples) {
        // More than the whole buffer holds: keep the last ones.
        const excess = incoming.length - this.maxSamples;
        incoming = incoming.slice(excess);
        result.dropped += excess;
        this.pendingDropped += excess;
      }
      for (const chunk of this.split(incoming)) {
        result.dropped += await this.makeRoom(chunk.length);
        const batch = this.lastBatch + 1;
        const content: BufferedBatch = { batch, dropped: this.pendingDropped, samples: chunk };
        await writeFileAtomic(this.batchPath(batch), JSON.stringify({ version: 1, ...content }));
        this.index.push({ batch, count: chunk.length, dropped: this.pendingDropped });
        this.total += chunk.length;
        this.lastBatch = batch;
        this.pendingDropped = 0;
        await this.saveMeta();
        result.batches.push(batch);
      }
      return result;
    });
  }

  /** The oldest batch, kept safe from trimming until `release`; null when the buffer is empty. */
  take(): Promise<BufferedBatch | null> {
    return this.exclusive(async () => {
      this.mustBeOpen();
      const oldest = this.index[0];
      if (oldest === undefined) return null;
      const parsed = batchFileSchema.safeParse(parseJson(await readIfExists(this.batchPath(oldest.batch))));
      if (!parsed.success) {
        this.log.error(`metering: batch ${oldest.batch} cannot be read back; dropping it`);
        this.forget(oldest, true);
        await this.saveMeta();
        await rm(this.batchPath(oldest.batch), { force: true });
        return null;
      }
      this.inFlight = oldest.batch;
      return { batch: parsed.data.batch, dropped: parsed.data.dropped, samples: parsed.data.samples };
    });
  }

  /**
   * Ends a `take`: `acknowledged` (the API has it) and `refused` (the API will
   * never take it; its `dropped` count is handed on) delete the batch, `kept`
   * leaves it first in line.
   */
  release(batch: number, outcome: 'acknowledged' | 'refused' | 'kept'): Promise<void> {
    return this.exclusive(async () => {
      if (this.inFlight === batch) this.inFlight = null;
      if (outcome === 'kept') return;
      const entry = this.index.find((e) => e.batch === batch);
      if (entry === undefined) return;
      this.forget(entry, outcome === 'refused');
      if (outcome === 'refused' && entry.dropped > 0) await this.saveMeta();
      await rm(this.batchPath(batch), { force: true });
    });
  }

  /** Drops the oldest samples (not the one in flight) until `incoming` more fit; returns how many. */
  private async makeRoom(incoming: number): Promise<number> {
    let excess = this.total + incoming - this.maxSamples;
    if (excess <= 0) return 0;
    const whole: IndexEntry[] = [];
    let partial: { entry: IndexEntry; drop: number } | null = null;
    let dropped = 0;
    for (const entry of this.index) {
      if (excess <= 0) break;
      if (entry.batch === this.inFlight) continue;
      if (entry.count <= excess) {
        whole.push(entry);
        excess -= entry.count;
        dropped += entry.count;
      } else {
        partial = { entry, drop: excess };
        dropped += excess;
        excess = 0;
      }
    }
    if (dropped === 0) return 0;
    // Recorded first: a crash below over-reports the loss, it never hides one.
    this.pendingDropped += dropped + whole.reduce((sum, e) => sum + e.dropped, 0);
    await this.saveMeta();
    for (const entry of whole) {
      this.forget(entry, false);
      await rm(this.batchPath(entry.batch), { force: true });
    }
    if (partial !== null) {
      const { entry, drop } = partial;
      const file = this.batchPath(entry.batch);
      const parsed = batchFileSchema.safeParse(parseJson(await readIfExists(file)));
      const samples = parsed.success ? parsed.data.samples.slice(drop) : [];
      await writeFileAtomic(file, JSON.stringify({ version: 1, batch: entry.batch, dropped: entry.dropped, samples }));
      this.total -= entry.count - samples.length;
      entry.count = samples.length;
    }
    return dropped;
  }

  /** Removes an entry from the index; `carry` hands its `dropped` count to the next batch. */
  private forget(entry: IndexEntry, carry: boolean): void {
    this.index = this.index.filter((e) => e !== entry);
    this.total -= entry.count;
    if (carry) this.pendingDropped += entry.dropped;
  }

  /** Consecutive runs of samples that fit in one request each. */
  private split(samples: VmSample[]): VmSample[][] {
    const chunks: VmSample[][] = [];
    let chunk: VmSample[] = [];
    let bytes = 0;
    const budget = this.maxBodyBytes - ENVELOPE_BYTES;
    for (const sample of samples) {
      const size = Buffer.byteLength(JSON.stringify(sample)) + 1;
      if (chunk.length > 0 && (bytes + size > budget || chunk.length >= SAMPLE_MAX_PER_BATCH)) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(sample);
      bytes += size;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  private saveMeta(): Promise<void> {
    return writeFileAtomic(
      this.metaPath,
      `${JSON.stringify({ version: 1, lastBatch: this.lastBatch, pendingDropped: this.pendingDropped })}\n`,
    );
  }

  private batchPath(batch: number): string {
    return path.join(this.dir, `batch-${String(batch).padStart(16, '0')}.json`);
  }

  private mustBeOpen(): void {
    if (!this.opened) throw new Error('sample buffer used before open()');
  }

  /** One change at a time: the collector and the sender share the files. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
}

function parseJson(raw: string | null): unknown {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
