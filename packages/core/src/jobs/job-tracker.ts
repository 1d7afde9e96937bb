import type { Clock } from '../shared/clock';
import { CoreError } from '../shared/errors';
import { type WorkflowContext, WorkflowTakenOverError } from '../workflows/workflow';
import type { JobPatch, JobRepository } from './job-repository';

/** What a tracked step reports when it ends. */
export interface StepReport<T> {
  value: T;
  /** Shown beside the step, e.g. "125 of 500 tenants". */
  detail?: string;
  /** The job's progress once this step is done, 0–100. */
  progress?: number;
  /** Leave the visible step running (a step carried out in several workflow steps). */
  more?: boolean;
}

/**
 * Runs workflow steps and keeps the job that users see in step with them:
 * the visible step turns running, then done (or failed) with its detail and
 * the job's progress. Every write sets values, so a step that runs again
 * after a crash writes the same row.
 */
export class JobTracker {
  constructor(private readonly deps: { jobs: JobRepository; clock: Clock }) {}

  private update(jobId: string, patch: JobPatch) {
    return this.deps.jobs.update(jobId, patch, this.deps.clock.now());
  }

  started(ctx: WorkflowContext, jobId: string, message: string): Promise<void> {
    return ctx.step('job-started', () =>
      this.update(jobId, { state: 'running', startedAt: this.deps.clock.now(), message }),
    );
  }

  /**
   * One workflow step `name` inside the visible step `key` (the same unless a
   * visible step is split into several, like writing invoices in chunks).
   */
  step<T>(
    ctx: WorkflowContext,
    jobId: string,
    key: string,
    fn: () => Promise<StepReport<T>>,
    name: string = key,
  ): Promise<T> {
    return ctx.step(name, async () => {
      // A later part of a split visible step: it is already running (startStep), one write fewer per part.
      if (name === key) {
        await this.update(jobId, { step: { key, state: 'running', startedAt: this.deps.clock.now() } });
      }
      const report = await fn();
      const at = this.deps.clock.now();
      await this.update(jobId, {
        ...(report.progress === undefined ? {} : { progress: report.progress }),
        step: {
          key,
          ...(report.more ? {} : { state: 'done', finishedAt: at }),
          ...(report.detail === undefined ? {} : { detail: report.detail }),
        },
      });
      return report.value;
    });
  }

  /** The first step of a split visible step records when it started. */
  startStep(ctx: WorkflowContext, jobId: string, key: string): Promise<void> {
    return ctx.step(`${key}-started`, () =>
      this.update(jobId, { step: { key, state: 'running', startedAt: this.deps.clock.now() } }),
    );
  }

  succeeded(ctx: WorkflowContext, jobId: string, message: string, result: Record<string, unknown>): Promise<void> {
    return ctx.step('job-succeeded', () =>
      this.update(jobId, { state: 'succeeded', progress: 100, finishedAt: this.deps.clock.now(), message, result }),
    );
  }

  /** Records the failure on the job and on its running step; the workflow then ends. */
  failed(ctx: WorkflowContext, jobId: string, failedStep: string | null, error: unknown): Promise<void> {
    // Not a failure: another process took the workflow over and finishes the job (a frozen API process that
    // wakes found its HA recovery done by the other and marked the job failed, and the event with it).
    if (error instanceof WorkflowTakenOverError) return Promise.reject(error);
    // A domain error's message is written for users; anything else may carry internals.
    const code = error instanceof CoreError ? error.code : 'INTERNAL';
    const message = error instanceof CoreError ? error.message : 'an internal error (the API log has the details)';
    return ctx.step('job-failed', async () => {
      const at = this.deps.clock.now();
      await this.update(jobId, {
        state: 'failed',
        finishedAt: at,
        errorCode: code,
        errorMessage: message,
        message: `Failed: ${message}`,
        ...(failedStep ? { step: { key: failedStep, state: 'failed', finishedAt: at, detail: message } } : {}),
      });
    });
  }
}
