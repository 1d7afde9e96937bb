import {
  byIdInput,
  createdTokenSchema,
  createTokenInput,
  listTokensInput,
  tokenSchema,
} from '@fabric/core/fabric/fabric.schema';
import { actorOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const tokensRouter = t.router({
  list: providerAdmin
    .input(listTokensInput)
    .output(z.array(tokenSchema))
    .query(({ ctx, input }) => ctx.services.fabric.listTokens(input.clusterId)),
  create: providerAdmin
    .input(createTokenInput)
    .output(createdTokenSchema)
    .mutation(({ ctx, input }) => ctx.services.fabric.createToken(actorOf(ctx.caller), input)),
  revoke: providerAdmin
    .input(byIdInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.fabric.revokeToken(actorOf(ctx.caller), input.id);
      return { ok: true as const };
    }),
});
