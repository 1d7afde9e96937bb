import { meSchema } from '@fabric/core/tenancy/tenancy.schema';
import { t } from '../../trpc/init';
import { authedProcedure } from '../../trpc/procedures';

export const authRouter = t.router({
  me: authedProcedure.output(meSchema).query(async ({ ctx }) => {
    const membership = await ctx.services.uow.repos.tenancy.findMembership(ctx.caller.userId);
    return ctx.services.tenancy.me(ctx.caller, membership?.tenantName ?? null);
  }),
});
