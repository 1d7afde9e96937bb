import { meSchema } from '@fabric/core/tenancy/tenancy.schema';
import { t } from '../../trpc/init';
import { authedProcedure } from '../../trpc/procedures';

export const authRouter = t.router({
  me: authedProcedure.output(meSchema).query(({ ctx }) => ctx.services.tenancy.me(ctx.caller)),
});
