import type { AgentTask, TaskKind } from '@fabric/core/tasks/task-protocol.schema';
import type { VmOperationContext, VmPowerState } from './drivers/driver';
import type { FinalReport } from './task-journal';

/**
 * Task kinds beyond vm.* (replica.*, migration.*, network.*) are run by
 * handlers registered by kind, each in its own file, so the task runner stays
 * one dispatch and every feature owns its own code (shared contract part 1).
 *
 * A handler validates `task.params` with its kind's zod schema (a refusal is
 * a failed report with code INVALID_PARAMS, see `parseParams`), does the work,
 * reports progress through `context.onProgress`, honours `context.signal` up
 * to its point of no return, and resolves to the final report: on success
 * `{ status: 'succeeded', vmState, message, result }`, `result` being the
 * kind's result object (at most 64 KiB of JSON), which the API stores on the
 * task for the workflow that queued it. It fails by throwing a `TaskError`
 * (any stable code, e.g. CHANGE_TRACKING_LOST) or a `VmOperationError`.
 *
 * Like driver operations, a handler must be idempotent: a task interrupted by
 * an agent restart is handed out again and run again.
 */
export type TaskHandler = (task: AgentTask, context: VmOperationContext) => Promise<FinalReport>;

export class TaskHandlers {
  private readonly handlers = new Map<TaskKind, TaskHandler>();

  /** Registers the handler of `kind`; a second registration of one kind is a wiring bug. */
  register(kind: TaskKind, handler: TaskHandler): this {
    if (kind.startsWith('vm.')) throw new Error(`${kind} is run by the driver, not by a registered handler`);
    if (this.handlers.has(kind)) throw new Error(`a handler for ${kind} is registered already`);
    this.handlers.set(kind, handler);
    return this;
  }

  get(kind: TaskKind): TaskHandler | undefined {
    return this.handlers.get(kind);
  }

  kinds(): TaskKind[] {
    return [...this.handlers.keys()];
  }
}

/** A task failed with a stable code of its kind (the report's `code`); `vmState` as in VmOperationError. */
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly vmState: VmPowerState | null = null,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}

/** Minimal structural type for a zod schema, so this file needs no zod import. */
interface ParamsSchema<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** The task's params by the kind's schema, or a TaskError INVALID_PARAMS naming the fields. */
export function parseParams<T>(task: AgentTask, schema: ParamsSchema<T>): T {
  const parsed = schema.safeParse(task.params ?? null);
  if (parsed.success) return parsed.data;
  const why = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'params'}: ${issue.message}`)
    .join('; ');
  throw new TaskError('INVALID_PARAMS', `${task.kind} params refused: ${why}`);
}
