import type { Clock } from '../shared/clock';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { WorkflowContext } from '../workflows/workflow';
import type { TaskJsonObject } from './task-protocol.schema';
import type { NewTask, TaskOutcome, TaskQueueRepository } from './task-queue-repository';

/**
 * How a workflow gives a host work and waits for the answer (shared contract
 * part 1): queue an agent task with params, then wait for its terminal report
 * and read its `result`. Both halves are safe to run again after a crash:
 * queuing is keyed by the task id the caller chose, waiting only reads.
 *
 *     const outcome = await runAgentTask(ctx, deps, 'cycle', {
 *       id: taskId, kind: 'replica.cycle', vmId, hostId, tenantId, requestedBy, params,
 *     }, { timeoutMs: 10 * 60_000 });
 *     if (outcome.state === 'succeeded') replicaCycleResultSchema.parse(outcome.result);
 *
 * Choose `id` in an earlier step (e.g. `ctx.step('ids', async () => randomUUID())`)
 * or derive it from something already durable (a point id), never anew in the
 * workflow body, or a resumed workflow would queue a second task.
 */
export interface AgentTaskAwaitDeps {
  uow: UnitOfWork<{ taskQueue: TaskQueueRepository }>;
  clock: Clock;
  /** Between polls of the task row; tests pass a fake. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export interface AwaitOptions {
  /** How long to wait for a terminal report before giving up with 'timed-out'. */
  timeoutMs: number;
  /** Between reads of the task row. Default 250 ms. */
  pollMs?: number;
}

/** The end of an agent task as its workflow sees it. 'timed-out': no terminal report within the timeout (the task may still run). */
export type AgentTaskResult =
  | { taskId: string; state: 'succeeded'; result: TaskJsonObject | null; message: string }
  | { taskId: string; state: 'failed'; errorCode: string; message: string }
  | {
      taskId: string;
      state: 'timed-out';
      lastState: TaskOutcome['state'] | 'missing';
      progress: number;
      message: string;
    };

/** Queues the task (idempotent when `task.id` is set) and wakes the host's long poll on commit. */
export async function queueAgentTask(deps: Pick<AgentTaskAwaitDeps, 'uow'>, task: NewTask): Promise<string> {
  return deps.uow.run(async ({ taskQueue }) => {
    const created = await taskQueue.createTask(task);
    await taskQueue.notifyTasksQueued(task.hostId);
    return created.id;
  });
}

/** Polls the task until its terminal report is stored, or `timeoutMs` passed. */
export async function awaitAgentTask(
  deps: AgentTaskAwaitDeps,
  taskId: string,
  options: AwaitOptions,
): Promise<AgentTaskResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = options.pollMs ?? 250;
  const deadline = deps.clock.now().getTime() + options.timeoutMs;
  for (;;) {
    const outcome = await deps.uow.repos.taskQueue.findTaskOutcome(taskId);
    if (outcome?.state === 'succeeded') {
      return { taskId, state: 'succeeded', result: outcome.result, message: outcome.message };
    }
    if (outcome?.state === 'failed') {
      return { taskId, state: 'failed', errorCode: outcome.errorCode ?? 'FAILED', message: outcome.message };
    }
    if (deps.clock.now().getTime() >= deadline) {
      return {
        taskId,
        state: 'timed-out',
        lastState: outcome?.state ?? 'missing',
        progress: outcome?.progress ?? 0,
        message: outcome?.message ?? 'no such task',
      };
    }
    await sleep(pollMs);
  }
}

/**
 * Both halves as two workflow steps, `${name}: queue` and `${name}: await`.
 * A resumed workflow skips the recorded ones; an interrupted wait runs again
 * (it only reads), and an interrupted queue finds its task by id.
 */
export async function runAgentTask(
  ctx: WorkflowContext,
  deps: AgentTaskAwaitDeps,
  name: string,
  task: NewTask & { id: string },
  options: AwaitOptions,
): Promise<AgentTaskResult> {
  const taskId = await ctx.step(`${name}: queue`, () => queueAgentTask(deps, task));
  return ctx.step(`${name}: await`, () => awaitAgentTask(deps, taskId, options));
}
