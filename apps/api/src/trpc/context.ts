import type { IncomingMessage } from 'node:http';
import type { Caller } from '@fabric/core/shared/tenant-scope';
import type { Services } from '../composition';
import { clientAddress, headersOf } from '../http/request';
import type { StreamSession } from './session-bound-streams';

/**
 * What routers and export routes may use: the services, never the database
 * handles (Prisma, the pg pool, the repositories), so every read and write
 * goes through a use case.
 */
export type RouterServices = Omit<Services, 'prisma' | 'pool' | 'agentPool' | 'uow'>;

export interface Context {
  caller: Caller | null;
  services: RouterServices;
  source: string;
  /** How a live stream opened by this call learns that its session ended (session-bound-streams.ts). */
  streamSession?: StreamSession;
}

/** How often a live stream reads its session again while it waits for events (FABRIC_STREAM_SESSION_CHECK_MS). */
export const DEFAULT_STREAM_SESSION_CHECK_MS = 10_000;

/** Resolves the session cookie to a caller: user, role and tenant come from the membership, never from input. */
export async function createContext(
  services: RouterServices,
  req: IncomingMessage,
  streamSessionCheckMs = DEFAULT_STREAM_SESSION_CHECK_MS,
): Promise<Context> {
  const source = clientAddress(req);
  const headers = headersOf(req);
  const session = await services.auth.api.getSession({ headers }).catch(() => null);
  if (!session) return { caller: null, services, source };
  const membership = await services.tenancy.findMembership(session.user.id);
  if (!membership) return { caller: null, services, source };
  return {
    caller: {
      userId: session.user.id,
      email: session.user.email,
      name: session.user.name,
      role: membership.role,
      tenantId: membership.tenantId,
    },
    services,
    source,
    streamSession: {
      everyMs: streamSessionCheckMs,
      // The same cookie, read again: signed out, revoked or expired sessions are gone from the database.
      async stillValid() {
        const now = await services.auth.api.getSession({ headers });
        if (!now || now.session.id !== session.session.id) return false;
        const current = await services.tenancy.findMembership(now.user.id);
        return current?.role === membership.role && current.tenantId === membership.tenantId;
      },
    },
  };
}
