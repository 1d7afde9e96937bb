import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs, baseDelayMs, DEFAULT_BACKOFF } from './backoff';

describe('backoff', () => {
  it('doubles from 500 ms and caps at 30 s', () => {
    const schedule = Array.from({ length: 10 }, (_, i) => baseDelayMs(i + 1, DEFAULT_BACKOFF));
    expect(schedule).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });

  it('jitters within ±20 % and never above the cap', () => {
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, () => 0)).toBe(400);
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, () => 0.999999)).toBe(600);
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(20, DEFAULT_BACKOFF, () => 0.999999)).toBe(30000);
    expect(backoffDelayMs(20, DEFAULT_BACKOFF, () => 0)).toBe(24000);
  });

  it('survives absurd attempt counts', () => {
    expect(baseDelayMs(100_000, DEFAULT_BACKOFF)).toBe(30000);
  });

  it('counts attempts and starts over after reset', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF, () => 0.5);
    expect(backoff.next()).toEqual({ attempt: 1, delayMs: 500 });
    expect(backoff.next()).toEqual({ attempt: 2, delayMs: 1000 });
    expect(backoff.attempts).toBe(2);
    backoff.reset();
    expect(backoff.next()).toEqual({ attempt: 1, delayMs: 500 });
  });
});
