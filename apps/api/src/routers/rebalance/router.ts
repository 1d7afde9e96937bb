import {
  applyRecommendationInput,
  rebalanceClusterInput,
  updateRebalanceSettingsInput,
} from '@fabric/core/placement/rebalance-settings.schema';
import { actorOf } from '@fabric/core/shared/tenant-scope';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

/** Dynamic optimization (issue 12): thin over core's RebalanceCluster. Provider admins only. */
export const rebalanceRouter = t.router({
  /** The cluster's settings (defaults filled in), its latest rounds and their recommendations. */
  overview: providerAdmin
    .input(rebalanceClusterInput)
    .query(({ ctx, input }) => ctx.services.rebalance.overview(input.clusterId)),
  /** Changes some settings; the rest stay. */
  updateSettings: providerAdmin
    .input(updateRebalanceSettingsInput)
    .mutation(({ ctx, input }) =>
      ctx.services.rebalance.updateSettings(actorOf(ctx.caller), input.clusterId, input.settings),
    ),
  /** A round now ("Plan now"): recommendations written, nothing migrated; the hold is ignored. */
  runNow: providerAdmin
    .input(rebalanceClusterInput)
    .mutation(({ ctx, input }) => ctx.services.rebalance.runNow(actorOf(ctx.caller), input.clusterId)),
  /** One recommendation as a live migration task. */
  applyOne: providerAdmin
    .input(applyRecommendationInput)
    .mutation(({ ctx, input }) => ctx.services.rebalance.apply(actorOf(ctx.caller), input.recommendationId)),
  /** Every pending recommendation of the cluster's latest round, in plan order; each outcome reported. */
  applyAll: providerAdmin
    .input(rebalanceClusterInput)
    .mutation(({ ctx, input }) => ctx.services.rebalance.applyAll(actorOf(ctx.caller), input.clusterId)),
});
