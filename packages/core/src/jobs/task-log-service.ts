import type { TenantScope } from '../shared/tenant-scope';
import { JobError } from './job.errors';
import type { ListTasksQuery, TaskList, TaskRecord } from './job.schema';
import type { JobRepository } from './job-repository';
import { hiddenTaskKinds } from './task-kinds.schema';
import { tenantTaskText } from './tenant-task-text';

/**
 * The Tasks panel: long operations (durable jobs) and the agents' VM tasks,
 * newest first. Provider roles see every task; a tenant sees its own VMs'
 * tasks and its own jobs, and another tenant's task is NOT_FOUND. A tenant
 * reads host-internal text (file paths, pools' folders) in plain words
 * (tenant-task-text.ts). Scheduled background work (replication cycles) is
 * left out of the list unless asked for (task-kinds.schema.ts); `get` finds it.
 */
export class TaskLogService {
  constructor(private readonly deps: { jobs: JobRepository }) {}

  async list(scope: TenantScope, query: ListTasksQuery): Promise<TaskList> {
    const list = await this.deps.jobs.list(scope, query, hiddenTaskKinds(query));
    return scope.kind === 'tenant' ? { ...list, rows: list.rows.map(tenantTaskText) } : list;
  }

  async get(scope: TenantScope, id: string): Promise<TaskRecord> {
    const task = await this.deps.jobs.find(scope, id);
    if (!task) throw new JobError('TASK_NOT_FOUND', 'Task not found');
    return scope.kind === 'tenant' ? tenantTaskText(task) : task;
  }
}
