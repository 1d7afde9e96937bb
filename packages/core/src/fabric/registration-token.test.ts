import { describe, expect, it } from 'vitest';
import { FabricError } from './fabric.errors';
import { assertTokenUsable, tokenExpiry, tokenStatus } from './registration-token';
import { hashSecret, newRegistrationToken, parseHostCredential, secretMatches } from './secrets';

const now = new Date('2026-01-01T12:00:00Z');
const token = (over: Partial<{ expiresAt: Date; usedAt: Date | null; revokedAt: Date | null }> = {}) => ({
  expiresAt: tokenExpiry(now, 60),
  usedAt: null,
  revokedAt: null,
  ...over,
});

describe('registration token lifecycle', () => {
  it('is active until it expires, exactly at its expiry time', () => {
    expect(tokenStatus(token(), now)).toBe('active');
    expect(tokenStatus(token(), new Date(now.getTime() + 60 * 60_000 - 1))).toBe('active');
    expect(tokenStatus(token(), new Date(now.getTime() + 60 * 60_000))).toBe('expired');
  });

  it('says used or revoked rather than expired', () => {
    const later = new Date(now.getTime() + 24 * 3_600_000);
    expect(tokenStatus(token({ usedAt: now }), later)).toBe('used');
    expect(tokenStatus(token({ revokedAt: now }), later)).toBe('revoked');
  });

  it.each([
    [{ usedAt: now }, 'TOKEN_USED'],
    [{ revokedAt: now }, 'TOKEN_REVOKED'],
    [{ expiresAt: now }, 'TOKEN_EXPIRED'],
  ] as const)('refuses %o with %s', (over, code) => {
    try {
      assertTokenUsable(token(over), now);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FabricError);
      expect((error as FabricError).code).toBe(code);
    }
  });
});

describe('secrets', () => {
  it('tokens are 256-bit, unique, and stored only as their hash', () => {
    const a = newRegistrationToken();
    const b = newRegistrationToken();
    expect(a.token).not.toBe(b.token);
    expect(a.token.length).toBeGreaterThanOrEqual(4 + 43);
    expect(a.hash).toBe(hashSecret(a.token));
    expect(a.hash).not.toContain(a.token.slice(4));
    expect(a.token.startsWith(a.prefix)).toBe(true);
  });

  it('matches a secret against its hash, and nothing else', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret'))).toBe(true);
    expect(secretMatches('s3cret!', hashSecret('s3cret'))).toBe(false);
    expect(secretMatches('s3cret', 'not-hex')).toBe(false);
  });

  it('parses host credentials and refuses malformed ones', () => {
    const id = '7d3f9a4e-2b1c-4e5f-8a9b-0c1d2e3f4a5b';
    expect(parseHostCredential(`${id}.abc`)).toEqual({ hostId: id, secret: 'abc' });
    expect(parseHostCredential('abc')).toBeNull();
    expect(parseHostCredential(`${id}.`)).toBeNull();
    expect(parseHostCredential('not-a-uuid.abc')).toBeNull();
  });
});
