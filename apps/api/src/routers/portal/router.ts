import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import {
  byIdInput,
  createTenantUserInput,
  portalOverviewSchema,
  userSchema,
} from '@fabric/core/tenancy/tenancy.schema';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { tenantAdmin, tenantMember } from '../../trpc/procedures';

export const portalRouter = t.router({
  overview: tenantMember
    .output(portalOverviewSchema)
    .query(({ ctx }) => ctx.services.tenancy.portalOverview(ctx.caller)),
  users: t.router({
    list: tenantAdmin
      .output(z.array(userSchema))
      .query(({ ctx }) => ctx.services.tenancy.listUsers(scopeOf(ctx.caller))),
    get: tenantAdmin
      .input(byIdInput)
      .output(userSchema)
      .query(({ ctx, input }) => ctx.services.tenancy.getUser(scopeOf(ctx.caller), input.id)),
    create: tenantAdmin
      .input(createTenantUserInput)
      .output(userSchema)
      .mutation(({ ctx, input }) => ctx.services.tenancy.createTenantUser(actorOf(ctx.caller), ctx.caller, input)),
  }),
});
