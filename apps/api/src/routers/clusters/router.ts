import {
  byIdInput,
  clusterSchema,
  createClusterInput,
  setPlacementPolicyInput,
} from '@fabric/core/fabric/fabric.schema';
import { actorOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const clustersRouter = t.router({
  list: providerAdmin.output(z.array(clusterSchema)).query(({ ctx }) => ctx.services.fabric.listClusters()),
  get: providerAdmin
    .input(byIdInput)
    .output(clusterSchema)
    .query(({ ctx, input }) => ctx.services.fabric.getCluster(input.id)),
  create: providerAdmin
    .input(createClusterInput)
    .output(clusterSchema)
    .mutation(({ ctx, input }) => ctx.services.fabric.createCluster(actorOf(ctx.caller), input)),
  /** Balance or pack, and the vCPU overcommit ratio placement uses in this cluster. */
  setPlacement: providerAdmin
    .input(setPlacementPolicyInput)
    .output(clusterSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.fabric.setPlacementPolicy(actorOf(ctx.caller), input.id, input.policy, input.cpuOvercommitRatio),
    ),
});
