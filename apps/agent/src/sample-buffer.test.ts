import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from './log';
import { SampleBuffer } from './sample-buffer';

const T0 = Date.UTC(2024, 2, 4, 9);

/** `count` samples for the interval `interval` (minutes after T0), one per VM. */
function interval(minute: number, count: number): VmSample[] {
  return Array.from({ length: count }, (_, vm) => ({
    vmId: `00000000-0000-4000-8000-${String(vm).padStart(12, '0')}`,
    at: new Date(T0 + minute * 60_000).toISOString(),
    intervalSeconds: 60,
    cpuAvgMhz: 100 + vm,
    memoryAvgMiB: 1024,
    memoryMinMiB: 1024,
    memoryMaxMiB: 1024,
    diskAllocatedGiB: 40,
    diskReadBytes: 1,
    diskWriteBytes: 2,
    networkInInternetBytes: 3,
    networkOutInternetBytes: 4,
    networkInDatacenterBytes: 5,
    networkOutDatacenterBytes: 6,
  }));
}

describe('SampleBuffer', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'fabric-buffer-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  async function open(maxSamples = 100, maxBodyBytes?: number) {
    const log = createMemoryLogger();
    const buffer = new SampleBuffer({ stateDir, maxSamples, maxBodyBytes, log });
    await buffer.open();
    return { buffer, log };
  }

  /** Takes and acknowledges everything, returning the batches in the order they came. */
  async function drain(buffer: SampleBuffer) {
    const out: { batch: number; dropped: number; ats: string[] }[] = [];
    for (let batch = await buffer.take(); batch !== null; batch = await buffer.take()) {
      out.push({ batch: batch.batch, dropped: batch.dropped, ats: [...new Set(batch.samples.map((s) => s.at))] });
      await buffer.release(batch.batch, 'acknowledged');
    }
    return out;
  }

  it('hands out batches oldest first and deletes them once acknowledged', async () => {
    const { buffer } = await open();
    for (let m = 1; m <= 3; m += 1) await buffer.append(interval(m, 4));
    expect(buffer.size).toBe(12);
    const first = await buffer.take();
    expect(first?.batch).toBe(1);
    // Not acknowledged: it stays first in line.
    await buffer.release(1, 'kept');
    expect((await buffer.take())?.batch).toBe(1);
    await buffer.release(1, 'acknowledged');
    expect((await drain(buffer)).map((b) => b.batch)).toEqual([2, 3]);
    expect(buffer.size).toBe(0);
    expect((await readdir(buffer.dir)).filter((f) => f.startsWith('batch-'))).toEqual([]);
  });

  it('when full drops the oldest samples first and reports how many in the next batch', async () => {
    const { buffer } = await open(10);
    await buffer.append(interval(1, 4)); // batch 1
    await buffer.append(interval(2, 4)); // batch 2
    expect(await buffer.append(interval(3, 4))).toEqual({ batches: [3], dropped: 2 }); // 2 of batch 1 go
    expect(buffer.size).toBe(10);
    expect(await buffer.append(interval(4, 4))).toEqual({ batches: [4], dropped: 4 }); // the rest of 1, 2 of 2
    expect(buffer.size).toBe(10);
    const batches = await drain(buffer);
    expect(batches).toEqual([
      { batch: 2, dropped: 0, ats: [new Date(T0 + 2 * 60_000).toISOString()] },
      { batch: 3, dropped: 2, ats: [new Date(T0 + 3 * 60_000).toISOString()] },
      { batch: 4, dropped: 4, ats: [new Date(T0 + 4 * 60_000).toISOString()] },
    ]);
  });

  it('hands on the dropped count of a batch that is itself dropped, so no loss goes unreported', async () => {
    const { buffer } = await open(4);
    await buffer.append(interval(1, 4));
    await buffer.append(interval(2, 4)); // drops all of 1: dropped 4
    await buffer.append(interval(3, 4)); // drops all of 2 (which carried 4): dropped 4 + 4
    const batches = await drain(buffer);
    expect(batches.map((b) => [b.batch, b.dropped])).toEqual([[3, 8]]);
  });

  it('never trims the batch being sent', async () => {
    const { buffer } = await open(4);
    await buffer.append(interval(1, 4));
    const sending = await buffer.take();
    await buffer.append(interval(2, 4));
    expect(buffer.size).toBe(8);
    await buffer.release(sending?.batch ?? 0, 'acknowledged');
    expect((await drain(buffer)).map((b) => [b.batch, b.dropped])).toEqual([[2, 0]]);
  });

  it('a refused batch is deleted and hands on its dropped count', async () => {
    const { buffer } = await open(4);
    await buffer.append(interval(1, 4));
    await buffer.append(interval(2, 4)); // batch 2 carries dropped 4
    const refused = await buffer.take();
    expect(refused).toMatchObject({ batch: 2, dropped: 4 });
    await buffer.release(2, 'refused');
    expect(buffer.pendingDroppedCount).toBe(4);
    await buffer.append(interval(3, 1));
    expect((await drain(buffer)).map((b) => [b.batch, b.dropped])).toEqual([[3, 4]]);
  });

  it('resumes its batches and their numbering after a restart, also when all were sent', async () => {
    const first = await open(10);
    await first.buffer.append(interval(1, 4));
    await first.buffer.append(interval(2, 4));
    await first.buffer.append(interval(3, 4)); // 2 dropped
    const second = await open(10);
    expect(second.buffer.batchNumbers).toEqual([1, 2, 3]);
    expect(second.buffer.size).toBe(10);
    expect((await drain(second.buffer)).map((b) => [b.batch, b.dropped])).toEqual([
      [1, 0],
      [2, 0],
      [3, 2],
    ]);
    const third = await open(10);
    expect(third.buffer.size).toBe(0);
    expect(await third.buffer.append(interval(4, 1))).toEqual({ batches: [4], dropped: 0 });
  });

  it('keeps the numbering when meta.json is behind a batch file (crash between the two writes)', async () => {
    const { buffer } = await open(10);
    await buffer.append(interval(1, 2));
    await writeFile(path.join(buffer.dir, 'meta.json'), '{"version":1,"lastBatch":0,"pendingDropped":3}');
    const again = await open(10);
    // Batch 1 exists, so the pending count already went into it.
    expect([again.buffer.lastBatchNumber, again.buffer.pendingDroppedCount]).toEqual([1, 0]);
    expect((await again.buffer.append(interval(2, 1))).batches).toEqual([2]);
  });

  it('moves a damaged batch file aside and goes on', async () => {
    const { buffer } = await open();
    await buffer.append(interval(1, 2));
    await buffer.append(interval(2, 2));
    await writeFile(path.join(buffer.dir, 'batch-0000000000000001.json'), '{"version":1,"batch":1,');
    const again = await open();
    expect(again.buffer.batchNumbers).toEqual([2]);
    expect(again.log.lines.join('\n')).toContain('damaged');
    expect(await readdir(buffer.dir)).toContain('batch-0000000000000001.json.damaged');
  });

  it('splits an interval into batches that each fit the API body limit', async () => {
    const { buffer } = await open(1000, 16 * 1024);
    const result = await buffer.append(interval(1, 200));
    expect(result.batches.length).toBeGreaterThan(2);
    let total = 0;
    for (const batch of result.batches) {
      const file = path.join(buffer.dir, `batch-${String(batch).padStart(16, '0')}.json`);
      const content = JSON.parse(await readFile(file, 'utf8'));
      total += content.samples.length;
      const body = JSON.stringify({ seq: Number.MAX_SAFE_INTEGER, batch, dropped: 0, samples: content.samples });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(16 * 1024);
    }
    expect(total).toBe(200);
  });
});
