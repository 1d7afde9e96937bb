import type { TenantScope } from '../shared/tenant-scope';
import type { JobState, JobStep, ListTasksQuery, TaskList, TaskRecord } from './job.schema';

export interface NewJob {
  /** Also the workflow id that carries the job out. */
  id: string;
  kind: string;
  targetType: string;
  targetId: string;
  targetLabel: string;
  tenantId: string | null;
  requestedBy: string;
  requestedById: string | null;
  /** The steps users will see, in order; all pending at first. */
  steps: readonly Pick<JobStep, 'key' | 'label'>[];
  message: string;
}

/** A change to a job: fields set (never incremented, so a step run twice writes the same). */
export interface JobPatch {
  state?: JobState;
  progress?: number;
  message?: string;
  startedAt?: Date;
  finishedAt?: Date;
  errorCode?: string | null;
  errorMessage?: string | null;
  result?: Record<string, unknown>;
  /** Merged into the step with this key. */
  step?: { key: string; state?: JobStep['state']; startedAt?: Date; finishedAt?: Date; detail?: string };
}

export interface JobRepository {
  /** Inserts a queued job; TASK_ALREADY_ACTIVE when one of the same kind and target is queued or running. */
  create(job: NewJob, at: Date): Promise<void>;
  update(id: string, patch: JobPatch, at: Date): Promise<void>;
  /** The queued or running jobs of a kind. */
  activeTasks(kind: string): Promise<{ id: string; targetId: string }[]>;
  /** A job or an agent's VM task; another tenant's is null, like a missing one. */
  find(scope: TenantScope, id: string): Promise<TaskRecord | null>;
  /**
   * Jobs and agents' VM tasks together, newest first; a tenant sees only its own.
   * `hideKinds` leaves kinds out (rows, total and active alike); `query.background` is the service's business.
   */
  list(scope: TenantScope, query: ListTasksQuery, hideKinds?: readonly string[]): Promise<TaskList>;
}
