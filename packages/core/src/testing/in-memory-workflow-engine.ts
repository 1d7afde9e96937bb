import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  StartOptions,
  WorkflowContext,
  WorkflowDefinition,
  WorkflowEngine,
  WorkflowOutcome,
} from '../workflows/workflow';

export type WorkflowStatus = 'pending' | 'succeeded' | 'failed';

/** A finished step as the engine recorded it: its name (checked on replay) and its result or error. */
export type RecordedStep = { name: string } & ({ ok: true; json: string | undefined } | { ok: false; error: unknown });

interface Run {
  readonly id: string;
  readonly definition: WorkflowDefinition<unknown>;
  /** The input as JSON, as DBOS stores it: every attempt gets its own copy. */
  readonly inputJson: string;
  status: WorkflowStatus;
  readonly steps: RecordedStep[];
  /** Executions of the workflow function: 1, then one more per resume. */
  attempts: number;
  /** True while an attempt is executing (not crashed, not ended). */
  live: boolean;
  error?: unknown;
  readonly ended: Promise<void>;
  readonly end: () => void;
}

interface Trigger {
  stepName: string;
  workflowId: string | null;
}

/** Held at a step until released: `reached` resolves once a workflow waits there. */
export interface StepGate {
  readonly reached: Promise<string>;
  release(): void;
}

interface Gate extends Trigger {
  reach: (workflowId: string) => void;
  released: Promise<void>;
}

/** Thrown to the caller of `ctx.step` in a misuse only; a crash never reaches workflow code. */
export class WorkflowReplayError extends Error {}

const never = new Promise<never>(() => undefined);

/** Set while a step's function runs: a step called inside a step is part of it (DBOS.runStep within a step). */
const insideStep = new AsyncLocalStorage<true>();

/**
 * The durable-execution port in memory, with DBOS's semantics where a use
 * case can tell the difference:
 * - `start` returns once the workflow is recorded and runs it in the
 *   background; a second start of the same id runs nothing.
 * - Steps are recorded in call order with their JSON result (or error); a
 *   resumed workflow re-executes its function from the top and each step
 *   already recorded returns the recorded value, deserialized from JSON, without
 *   calling `fn`. A step whose name differs from the record at its position
 *   is a non-deterministic workflow: DBOS refuses it, so does this.
 * - A crash (`crashBefore` / `crashAfter`) stops the attempt for good, as a
 *   killed process would: no more of its code runs (its pending promise never
 *   settles), the workflow stays 'pending' until `resume` or `recoverPending`.
 * Queues are accepted and not modelled (no concurrency caps).
 */
export class InMemoryWorkflowEngine implements WorkflowEngine {
  private readonly definitions = new Map<string, WorkflowDefinition<unknown>>();
  private readonly runs = new Map<string, Run>();
  private crashesBefore: Trigger[] = [];
  private crashesAfter: Trigger[] = [];
  private gates: Gate[] = [];

  register<Input>(definition: WorkflowDefinition<Input>): void {
    if (this.definitions.has(definition.name)) throw new Error(`workflow ${definition.name} registered twice`);
    this.definitions.set(definition.name, definition as WorkflowDefinition<unknown>);
  }

  async start<Input>(definition: WorkflowDefinition<Input>, input: Input, options: StartOptions): Promise<void> {
    const registered = this.definitions.get(definition.name);
    if (!registered) throw new Error(`workflow ${definition.name} is not registered`);
    const existing = this.runs.get(options.workflowId);
    if (existing) {
      // DBOS: the same id with another workflow is a conflict; with the same one, nothing runs.
      if (existing.definition.name !== definition.name) {
        throw new Error(`workflow id ${options.workflowId} is already used by ${existing.definition.name}`);
      }
      return;
    }
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const run: Run = {
      id: options.workflowId,
      definition: registered,
      inputJson: JSON.stringify(input),
      status: 'pending',
      steps: [],
      attempts: 0,
      live: false,
      ended,
      end,
    };
    this.runs.set(run.id, run);
    this.execute(run);
  }

  async wait(workflowId: string, timeoutMs: number): Promise<WorkflowOutcome> {
    const run = this.runs.get(workflowId);
    if (run && run.status !== 'pending') return run.status;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([run?.ended ?? never, timeout]);
    clearTimeout(timer);
    const status = this.runs.get(workflowId)?.status ?? 'pending';
    return status === 'pending' ? 'running' : status;
  }

  /** The next run of `stepName` (in `workflowId`, or any workflow) dies before its function is called. */
  crashBefore(stepName: string, workflowId: string | null = null): void {
    this.crashesBefore.push({ stepName, workflowId });
  }

  /**
   * The next run of `stepName` dies after its function returned but before
   * its result was recorded (its transaction committed, the process killed
   * before the engine wrote the step): a resume runs the function again.
   */
  crashAfter(stepName: string, workflowId: string | null = null): void {
    this.crashesAfter.push({ stepName, workflowId });
  }

  /** The next run of `stepName` waits at the step, before its function, until released. */
  holdBefore(stepName: string, workflowId: string | null = null): StepGate {
    let reach: (id: string) => void = () => undefined;
    const reached = new Promise<string>((resolve) => {
      reach = resolve;
    });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gates.push({ stepName, workflowId, reach, released });
    return { reached, release };
  }

  /**
   * Executes a crashed workflow again, as a live process recovering it does:
   * the function from the top, recorded steps replayed. Resolves when the
   * attempt ends (or crashes again).
   */
  async resume(workflowId: string): Promise<void> {
    const run = this.runs.get(workflowId);
    if (!run) throw new Error(`no workflow ${workflowId}`);
    if (run.status !== 'pending') throw new Error(`workflow ${workflowId} has ended (${run.status})`);
    // Recovery only takes over workflows whose process is gone.
    if (run.live) throw new Error(`workflow ${workflowId} is still running`);
    await this.execute(run);
  }

  /** Resumes every pending workflow whose attempt crashed, like DBOS at launch; their ids. */
  async recoverPending(): Promise<string[]> {
    const pending = [...this.runs.values()].filter((r) => r.status === 'pending' && !r.live);
    await Promise.all(pending.map((r) => this.execute(r)));
    return pending.map((r) => r.id);
  }

  /** Every workflow started, in start order. */
  workflowIds(): string[] {
    return [...this.runs.keys()];
  }

  status(workflowId: string): WorkflowStatus | null {
    return this.runs.get(workflowId)?.status ?? null;
  }

  /** Names of the recorded steps, in order. */
  recordedSteps(workflowId: string): string[] {
    return this.runs.get(workflowId)?.steps.map((s) => s.name) ?? [];
  }

  attempts(workflowId: string): number {
    return this.runs.get(workflowId)?.attempts ?? 0;
  }

  /** The error a failed workflow ended with. */
  errorOf(workflowId: string): unknown {
    return this.runs.get(workflowId)?.error;
  }

  /** Resolves when the attempt ends or crashes; never rejects (the outcome is on the run). */
  private execute(run: Run): Promise<void> {
    run.attempts += 1;
    run.live = true;
    let crash: () => void = () => undefined;
    const crashed = new Promise<void>((resolve) => {
      crash = resolve;
    });
    let position = 0;
    let dead = false;
    const die = (): Promise<never> => {
      dead = true;
      run.live = false;
      crash();
      return never;
    };
    const ctx: WorkflowContext = {
      workflowId: run.id,
      step: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        if (dead) return never;
        // As DBOS: a step within a step is an ordinary call, recorded (and replayed) with the outer step.
        if (insideStep.getStore()) return fn();
        const index = position++;
        const recorded = run.steps[index];
        if (recorded) {
          if (recorded.name !== name) {
            throw new WorkflowReplayError(
              `workflow ${run.id} step ${index} is '${name}' but '${recorded.name}' was recorded: not deterministic`,
            );
          }
          if (!recorded.ok) throw recorded.error;
          return (recorded.json === undefined ? undefined : JSON.parse(recorded.json)) as T;
        }
        const gate = this.take(this.gates, run.id, name);
        if (gate) {
          gate.reach(run.id);
          await gate.released;
        }
        if (this.take(this.crashesBefore, run.id, name)) return die();
        let value: T;
        try {
          value = await insideStep.run(true, fn);
        } catch (error) {
          if (dead) return never;
          run.steps[index] = { name, ok: false, error };
          throw error;
        }
        if (dead) return never;
        if (this.take(this.crashesAfter, run.id, name)) return die();
        run.steps[index] = { name, ok: true, json: value === undefined ? undefined : JSON.stringify(value) };
        return value;
      },
    };
    const body = (async () => {
      try {
        await run.definition.run(ctx, JSON.parse(run.inputJson));
        if (dead) return;
        run.status = 'succeeded';
      } catch (error) {
        if (dead) return;
        run.status = 'failed';
        run.error = error;
      }
      run.live = false;
      run.end();
    })();
    return Promise.race([body, crashed]);
  }

  /** Removes and returns the first trigger for this step and workflow (one-shot). */
  private take<T extends Trigger>(triggers: T[], workflowId: string, stepName: string): T | undefined {
    const index = triggers.findIndex(
      (t) => t.stepName === stepName && (t.workflowId === null || t.workflowId === workflowId),
    );
    if (index < 0) return undefined;
    const [trigger] = triggers.splice(index, 1);
    return trigger;
  }
}
