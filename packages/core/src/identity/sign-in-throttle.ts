/**
 * Failed sign-in throttling per account: after `maxFailures` failures within
 * `windowMs` (counted since the last success), further attempts are refused
 * until the window has passed, whatever the password. Per account rather than
 * per address, so a password-guessing run from many addresses is slowed too.
 */
export interface SignInThrottlePolicy {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_THROTTLE: SignInThrottlePolicy = { maxFailures: 5, windowMs: 15 * 60_000 };

export function windowStart(now: Date, policy: SignInThrottlePolicy): Date {
  return new Date(now.getTime() - policy.windowMs);
}

export function isThrottled(recentFailures: number, policy: SignInThrottlePolicy): boolean {
  return recentFailures >= policy.maxFailures;
}

export function throttleMessage(policy: SignInThrottlePolicy): string {
  const minutes = Math.ceil(policy.windowMs / 60_000);
  return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
