import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPLAY_BUMP, SeqCounter } from './seq';
import { StateStore } from './state-store';

describe('SeqCounter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-seq-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('follows the clock and stays strictly increasing within a run', async () => {
    let now = 1_000;
    const seq = await SeqCounter.load(new StateStore(dir), () => now);
    expect(await seq.next()).toBe(1_000);
    // Same millisecond: still increases.
    expect(await seq.next()).toBe(1_001);
    now = 5_000;
    expect(await seq.next()).toBe(5_000);
  });

  it('keeps increasing across a restart even when the clock stepped back', async () => {
    let now = 1_000_000;
    const first = await SeqCounter.load(new StateStore(dir), () => now);
    await first.next();
    first.bumpAfterReplay();
    const lastBeforeRestart = await first.next();
    expect(lastBeforeRestart).toBe(1_000_000 + REPLAY_BUMP + 1);

    // A new process, with a clock an hour behind.
    now = 1_000_000 - 3_600_000;
    const second = await SeqCounter.load(new StateStore(dir), () => now);
    const afterRestart = await second.next();
    expect(afterRestart).toBeGreaterThan(lastBeforeRestart);
  });

  it('falls back to the clock when the seq file is lost', async () => {
    const seq = await SeqCounter.load(new StateStore(path.join(dir, 'missing')), () => 42_000);
    expect(await seq.next()).toBe(42_000);
  });
});
