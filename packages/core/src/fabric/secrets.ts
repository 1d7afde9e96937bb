import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Registration tokens and host credentials are 256-bit random secrets. Only
 * their SHA-256 is stored: with that much entropy a fast hash is enough (no
 * password-style stretching needed), and lookups by hash stay indexed.
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const TOKEN_PREFIX = 'fbr_';

export function newRegistrationToken(): { token: string; hash: string; prefix: string } {
  const token = `${TOKEN_PREFIX}${newSecret()}`;
  return { token, hash: hashSecret(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) };
}

/** A host credential is `<hostId>.<secret>`; the host id tells which hash to compare. */
export function parseHostCredential(credential: string): { hostId: string; secret: string } | null {
  const dot = credential.indexOf('.');
  if (dot <= 0 || dot === credential.length - 1) return null;
  const hostId = credential.slice(0, dot);
  if (!/^[0-9a-f-]{36}$/i.test(hostId)) return null;
  return { hostId, secret: credential.slice(dot + 1) };
}
