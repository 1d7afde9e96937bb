import type { TenantScope } from '../shared/tenant-scope';
import { JobError } from './job.errors';
import type { ListTasksQuery, TaskList, TaskRecord } from './job.schema';
import type { JobRepository } from './job-repository';

/**
 * The Tasks panel: long operations (durable jobs) and the agents' VM tasks,
 * newest first. Provider roles see every task; a tenant sees its own VMs'
 * tasks and its own jobs, and another tenant's task is NOT_FOUND.
 */
export class TaskLogService {
  constructor(private readonly deps: { jobs: JobRepository }) {}

  list(scope: TenantScope, query: ListTasksQuery): Promise<TaskList> {
    return this.deps.jobs.list(scope, query);
  }

  async get(scope: TenantScope, id: string): Promise<TaskRecord> {
    const task = await this.deps.jobs.find(scope, id);
    if (!task) throw new JobError('TASK_NOT_FOUND', 'Task not found');
    return task;
  }
}
