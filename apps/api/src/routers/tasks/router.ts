import { getTaskInput, listTasksInput, listTasksOutput, taskRecordSchema } from '@fabric/core/jobs/job.schema';
import { scopeOf } from '@fabric/core/shared/tenant-scope';
import { eventsUntilAborted } from '../../events/events-until-aborted';
import { t } from '../../trpc/init';
import { procedureFor } from '../../trpc/procedures';

/**
 * Everyone signed in reads tasks: provider roles every task, a tenant its
 * own (its VMs' tasks and its own jobs); another tenant's task is NOT_FOUND.
 */
const taskReader = procedureFor('provider-admin', 'finance', 'tenant-admin', 'tenant-user');

export const tasksRouter = t.router({
  /** Recent and running tasks, newest first, filtered and paged on the server. */
  list: taskReader
    .input(listTasksInput)
    .output(listTasksOutput)
    .query(({ ctx, input }) => ctx.services.tasks.list(scopeOf(ctx.caller), input)),
  /** One task with its steps. */
  get: taskReader
    .input(getTaskInput)
    .output(taskRecordSchema)
    .query(({ ctx, input }) => ctx.services.tasks.get(scopeOf(ctx.caller), input.id)),
  /**
   * A signal that tasks changed (a job's step or progress, an agent's report),
   * from any API process, over SSE; the panel then reads the list again.
   */
  onChange: taskReader.subscription(async function* ({ ctx, signal }) {
    const scope = scopeOf(ctx.caller);
    for await (const event of eventsUntilAborted<{ tenantId: string | null }>(
      ctx.services.hostEvents,
      'tasks-changed',
      signal,
    )) {
      const { tenantId } = event;
      if (scope.kind === 'tenant' && tenantId !== scope.tenantId) continue;
      yield { changed: true as const };
    }
  }),
});
