import { describe, expect, it } from 'vitest';
import { byteScale, niceTicks, timeTickIndexes } from './chart-scale';

describe('chart axes', () => {
  it.each([
    [1250, [0, 500, 1000, 1500]],
    [3, [0, 1, 2, 3]],
    [0.9, [0, 0.25, 0.5, 0.75, 1]],
    [0, [0, 1]],
  ])('nice ticks up to %s reach at least the maximum', (max, ticks) => {
    expect(niceTicks(max)).toEqual(ticks);
  });

  it('picks a binary unit from the largest value', () => {
    expect(byteScale(2.5 * 1024 ** 3)).toEqual({ divisor: 1024 ** 3, unit: 'GiB' });
    expect(byteScale(1023)).toEqual({ divisor: 1, unit: 'B' });
    expect(byteScale(0)).toEqual({ divisor: 1, unit: 'B' });
  });

  it('labels hourly points over days at UTC midnights', () => {
    const start = Date.UTC(2026, 10, 18, 14);
    const times = Array.from({ length: 168 }, (_, i) => new Date(start + i * 3_600_000));
    const labelled = timeTickIndexes(times, 'hour', 8).map((i) => times[i]?.getUTCHours());
    expect(labelled.length).toBeGreaterThan(3);
    expect(new Set(labelled)).toEqual(new Set([0]));
  });
});
