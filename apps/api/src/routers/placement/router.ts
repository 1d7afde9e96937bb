import { decisionSchema } from '@fabric/core/compute/vm.schema';
import {
  evacuationSchema,
  nPlusOneSchema,
  whatIfBatchInput,
  whatIfBatchSchema,
} from '@fabric/core/compute/what-if.schema';
import { scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const placementRouter = t.router({
  /** A stored decision with its per-host trace: why this host, why not the others. */
  decision: providerAdmin
    .input(z.object({ id: z.string().uuid() }))
    .output(decisionSchema)
    .query(({ ctx, input }) => ctx.services.placement.decision(scopeOf(ctx.caller), input.id)),
  /** Can the cluster lose a host? Every host's HA VMs re-placed on the survivors; nothing committed. */
  nPlusOne: providerAdmin
    .input(z.object({ clusterId: z.string().uuid() }))
    .output(nPlusOneSchema)
    .query(({ ctx, input }) => ctx.services.placement.nPlusOne(input.clusterId)),
  /** The N+1 status of every cluster, for the overview. */
  clusterHealth: providerAdmin
    .output(z.array(nPlusOneSchema))
    .query(({ ctx }) => ctx.services.placement.clusterHealth()),
  /** Where each VM of a host would go if it were emptied, or why it cannot move. */
  evacuation: providerAdmin
    .input(z.object({ hostId: z.string().uuid() }))
    .output(evacuationSchema)
    .query(({ ctx, input }) => ctx.services.placement.evacuation(input.hostId)),
  /** Place these N VMs, without committing. */
  whatIf: providerAdmin
    .input(whatIfBatchInput)
    .output(whatIfBatchSchema)
    .query(({ ctx, input }) => ctx.services.placement.whatIfBatch(input.clusterId, input.tenantId, input.vms)),
});
