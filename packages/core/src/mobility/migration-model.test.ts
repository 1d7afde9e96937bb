import { describe, expect, it } from 'vitest';
import { seededRandom } from '../placement/seeded-order';
import {
  DEFAULT_MIGRATION_POLICY,
  dirtiedMiB,
  guestDirtying,
  linkShareMiBps,
  predictMigration,
  simulatePreCopy,
} from './migration-model';

const quiet = { memoryMiB: 8192, workingSetMiB: 2048, dirtyMiBps: 20, linkMbps: 10_000, concurrent: 1 };

describe('migration model', () => {
  it('a quiet VM converges in a few passes with a short pause', () => {
    const p = predictMigration(quiet);
    expect(p.verdict).toBe('ok');
    expect(p.passes[0]?.mib).toBe(8192);
    expect(p.passes.length).toBeLessThanOrEqual(3);
    expect(p.blackoutMs).toBeLessThan(DEFAULT_MIGRATION_POLICY.maxBlackoutMs);
    // 8 GiB at ~1,073 MiB/s: about 7.6 s of first pass.
    expect(p.precopySeconds).toBeGreaterThan(7);
    expect(p.precopySeconds).toBeLessThan(9);
  });

  it('migrations sharing a link share its bandwidth', () => {
    expect(linkShareMiBps(10_000, 4)).toBeCloseTo(linkShareMiBps(10_000, 1) / 4);
    expect(predictMigration({ ...quiet, concurrent: 4 }).totalSeconds).toBeGreaterThan(
      3.5 * predictMigration(quiet).precopySeconds,
    );
  });

  it('dirtied pages saturate at the working set', () => {
    expect(dirtiedMiB(1024, 100, 1000)).toBeCloseTo(1024);
    expect(dirtiedMiB(1024, 100, 0.01)).toBeCloseTo(1, 1);
  });

  it('a VM dirtying faster than its link share is refused with the reason, or capped', () => {
    const hot = { memoryMiB: 16384, workingSetMiB: 8192, dirtyMiBps: 900, linkMbps: 1_000, concurrent: 2 };
    const refused = predictMigration(hot, { ...DEFAULT_MIGRATION_POLICY, nonConverging: 'refuse' });
    expect(refused.verdict).toBe('refused');
    expect(refused.reason).toMatch(/would not converge: the VM dirties 900 MiB\/s .* over the 500 ms limit/);
    const capped = predictMigration(hot, { ...DEFAULT_MIGRATION_POLICY, nonConverging: 'cap' });
    expect(capped.verdict).toBe('capped');
    expect(capped.dirtyMiBps).toBeLessThan(900);
    expect(capped.reason).toMatch(/guest slowed to/);
    expect(capped.blackoutMs).toBeLessThanOrEqual(DEFAULT_MIGRATION_POLICY.maxBlackoutMs);
  });

  it('the page-level simulation lands near the prediction', () => {
    const input = { ...guestDirtying(4, 4096, 0.6), memoryMiB: 4096, linkMbps: 10_000, concurrent: 2 };
    const predicted = predictMigration(input);
    const observed = simulatePreCopy(input, DEFAULT_MIGRATION_POLICY, seededRandom(7));
    expect(observed.converged).toBe(true);
    expect(Math.abs(observed.totalSeconds - predicted.totalSeconds) / predicted.totalSeconds).toBeLessThan(0.15);
  });
});
