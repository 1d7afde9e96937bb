import { randomUUID } from 'node:crypto';
import type { TaskJsonObject } from '../tasks/task-protocol.schema';
import type { NewTask, TaskOutcome, TaskQueueRepository, TaskRecord } from '../tasks/task-queue-repository';
import type { Snapshottable } from './in-memory-unit-of-work';

export interface StoredTask extends TaskRecord {
  requestedBy: string;
  attempt: number;
  progress: number;
  message: string;
  errorCode: string | null;
  leaseUntil: Date | null;
  finishedAt: Date | null;
  result: TaskJsonObject | null;
}

/** Tasks in queue order (the array's), handed out like the SQL: queued ones and those whose lease ran out. */
export class InMemoryTaskQueueRepository implements TaskQueueRepository, Snapshottable {
  tasks: StoredTask[] = [];
  /** Hosts whose long poll `notifyTasksQueued` woke, in order. */
  notified: string[] = [];

  async createTask(task: NewTask) {
    const existing = task.id ? this.tasks.find((t) => t.id === task.id) : undefined;
    if (existing) return record(existing);
    const stored: StoredTask = {
      ...task,
      params: task.params ?? null,
      result: null,
      id: task.id ?? randomUUID(),
      state: 'queued',
      attempt: 0,
      progress: 0,
      message: '',
      errorCode: null,
      leaseUntil: null,
      finishedAt: null,
    };
    this.tasks.push(stored);
    return record(stored);
  }

  async createTasks(tasks: NewTask[]) {
    for (const task of tasks) await this.createTask(task);
  }

  async claimTasks(
    hostId: string,
    max: number,
    now: Date,
    leaseUntil: Date,
    lost?: { holding: string[]; setBefore: Date } | null,
  ) {
    const isLost = (t: { id: string; leaseUntil: Date | null }) =>
      !!lost && !lost.holding.includes(t.id) && t.leaseUntil !== null && t.leaseUntil < lost.setBefore;
    const due = this.tasks.filter(
      (t) =>
        t.hostId === hostId &&
        (t.state === 'queued' || (t.state === 'running' && t.leaseUntil !== null && (t.leaseUntil < now || isLost(t)))),
    );
    return due.slice(0, max).map((t) => {
      t.state = 'running';
      t.attempt += 1;
      t.leaseUntil = leaseUntil;
      return { ...record(t), attempt: t.attempt };
    });
  }

  async findTaskForUpdate(hostId: string, taskId: string) {
    const task = this.tasks.find((t) => t.id === taskId && t.hostId === hostId);
    return task ? { ...record(task), progress: task.progress } : null;
  }

  async newerVmTaskFinished(taskId: string) {
    const index = this.tasks.findIndex((t) => t.id === taskId);
    const task = this.tasks[index];
    if (!task) return false;
    return this.tasks
      .slice(index + 1)
      .some(
        (t) => t.vmId === task.vmId && t.kind.startsWith('vm.') && (t.state === 'succeeded' || t.state === 'failed'),
      );
  }

  async updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date) {
    this.update(taskId, { progress, message, leaseUntil });
  }

  async finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
    result: TaskJsonObject | null = null,
  ) {
    const progress = state === 'succeeded' ? { progress: 100 } : {};
    this.update(taskId, { state, message, errorCode, finishedAt: now, leaseUntil: null, result, ...progress });
  }

  async findTaskOutcome(taskId: string): Promise<TaskOutcome | null> {
    const t = this.tasks.find((task) => task.id === taskId);
    if (!t) return null;
    const { id, kind, state, progress, message, errorCode, result } = t;
    return { id, kind, state, progress, message, errorCode, result };
  }

  async notifyTasksQueued(hostId: string) {
    this.notified.push(hostId);
  }

  snapshot() {
    const tasks = this.tasks.map((t) => ({ ...t }));
    const notified = [...this.notified];
    return () => {
      this.tasks = tasks;
      this.notified = notified;
    };
  }

  private update(taskId: string, change: Partial<StoredTask>) {
    this.tasks = this.tasks.map((t) => (t.id === taskId ? { ...t, ...change } : t));
  }
}

function record({ id, kind, state, vmId, hostId, tenantId, params }: StoredTask): TaskRecord {
  return { id, kind, state, vmId, hostId, tenantId, params };
}
