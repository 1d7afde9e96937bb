import type { TaskKind } from './task-protocol.schema';

export interface TaskRecord {
  id: string;
  kind: TaskKind;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  vmId: string | null;
  hostId: string;
  tenantId: string | null;
}

export interface NewTask {
  kind: TaskKind;
  vmId: string;
  hostId: string;
  tenantId: string;
  requestedBy: string;
}

/** The per-host queue of work for agents. A host's tasks are handed out in the order they were queued. */
export interface TaskQueueRepository {
  createTask(task: NewTask): Promise<TaskRecord>;
  createTasks(tasks: NewTask[]): Promise<void>;
  /** Hands out queued tasks (and ones whose lease ran out) to the host, leased until `leaseUntil`. */
  claimTasks(hostId: string, max: number, now: Date, leaseUntil: Date): Promise<(TaskRecord & { attempt: number })[]>;
  /** The host's task, locked until commit; another host's task is null, like a missing one. */
  findTaskForUpdate(hostId: string, taskId: string): Promise<(TaskRecord & { progress: number }) | null>;
  updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date): Promise<void>;
  finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
  ): Promise<void>;
  /** Wakes the host's long poll (after commit). */
  notifyTasksQueued(hostId: string): Promise<void>;
}
