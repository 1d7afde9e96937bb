import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIGN_IN_THROTTLE,
  isThrottled,
  type SignInThrottlePolicy,
  throttleMessage,
  windowStart,
} from './sign-in-throttle';

const now = new Date('2026-01-01T12:00:00Z');

describe('the default policy', () => {
  it('allows five failures per fifteen minutes', () => {
    expect(DEFAULT_SIGN_IN_THROTTLE).toEqual({ maxFailures: 5, windowMs: 15 * 60_000 });
  });
});

describe('windowStart', () => {
  it.each([
    [15 * 60_000, '2026-01-01T11:45:00.000Z'],
    [60_000, '2026-01-01T11:59:00.000Z'],
    [24 * 3_600_000, '2025-12-31T12:00:00.000Z'],
  ])('a %i ms window started at %s', (windowMs, start) => {
    expect(windowStart(now, { maxFailures: 5, windowMs }).toISOString()).toBe(start);
  });
});

describe('isThrottled', () => {
  const policy: SignInThrottlePolicy = { maxFailures: 3, windowMs: 60_000 };

  it.each([
    [0, false],
    [2, false],
    [3, true], // the third failure locks the account: the next attempt is refused
    [4, true],
    [100, true],
  ])('%i recent failures → %s', (failures, throttled) => {
    expect(isThrottled(failures, policy)).toBe(throttled);
  });
});

describe('throttleMessage', () => {
  it.each([
    [15 * 60_000, 'Too many failed sign-in attempts. Try again in 15 minutes.'],
    [60_000, 'Too many failed sign-in attempts. Try again in 1 minute.'],
    [30_000, 'Too many failed sign-in attempts. Try again in 1 minute.'], // rounds up, never "0 minutes"
    [90_000, 'Too many failed sign-in attempts. Try again in 2 minutes.'],
  ])('a %i ms window → %j', (windowMs, message) => {
    expect(throttleMessage({ maxFailures: 5, windowMs })).toBe(message);
  });
});
