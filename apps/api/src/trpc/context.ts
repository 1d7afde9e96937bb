import type { IncomingMessage } from 'node:http';
import type { Caller } from '@fabric/core/shared/tenant-scope';
import type { Services } from '../composition';
import { clientAddress, headersOf } from '../http/request';

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
}

/** Resolves the session cookie to a caller: user, role and tenant come from the membership, never from input. */
export async function createContext(services: RouterServices, req: IncomingMessage): Promise<Context> {
  const source = clientAddress(req);
  const session = await services.auth.api.getSession({ headers: headersOf(req) }).catch(() => null);
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
  };
}
