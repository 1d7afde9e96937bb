import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIGN_IN_THROTTLE,
  type SignInThrottlePolicy,
  sourceKey,
  throttledBy,
  throttleMessage,
  windowStart,
} from './sign-in-throttle';

const now = new Date('2026-01-01T12:00:00Z');

describe('the default policy', () => {
  it('allows five failures per account and address, twenty per account and twenty per address, per fifteen minutes', () => {
    expect(DEFAULT_SIGN_IN_THROTTLE).toEqual({
      maxFailures: 5,
      maxAccountFailures: 20,
      maxSourceFailures: 20,
      windowMs: 15 * 60_000,
    });
  });
});

describe('windowStart', () => {
  it.each([
    [15 * 60_000, '2026-01-01T11:45:00.000Z'],
    [60_000, '2026-01-01T11:59:00.000Z'],
    [24 * 3_600_000, '2025-12-31T12:00:00.000Z'],
  ])('a %i ms window started at %s', (windowMs, start) => {
    expect(windowStart(now, { ...DEFAULT_SIGN_IN_THROTTLE, windowMs }).toISOString()).toBe(start);
  });
});

describe('throttledBy', () => {
  const policy: SignInThrottlePolicy = {
    maxFailures: 3,
    maxAccountFailures: 10,
    maxSourceFailures: 20,
    windowMs: 60_000,
  };

  it.each([
    [{ accountFromSource: 0, account: 0, source: 0 }, null],
    [{ accountFromSource: 2, account: 9, source: 19 }, null],
    // The third failure from one address locks the pair: its next attempt is refused.
    [{ accountFromSource: 3, account: 3, source: 3 }, 'account-from-source'],
    // Another address's owner is not locked out by three failures elsewhere...
    [{ accountFromSource: 0, account: 3, source: 0 }, null],
    // ...until the account's failures from everywhere reach the account limit.
    [{ accountFromSource: 0, account: 10, source: 0 }, 'account'],
    // One address spraying many accounts, each below its own limits.
    [{ accountFromSource: 0, account: 0, source: 20 }, 'source'],
    [{ accountFromSource: 5, account: 50, source: 100 }, 'source'],
  ] as const)('%o → %s', (counts, verdict) => {
    expect(throttledBy(counts, policy)).toBe(verdict);
  });
});

describe('throttleMessage', () => {
  it.each([
    [15 * 60_000, 'Too many failed sign-in attempts. Try again in 15 minutes.'],
    [60_000, 'Too many failed sign-in attempts. Try again in 1 minute.'],
    [30_000, 'Too many failed sign-in attempts. Try again in 1 minute.'], // rounds up, never "0 minutes"
    [90_000, 'Too many failed sign-in attempts. Try again in 2 minutes.'],
  ])('a %i ms window → %j', (windowMs, message) => {
    expect(throttleMessage({ ...DEFAULT_SIGN_IN_THROTTLE, windowMs })).toBe(message);
  });
});

describe('sourceKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    // Every address of one /64 is one source: rotating the interface id gains nothing.
    ['2001:db8:1:2::dead:beef', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s → %s', (address, key) => {
    expect(sourceKey(address)).toBe(key);
  });
});
