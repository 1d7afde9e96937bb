import type { TaskJsonObject, TaskKind } from './task-protocol.schema';

export interface TaskRecord {
  id: string;
  kind: TaskKind;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  vmId: string | null;
  hostId: string;
  tenantId: string | null;
  /** The VM's ownership epoch the task was handed out under (compute/ownership.ts); null before it was. */
  ownerEpoch?: number | null;
  /** The kind's parameters (agent protocol `params`); null for vm.* kinds. */
  params: TaskJsonObject | null;
}

export interface NewTask {
  kind: TaskKind;
  vmId: string;
  hostId: string;
  tenantId: string;
  requestedBy: string;
  /** Parameters for the agent, already validated by the kind's schema. */
  params?: TaskJsonObject | null;
  /**
   * Chosen by the caller to make queuing idempotent (a workflow step that runs
   * again after a crash queues nothing new): createTask with an id that exists
   * returns the existing task.
   */
  id?: string;
}

/** A task as the workflow that queued it sees it: its state and, once it ended, its outcome. */
export interface TaskOutcome {
  id: string;
  kind: TaskKind;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: number;
  message: string;
  errorCode: string | null;
  /** The succeeded report's `result`. */
  result: TaskJsonObject | null;
}

/** The per-host queue of work for agents. A host's tasks are handed out in the order they were queued. */
export interface TaskQueueRepository {
  createTask(task: NewTask): Promise<TaskRecord>;
  createTasks(tasks: NewTask[]): Promise<void>;
  /**
   * Hands out queued tasks (and ones whose lease ran out) to the host, leased until `leaseUntil`. With
   * `lost`, also its running tasks not in `lost.holding` whose lease was last set before `lost.setBefore`
   * (handed out or renewed a while ago, so not by a poll still in flight): the host does not have them.
   */
  claimTasks(
    hostId: string,
    max: number,
    now: Date,
    leaseUntil: Date,
    lost?: { holding: string[]; setBefore: Date } | null,
  ): Promise<(TaskRecord & { attempt: number })[]>;
  /** The host's task, locked until commit; another host's task is null, like a missing one. */
  findTaskForUpdate(hostId: string, taskId: string): Promise<(TaskRecord & { progress: number }) | null>;
  updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date): Promise<void>;
  /**
   * True when a vm.* task of the same VM queued after this one has already finished: this task's report,
   * arriving later (results are delivered in parallel), must not set the VM's state back.
   */
  newerVmTaskFinished(taskId: string): Promise<boolean>;
  finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
    result?: TaskJsonObject | null,
  ): Promise<void>;
  /** Any host's task by id (for the workflow awaiting it); null when there is none. */
  findTaskOutcome(taskId: string): Promise<TaskOutcome | null>;
  /** Wakes the host's long poll (after commit). */
  notifyTasksQueued(hostId: string): Promise<void>;
}
