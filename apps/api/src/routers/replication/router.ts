import {
  authorizationSchema,
  complianceSchema,
  enableByPatternSchema,
  enableReplicationSchema,
  failoverByPatternSchema,
  testFailoverSchema,
  unplannedFailoverSchema,
  vmIdSchema,
} from '@fabric/core/replication/replication.schema';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { patternPreviewSchema, patternResultSchema } from '@fabric/core/shared/vm-pattern.schema';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { procedureFor } from '../../trpc/procedures';

/** Reads: the provider's roles see every relationship, a tenant its own (another tenant's VM is NOT_FOUND). */
const reader = procedureFor('provider-admin', 'finance', 'tenant-admin', 'tenant-user');
/** Replicating and failing over a VM: its tenant's members, and the provider's administrators. */
const operator = procedureFor('provider-admin', 'tenant-admin', 'tenant-user');
const admin = procedureFor('provider-admin');
const dashboardReader = procedureFor('provider-admin', 'finance');

const task = z.object({ taskId: z.uuid() });

/**
 * Hyper-V Replica (issue 10): enabling, recovery points, failovers (each a
 * durable workflow: the answer is its task id, the Tasks panel shows it),
 * RPO compliance, the provider's health dashboard and authorizations.
 */
export const replicationRouter = t.router({
  /** Where this VM may replicate to: clusters (and hosts) authorized for its tenant and primary cluster. */
  targets: operator
    .input(vmIdSchema)
    .query(({ ctx, input }) => ctx.services.replication.targets(scopeOf(ctx.caller), input.vmId)),
  enable: operator
    .input(enableReplicationSchema)
    .output(z.object({ relationshipId: z.uuid(), taskId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.replication.enable(scopeOf(ctx.caller), actorOf(ctx.caller), input)),
  /**
   * Pattern form (`Enable-VMReplication -VMName web*`): each matching VM with the single enable's verdict
   * (where it would replicate, or why not); nothing written, an empty list when nothing matches.
   */
  previewEnableByPattern: operator
    .input(enableByPatternSchema)
    .output(patternPreviewSchema)
    .query(({ ctx, input }) => ctx.services.replicateByPattern.previewEnable(scopeOf(ctx.caller), input)),
  /** Enables replication for each matching VM (each its own task); per VM started or refused. No match is NOT_FOUND. */
  enableByPattern: operator
    .input(enableByPatternSchema)
    .output(patternResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.replicateByPattern.enable(scopeOf(ctx.caller), actorOf(ctx.caller), input),
    ),
  /** Pattern form of test, planned and unplanned failover: the VMs it would hit and those that cannot, with why. */
  previewFailoverByPattern: operator
    .input(failoverByPatternSchema)
    .output(patternPreviewSchema)
    .query(({ ctx, input }) => ctx.services.replicateByPattern.previewFailover(scopeOf(ctx.caller), input)),
  failoverByPattern: operator
    .input(failoverByPatternSchema)
    .output(patternResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.replicateByPattern.failover(scopeOf(ctx.caller), actorOf(ctx.caller), input),
    ),
  list: reader.query(({ ctx }) => ctx.services.replicationQueries.list(scopeOf(ctx.caller))),
  /** One VM's replication with its recovery points and last cycles; null when it is not replicated. */
  get: reader
    .input(vmIdSchema)
    .query(({ ctx, input }) => ctx.services.replicationQueries.forVm(scopeOf(ctx.caller), input.vmId)),
  compliance: reader
    .input(complianceSchema)
    .query(({ ctx, input }) => ctx.services.replicationQueries.compliance(scopeOf(ctx.caller), input)),
  pause: operator.input(vmIdSchema).mutation(async ({ ctx, input }) => {
    await ctx.services.replication.pause(scopeOf(ctx.caller), input.vmId);
    return { ok: true as const };
  }),
  resume: operator.input(vmIdSchema).mutation(async ({ ctx, input }) => {
    await ctx.services.replication.resume(scopeOf(ctx.caller), input.vmId);
    return { ok: true as const };
  }),
  /** Stops replicating and deletes the replica on the replica host (a task: its steps show in Tasks). */
  remove: operator
    .input(vmIdSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.remove(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId),
    ),
  testFailover: operator
    .input(testFailoverSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.testFailover(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId, input.pointId),
    ),
  stopTestFailover: operator
    .input(vmIdSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.stopTest(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId),
    ),
  plannedFailover: operator
    .input(vmIdSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.plannedFailover(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId),
    ),
  failover: operator
    .input(unplannedFailoverSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.failover(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId, input.pointId),
    ),
  completeFailover: operator
    .input(vmIdSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.completeFailover(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId),
    ),
  cancelFailover: operator
    .input(vmIdSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.cancelFailover(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId),
    ),
  reverse: operator
    .input(vmIdSchema)
    .output(task)
    .mutation(({ ctx, input }) =>
      ctx.services.replication.reverse(scopeOf(ctx.caller), actorOf(ctx.caller), input.vmId),
    ),
  /** The provider's replica health: counts, per replica cluster, worst lag, failing relationships, bandwidth per hour. */
  dashboard: dashboardReader.query(({ ctx }) => ctx.services.replicationQueries.dashboard()),
  authorizations: t.router({
    list: admin.query(({ ctx }) => ctx.services.replication.listAuthorizations()),
    create: admin
      .input(authorizationSchema)
      .mutation(({ ctx, input }) => ctx.services.replication.authorize(actorOf(ctx.caller), input)),
    delete: admin
      .input(z.strictObject({ id: z.uuid({ error: 'Authorization must be an id (uuid)' }) }))
      .mutation(async ({ ctx, input }) => {
        await ctx.services.replication.revokeAuthorization(input.id);
        return { ok: true as const };
      }),
  }),
});
