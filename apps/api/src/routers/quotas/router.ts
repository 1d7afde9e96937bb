import { quotaAndUsageSchema, setQuotaInput, tenantIdInput } from '@fabric/core/compute/vm.schema';
import { actorOf } from '@fabric/core/shared/tenant-scope';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const quotasRouter = t.router({
  get: providerAdmin
    .input(tenantIdInput)
    .output(quotaAndUsageSchema)
    .query(({ ctx, input }) => ctx.services.compute.quotaAndUsage(input.tenantId)),
  set: providerAdmin
    .input(setQuotaInput)
    .output(quotaAndUsageSchema)
    .mutation(({ ctx, input }) => ctx.services.compute.setQuota(actorOf(ctx.caller), input.tenantId, input.quota)),
});
