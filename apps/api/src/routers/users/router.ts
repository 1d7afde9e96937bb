import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { byIdInput, createUserInput, listUsersInput, userSchema } from '@fabric/core/tenancy/tenancy.schema';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const usersRouter = t.router({
  list: providerAdmin
    .input(listUsersInput)
    .output(z.array(userSchema))
    .query(({ ctx, input }) => ctx.services.tenancy.listUsers(scopeOf(ctx.caller), input.tenantId)),
  get: providerAdmin
    .input(byIdInput)
    .output(userSchema)
    .query(({ ctx, input }) => ctx.services.tenancy.getUser(scopeOf(ctx.caller), input.id)),
  create: providerAdmin
    .input(createUserInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => ctx.services.tenancy.createUser(actorOf(ctx.caller), scopeOf(ctx.caller), input)),
});
