import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock';
import { RefusalBudget } from './refusal-budget';

function budget(perSourcePerMinute: number, perMinute: number, maxSources = 100) {
  const clock = new FakeClock('2026-01-01T12:00:00Z');
  return { clock, budget: new RefusalBudget({ clock, policy: { perSourcePerMinute, perMinute, maxSources } }) };
}

function writes(b: RefusalBudget, source: string, times: number) {
  return Array.from({ length: times }, () => b.admit(source)).filter((v) => v.write).length;
}

describe('RefusalBudget', () => {
  it('writes a source’s first refusals of a minute and counts the rest', () => {
    const { budget: b } = budget(3, 100);
    expect(writes(b, '203.0.113.7', 1000)).toBe(3);
  });

  it('caps all sources together, however many there are', () => {
    const { budget: b } = budget(3, 10);
    let written = 0;
    for (let i = 0; i < 1000; i++) written += writes(b, `10.0.${i >> 8}.${i & 255}`, 1);
    expect(written).toBe(10);
  });

  it('reports on a source’s next row how many refusals were not written', () => {
    const { clock, budget: b } = budget(2, 100);
    expect(b.admit('a')).toEqual({ write: true, unlogged: 0 });
    expect(b.admit('a')).toEqual({ write: true, unlogged: 0 });
    for (let i = 0; i < 998; i++) expect(b.admit('a')).toEqual({ write: false });
    clock.advance(60_000);
    expect(b.admit('a')).toEqual({ write: true, unlogged: 998 });
    expect(b.admit('a')).toEqual({ write: true, unlogged: 0 });
  });

  it('starts every minute afresh', () => {
    const { clock, budget: b } = budget(2, 3);
    expect(writes(b, 'a', 10) + writes(b, 'b', 10)).toBe(3);
    clock.advance(60_000);
    expect(writes(b, 'a', 10) + writes(b, 'b', 10)).toBe(3);
  });

  it('remembers a bounded number of sources', () => {
    const { budget: b } = budget(1, 1_000_000, 2);
    expect(writes(b, 'a', 5)).toBe(1);
    writes(b, 'b', 1);
    writes(b, 'c', 1); // forgets 'a', the least recently seen
    expect(writes(b, 'a', 1)).toBe(1);
  });
});
