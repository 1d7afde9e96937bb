/**
 * The durable-execution port. Long operations (closing a month today;
 * migrations, failovers and replication cycles next) are workflows: a
 * function of JSON input whose steps each run once. The engine records every
 * finished step's result; a workflow interrupted by a crash is resumed by a
 * live process, which skips the recorded steps and runs the rest. Starting a
 * workflow id that already exists runs nothing. apps/api implements it on
 * DBOS Transact; `testing/in-memory-workflow-engine.ts` implements it for unit
 * tests. See docs/long-operations.md.
 */
export interface WorkflowContext {
  readonly workflowId: string;
  /**
   * Runs `fn` at most once to completion for this workflow: its result (JSON)
   * is recorded, and a resumed workflow gets the recorded result instead of
   * running it again. A step interrupted midway runs again, so a step must be
   * idempotent (write with unique keys, set rather than increment).
   */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Thrown by `step` when this run of a workflow is not its owner any more: its process went silent past its
 * lease (frozen, stalled, cut off from the database) and another process took the workflow over and runs it
 * now. The step in flight may have done its work once more (steps are idempotent), but this run must stop
 * without writing anything about the workflow's outcome: it is not over, and the new owner finishes it.
 */
export class WorkflowTakenOverError extends Error {
  constructor(readonly workflowId: string) {
    super(`Workflow ${workflowId} was taken over by another process`);
    this.name = 'WorkflowTakenOverError';
  }
}

export interface WorkflowDefinition<Input> {
  /** Stable across releases: recorded with every run, used to resume it. */
  readonly name: string;
  run(ctx: WorkflowContext, input: Input): Promise<void>;
}

export interface StartOptions {
  /** The idempotency key: a second start with the same id runs nothing. */
  readonly workflowId: string;
  /** A queue registered with the engine (concurrency caps), or none to run at once. */
  readonly queue?: string;
}

export type WorkflowOutcome = 'succeeded' | 'failed' | 'running';

export interface WorkflowEngine {
  /** Makes a definition runnable (and resumable); before the engine starts. */
  register<Input>(definition: WorkflowDefinition<Input>): void;
  start<Input>(definition: WorkflowDefinition<Input>, input: Input, options: StartOptions): Promise<void>;
  /** Waits up to `timeoutMs` for the workflow to end; 'running' when it has not yet. */
  wait(workflowId: string, timeoutMs: number): Promise<WorkflowOutcome>;
}
