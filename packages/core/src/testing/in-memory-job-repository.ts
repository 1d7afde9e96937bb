import { JobError } from '../jobs/job.errors';
import type { JobState, JobStep, ListTasksQuery, TaskList, TaskRecord } from '../jobs/job.schema';
import type { JobPatch, JobRepository, NewJob } from '../jobs/job-repository';
import type { TenantScope } from '../shared/tenant-scope';
import type { Snapshottable } from './in-memory-unit-of-work';

export interface StoredJob {
  id: string;
  kind: string;
  targetType: string;
  targetId: string;
  targetLabel: string;
  tenantId: string | null;
  requestedBy: string;
  requestedById: string | null;
  state: JobState;
  progress: number;
  message: string;
  steps: JobStep[];
  errorCode: string | null;
  errorMessage: string | null;
  result: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const ACTIVE: readonly JobState[] = ['queued', 'running'];

const STATES_OF: Record<NonNullable<ListTasksQuery['state']>, readonly JobState[]> = {
  active: ACTIVE,
  queued: ['queued'],
  running: ['running'],
  succeeded: ['succeeded'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

/**
 * Durable jobs as the Prisma repository keeps them: one active job per kind
 * and target (the partial unique index), patches that set fields and merge
 * one step by key, a tenant's scope seeing only its own. Agents' VM tasks
 * (the other source of the Tasks panel) are not modelled here.
 */
export class InMemoryJobRepository implements JobRepository, Snapshottable {
  jobs: StoredJob[] = [];
  /** Tenant names for task records, as the SQL joins them. */
  tenantNames = new Map<string, string>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async create(job: NewJob, at: Date): Promise<void> {
    if (this.jobs.some((j) => j.id === job.id)) throw new Error(`job ${job.id} exists`);
    if (this.jobs.some((j) => j.kind === job.kind && j.targetId === job.targetId && ACTIVE.includes(j.state))) {
      throw new JobError('TASK_ALREADY_ACTIVE', `A ${job.kind} task for ${job.targetLabel} is already running`);
    }
    this.jobs.push({
      id: job.id,
      kind: job.kind,
      targetType: job.targetType,
      targetId: job.targetId,
      targetLabel: job.targetLabel,
      tenantId: job.tenantId,
      requestedBy: job.requestedBy,
      requestedById: job.requestedById,
      state: 'queued',
      progress: 0,
      message: job.message,
      steps: job.steps.map((s) => ({
        key: s.key,
        label: s.label,
        state: 'pending',
        startedAt: null,
        finishedAt: null,
        detail: '',
      })),
      errorCode: null,
      errorMessage: null,
      result: null,
      createdAt: at,
      updatedAt: at,
      startedAt: null,
      finishedAt: null,
    });
  }

  /** The SQL's coalesces: absent fields keep their value, startedAt keeps the first, the step merges. */
  async update(id: string, patch: JobPatch, at: Date): Promise<void> {
    this.jobs = this.jobs.map((j) => {
      if (j.id !== id) return j;
      const step = patch.step;
      return {
        ...j,
        state: patch.state ?? j.state,
        progress: patch.progress ?? j.progress,
        message: patch.message ?? j.message,
        startedAt: j.startedAt ?? patch.startedAt ?? null,
        finishedAt: patch.finishedAt ?? j.finishedAt,
        errorCode: patch.errorCode === undefined ? j.errorCode : patch.errorCode,
        errorMessage: patch.errorMessage === undefined ? j.errorMessage : patch.errorMessage,
        result: patch.result ?? j.result,
        steps: step
          ? j.steps.map((s) =>
              s.key === step.key
                ? {
                    ...s,
                    ...(step.state === undefined ? {} : { state: step.state }),
                    ...(step.startedAt === undefined ? {} : { startedAt: step.startedAt.toISOString() }),
                    ...(step.finishedAt === undefined ? {} : { finishedAt: step.finishedAt.toISOString() }),
                    ...(step.detail === undefined ? {} : { detail: step.detail }),
                  }
                : s,
            )
          : j.steps,
        updatedAt: at,
      };
    });
  }

  async activeTasks(kind: string) {
    return this.jobs
      .filter((j) => j.kind === kind && ACTIVE.includes(j.state))
      .map(({ id, targetId }) => ({ id, targetId }));
  }

  async find(scope: TenantScope, id: string): Promise<TaskRecord | null> {
    const job = this.jobs.find((j) => j.id === id && visible(scope, j));
    return job ? this.record(job) : null;
  }

  async list(scope: TenantScope, query: ListTasksQuery, hideKinds: readonly string[] = []): Promise<TaskList> {
    const matching = (states: readonly JobState[] | null) =>
      query.source === 'agent'
        ? []
        : this.jobs.filter(
            (j) =>
              visible(scope, j) &&
              (states === null || states.includes(j.state)) &&
              !hideKinds.includes(j.kind) &&
              matches(j, query),
          );
    const rows = matching(query.state ? STATES_OF[query.state] : null).sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    const from = (query.page - 1) * query.pageSize;
    return {
      rows: rows.slice(from, from + query.pageSize).map((j) => this.record(j)),
      total: rows.length,
      active: matching(ACTIVE).length,
    };
  }

  snapshot() {
    const jobs = this.jobs.map((j) => ({ ...j, steps: j.steps.map((s) => ({ ...s })) }));
    return () => {
      this.jobs = jobs;
    };
  }

  private record(job: StoredJob): TaskRecord {
    const from = job.startedAt ?? job.createdAt;
    const to = job.finishedAt ?? (ACTIVE.includes(job.state) ? this.now() : null);
    return {
      id: job.id,
      source: 'workflow',
      kind: job.kind,
      targetType: job.targetType,
      targetId: job.targetId,
      targetLabel: job.targetLabel,
      tenantId: job.tenantId,
      tenantName: job.tenantId ? (this.tenantNames.get(job.tenantId) ?? null) : null,
      hostName: null,
      requestedBy: job.requestedBy,
      state: job.state,
      progress: Math.max(0, Math.min(100, job.progress)),
      message: job.message,
      steps: job.steps.map((s) => ({ ...s })),
      errorCode: job.errorCode,
      errorMessage: job.errorMessage,
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
      durationSeconds: to ? Math.max(0, Math.round((to.getTime() - from.getTime()) / 100) / 10) : null,
    };
  }
}

function visible(scope: TenantScope, job: StoredJob): boolean {
  return scope.kind === 'provider' || job.tenantId === scope.tenantId;
}

function matches(job: StoredJob, query: ListTasksQuery): boolean {
  if (query.kind && (query.kind.endsWith('.') ? !job.kind.startsWith(query.kind) : job.kind !== query.kind)) {
    return false;
  }
  if (query.targetId && job.targetId !== query.targetId) return false;
  if (query.search) {
    const needle = query.search.toLowerCase();
    return [job.targetLabel, job.targetId, job.requestedBy].some((s) => s.toLowerCase().includes(needle));
  }
  return true;
}
