import { decisionSchema } from '@fabric/core/compute/vm.schema';
import { scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const placementRouter = t.router({
  /** A stored decision with its per-host trace: why this host, why not the others. */
  decision: providerAdmin
    .input(z.object({ id: z.string().uuid() }))
    .output(decisionSchema)
    .query(({ ctx, input }) => ctx.services.compute.decision(scopeOf(ctx.caller), input.id)),
});
