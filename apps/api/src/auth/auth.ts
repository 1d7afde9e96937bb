import type { PasswordHasher } from '@fabric/core/tenancy/tenancy-repository';
import { betterAuth } from 'better-auth';
import { prismaAdapter } from 'better-auth/adapters/prisma';
import { hashPassword } from 'better-auth/crypto';
import type { PrismaClient } from '../repositories/prisma';

/**
 * better-auth owns password hashing (scrypt) and server-side sessions in
 * Postgres. Public sign-up is off: provider and tenant admins create users.
 * Its own rate limiter is off because sign-in throttling is per account and
 * audited (auth/sign-in-gate.ts).
 */
export function createAuth(options: { prisma: PrismaClient; publicUrl: string; secret: string }) {
  return betterAuth({
    appName: 'Fabric',
    baseURL: options.publicUrl,
    basePath: '/api/auth',
    secret: options.secret,
    trustedOrigins: [options.publicUrl],
    database: prismaAdapter(options.prisma, { provider: 'postgresql' }),
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 10, maxPasswordLength: 128 },
    session: { expiresIn: 60 * 60 * 12, updateAge: 60 * 60 },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { level: 'error' },
    advanced: {
      cookiePrefix: 'fabric',
      defaultCookieAttributes: { httpOnly: true, sameSite: 'lax' },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

export const betterAuthPasswords: PasswordHasher = { hash: (password) => hashPassword(password) };
