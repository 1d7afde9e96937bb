import type { VmChangeEvent } from '@fabric/core/compute/compute-repository';
import {
  bulkResultSchema,
  bulkVmActionInput,
  createManyResultSchema,
  createManyVmsInput,
  createVmInput,
  createVmResultSchema,
  listVmsInput,
  quotaAndUsageSchema,
  vmActionInput,
  vmDetailSchema,
  vmListSchema,
} from '@fabric/core/compute/vm.schema';
import { actorOf, canSee, scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { eventsUntilAborted } from '../../events/events-until-aborted';
import { t } from '../../trpc/init';
import { procedureFor } from '../../trpc/procedures';

/** Tenants work on their own VMs; the provider admin on everyone's. */
const vmUser = procedureFor('provider-admin', 'tenant-admin', 'tenant-user');
const vmCreator = procedureFor('tenant-admin', 'tenant-user');

export const vmsRouter = t.router({
  list: vmUser
    .input(listVmsInput)
    .output(vmListSchema)
    .query(({ ctx, input }) => ctx.services.compute.listVms(scopeOf(ctx.caller), input)),
  get: vmUser
    .input(z.object({ id: z.string().uuid() }))
    .output(vmDetailSchema)
    .query(({ ctx, input }) => ctx.services.compute.getVm(scopeOf(ctx.caller), input.id)),
  create: vmCreator
    .input(createVmInput)
    .output(createVmResultSchema)
    .mutation(async ({ ctx, input }) => {
      const created = await ctx.services.compute.createVm(actorOf(ctx.caller), ctx.caller, input);
      return {
        vm: { id: created.vm.id, name: created.vm.name, state: created.vm.state },
        decisionId: created.decisionId,
        taskId: created.taskId,
      };
    }),
  /** A tier of identical VMs (name-01 … name-NN), all or nothing. */
  createMany: vmCreator
    .input(createManyVmsInput)
    .output(createManyResultSchema)
    .mutation(({ ctx, input }) => ctx.services.compute.createMany(actorOf(ctx.caller), ctx.caller, input)),
  act: vmUser
    .input(vmActionInput)
    .output(z.object({ taskId: z.string() }))
    .mutation(({ ctx, input }) =>
      ctx.services.compute.act(actorOf(ctx.caller), scopeOf(ctx.caller), input.id, input.action),
    ),
  /** Like Start-VM -Name 'web*': every matching VM the caller may see, each with its own result. */
  actOnPattern: vmUser
    .input(bulkVmActionInput)
    .output(bulkResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.compute.actOnPattern(actorOf(ctx.caller), scopeOf(ctx.caller), input.pattern, input.action),
    ),
  myQuota: vmCreator.output(quotaAndUsageSchema).query(({ ctx }) => ctx.services.compute.myQuota(ctx.caller)),
  /** Live VM state and task progress: a tenant hears only about its own VMs. */
  onChange: vmUser.subscription(async function* ({ ctx, signal }) {
    const scope = scopeOf(ctx.caller);
    for await (const change of eventsUntilAborted<VmChangeEvent>(ctx.services.hostEvents, 'vm', signal)) {
      if (canSee(scope, change.tenantId)) yield change;
    }
  }),
});
