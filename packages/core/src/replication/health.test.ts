import { describe, expect, it } from 'vitest';
import { evaluateHealth, HealthBook, type HealthFacts } from './health';
import { pointsToKeep } from './retention';
import { compliance } from './rpo';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const facts = (over: Partial<HealthFacts> = {}): HealthFacts => ({
  id: 'r1',
  tenantId: 't1',
  replicaClusterId: 'c2',
  state: 'replicating',
  frequencySeconds: 300,
  lastSuccessAt: T0,
  misses: [],
  ...over,
});

describe('health', () => {
  it('critical when failed, paused or needing resync; warning beyond 20% missed in the hour', () => {
    expect(evaluateHealth(facts({ state: 'paused' }), T0).health).toBe('critical');
    expect(evaluateHealth(facts({ state: 'resync-needed' }), T0).health).toBe('critical');
    expect(evaluateHealth(facts({ state: 'error' }), T0).health).toBe('critical');
    // 5 min: 12 cycles an hour, more than 2 missed is a warning.
    expect(evaluateHealth(facts(), T0 + 14 * 60_000).health).toBe('normal'); // 1 implicit miss
    expect(evaluateHealth(facts(), T0 + 15 * 60_000).health).toBe('normal'); // 2
    const late = evaluateHealth(facts(), T0 + 20 * 60_000); // 3
    expect(late.health).toBe('warning');
    expect(late.reason).toMatch(/3 of 12 cycles missed/);
    // Recorded misses before the latest point count until they leave the hour.
    const m = [T0 - 50 * 60_000, T0 - 40 * 60_000, T0 - 30 * 60_000];
    const v = evaluateHealth(facts({ misses: m }), T0 + 60_000);
    expect(v.health).toBe('warning');
    expect(v.changesAt).toBe((m[0] as number) + 3_600_000);
  });

  it('changesAt is exactly when the clock alone turns it warning', () => {
    const v = evaluateHealth(facts(), T0);
    expect(evaluateHealth(facts(), (v.changesAt as number) - 1).health).toBe('normal');
    expect(evaluateHealth(facts(), v.changesAt as number).health).toBe('warning');
  });

  it('a tick re-evaluates only what is due; roll-ups follow the changes', () => {
    const book = new HealthBook();
    for (let i = 0; i < 1000; i++)
      book.update(facts({ id: `r${i}`, tenantId: `t${i % 3}`, lastSuccessAt: T0 + i * 1000 }), T0 + i * 1000);
    const before = book.evaluations;
    expect(book.tick(T0 + 1000 * 1000)).toHaveLength(0);
    expect(book.evaluations - before).toBe(0);
    const changes = book.tick(T0 + 20 * 60_000 + 10_000);
    expect(changes.length).toBe(11); // r0..r10 crossed the limit
    expect(book.evaluations - before).toBe(11);
    const total = ['t0', 't1', 't2'].reduce((s, t) => s + book.tenantRollup(t).warning, 0);
    expect(total).toBe(11);
  });
});

describe('retention', () => {
  it('keeps the latest and the latest of each of the N hours before it', () => {
    const at = (min: number) => new Date(T0 + min * 60_000);
    const points = [0, 10, 50, 70, 130, 150, 190].map((m, i) => ({ id: `p${i}`, takenAt: at(m), removedAt: null }));
    expect(pointsToKeep(points, 0).keep).toEqual(['p6']);
    // Latest at 190 (hour 3): hour 2 → p5 (150), hour 1 → p3 (70).
    expect(pointsToKeep(points, 2).keep).toEqual(['p6', 'p5', 'p3']);
  });

  it("an hour's application-consistent point stands for it, and the latest hour's stays beside the latest", () => {
    const at = (min: number) => new Date(T0 + min * 60_000);
    const kinds = ['app-consistent', 'standard', 'standard', 'app-consistent', 'standard', 'standard', 'standard'];
    const points = [0, 10, 50, 70, 130, 150, 190].map((m, i) => ({
      id: `p${i}`,
      takenAt: at(m),
      removedAt: null,
      kind: kinds[i] as 'standard' | 'app-consistent',
    }));
    // Hour 1 → p3 (app-consistent at 70, not the later standard ones); hour 2 → p5 (no app-consistent point in it).
    expect(pointsToKeep(points, 2).keep).toEqual(['p6', 'p5', 'p3']);
    // Hour 0 → p0 (app-consistent at 0) rather than p2 (50).
    expect(pointsToKeep(points, 3).keep).toEqual(['p6', 'p5', 'p3', 'p0']);
    // An application-consistent point in the latest hour stays beside the latest; with no additional points only the latest.
    const now = [
      ...points,
      { id: 'p7', takenAt: at(200), removedAt: null, kind: 'app-consistent' as const },
      { id: 'p8', takenAt: at(210), removedAt: null, kind: 'standard' as const },
    ];
    expect(pointsToKeep(now, 1).keep).toEqual(['p8', 'p7', 'p5']);
    expect(pointsToKeep(now, 0).keep).toEqual(['p8']);
  });
});

describe('RPO compliance', () => {
  it('is the share of time with a point no older than the RPO', () => {
    const min = 60_000;
    // Points every 5 min for an hour, except a 20-minute gap (30 → 50): RPO 10 min breached 10 min.
    const times = [0, 5, 10, 15, 20, 25, 30, 50, 55].map((m) => T0 + m * min);
    const c = compliance(times, 10 * min, T0, T0 + 60 * min, 30 * min, T0 - 60 * min);
    expect(c.share).toBeCloseTo(50 / 60);
    expect(c.buckets.map((b) => b.share)).toEqual([1, 20 / 30]);
  });
});
