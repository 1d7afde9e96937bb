import { FabricError } from './fabric.errors';

export type TokenStatus = 'active' | 'used' | 'expired' | 'revoked';

export interface TokenLifecycle {
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export const TOKEN_TTL_MINUTES = { min: 5, max: 7 * 24 * 60, default: 60 } as const;

/** Used and revoked win over expired: they say what happened, not only when. */
export function tokenStatus(token: TokenLifecycle, now: Date): TokenStatus {
  if (token.usedAt) return 'used';
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** Throws unless the token may register a host now. */
export function assertTokenUsable(token: TokenLifecycle, now: Date): void {
  switch (tokenStatus(token, now)) {
    case 'used':
      throw new FabricError('TOKEN_USED', 'This registration token has already been used. Create a new one.');
    case 'revoked':
      throw new FabricError('TOKEN_REVOKED', 'This registration token was revoked. Create a new one.');
    case 'expired':
      throw new FabricError('TOKEN_EXPIRED', 'This registration token has expired. Create a new one.');
    case 'active':
      return;
  }
}

export function tokenExpiry(now: Date, ttlMinutes: number): Date {
  return new Date(now.getTime() + ttlMinutes * 60_000);
}
