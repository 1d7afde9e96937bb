import { isIP } from 'node:net';

/**
 * Failed sign-in throttling, counted three ways within `windowMs`:
 *
 * - one account from one source (`maxFailures`): the guesser is stopped
 *   after a few tries, while the account's owner, elsewhere, still signs in;
 * - one account from any source (`maxAccountFailures`, higher): a guessing
 *   run spread over many addresses is stopped too, at the price that such a
 *   run also locks the owner out until the window has passed;
 * - one source, any account (`maxSourceFailures`): one client spraying many
 *   (often unknown) e-mails is stopped, whatever the password.
 *
 * Account counts start again after the account's last successful sign-in
 * (from that source, resp. from anywhere). A source's count does not: an
 * attacker who owns one account must not reset it by signing in to it.
 */
export interface SignInThrottlePolicy {
  maxFailures: number;
  maxAccountFailures: number;
  maxSourceFailures: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_THROTTLE: SignInThrottlePolicy = {
  maxFailures: 5,
  maxAccountFailures: 20,
  maxSourceFailures: 20,
  windowMs: 15 * 60_000,
};

/** Denied sign-ins (wrong e-mail or password) within the window. */
export interface SignInFailureCounts {
  /** Of this account from this source, since its last success from there. */
  accountFromSource: number;
  /** Of this account from anywhere, since its last success. */
  account: number;
  /** From this source, to any account. */
  source: number;
}

export type ThrottledBy = 'account-from-source' | 'account' | 'source';

export function windowStart(now: Date, policy: SignInThrottlePolicy): Date {
  return new Date(now.getTime() - policy.windowMs);
}

/** Which limit refuses the next attempt, or null when it may go ahead. */
export function throttledBy(counts: SignInFailureCounts, policy: SignInThrottlePolicy): ThrottledBy | null {
  if (counts.source >= policy.maxSourceFailures) return 'source';
  if (counts.accountFromSource >= policy.maxFailures) return 'account-from-source';
  if (counts.account >= policy.maxAccountFailures) return 'account';
  return null;
}

export function throttleMessage(policy: SignInThrottlePolicy): string {
  const minutes = Math.ceil(policy.windowMs / 60_000);
  return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * The key a source is throttled by. An IPv6 client usually holds a whole /64
 * (SLAAC, privacy addresses), so it is one source; an IPv4-mapped address
 * is its IPv4 address. Anything else (no address) is kept as it is.
 */
export function sourceKey(address: string): string {
  const v4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (v4?.[1]) return v4[1];
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
