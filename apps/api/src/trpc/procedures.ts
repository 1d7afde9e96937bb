import type { Role } from '@fabric/core/shared/roles';
import type { Caller } from '@fabric/core/shared/tenant-scope';
import { TRPCError } from '@trpc/server';
import { runForCaller } from '../tenancy/db-scope';
import { consoleSlot } from './console-slot';
import { hideHostsFromTenants } from './hide-hosts';
import { mapErrors, t } from './init';
import { endStreamsWithSession } from './session-bound-streams';

// Every call takes a console slot first (console-slot.ts): the context is still the one the API made.
// Outermost: tenants' answers and errors, whatever built them, name no host (hide-hosts.ts).
// A live stream ends with the session that opened it (session-bound-streams.ts).
const base = t.procedure.use(hideHostsFromTenants).use(mapErrors).use(consoleSlot).use(endStreamsWithSession);

/**
 * The database sees what the caller may: a tenant's call runs every query
 * with its tenant (row-level security, tenancy/db-scope.ts), whatever the
 * procedure; no session or a provider role sees every tenant.
 */
const scopeToCaller = t.middleware(({ ctx, next }) => (ctx.caller ? runForCaller(ctx.caller, () => next()) : next()));

/** No session needed. */
export const publicProcedure = base.meta({ roles: 'public' }).use(scopeToCaller);

const requireCaller = t.middleware(({ ctx, next }) => {
  const caller = ctx.caller;
  if (!caller) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue' });
  return runForCaller(caller, () => next({ ctx: { ...ctx, caller } }));
});

/** Any signed-in user, whatever the role. */
export const authedProcedure = base.meta({ roles: 'authenticated' }).use(requireCaller);

/**
 * Only `roles` may call it. A refusal is audited (who, which procedure) and
 * answered FORBIDDEN before the input is even parsed.
 */
export function procedureFor(...roles: Role[]) {
  return base
    .meta({ roles })
    .use(requireCaller)
    .use(async ({ ctx, next, path }) => {
      const caller: Caller = ctx.caller;
      if (!roles.includes(caller.role)) {
        await ctx.services.audit.recordDenial({
          actor: { type: 'user', id: caller.userId, label: caller.email },
          action: 'procedure.call',
          targetType: 'procedure',
          targetId: path,
          targetLabel: path,
          tenantId: caller.tenantId,
          message: `Role ${caller.role} may not call ${path}`,
        });
        throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have permission to do this' });
      }
      return next({ ctx: { ...ctx, caller } });
    });
}

export const providerAdmin = procedureFor('provider-admin');
export const providerReader = procedureFor('provider-admin', 'finance');
export const tenantMember = procedureFor('tenant-admin', 'tenant-user');
export const tenantAdmin = procedureFor('tenant-admin');
export const auditReader = procedureFor('provider-admin', 'finance', 'tenant-admin');
