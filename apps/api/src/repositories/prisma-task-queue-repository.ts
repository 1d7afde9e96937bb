import type { TaskJsonObject, TaskKind } from '@fabric/core/tasks/task-protocol.schema';
import type { NewTask, TaskOutcome, TaskQueueRepository, TaskRecord } from '@fabric/core/tasks/task-queue-repository';
import { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

/** pg_notify channel: a host id whose tasks were queued (wakes its long poll, in any API process). */
export const TASKS_CHANNEL = 'fabric_tasks';

/**
 * Tasks are handed out in created_at order, and a VM's tasks must run in the
 * order they were queued (create before start). Postgres' now() is the same
 * for a whole transaction, so the time is set here, strictly increasing.
 */
let lastTaskTime = 0;
function nextTaskTime(): Date {
  lastTaskTime = Math.max(Date.now(), lastTaskTime + 1);
  return new Date(lastTaskTime);
}

function toTask(t: Prisma.TaskGetPayload<object>): TaskRecord {
  return {
    id: t.id,
    kind: t.kind as TaskKind,
    state: t.state,
    vmId: t.vmId,
    hostId: t.hostId,
    tenantId: t.tenantId,
    ownerEpoch: t.ownerEpoch,
    params: jsonObject(t.params),
  };
}

/** A JSON column as the object it was written as (null for SQL NULL, JSON null or a non-object). */
function jsonObject(value: Prisma.JsonValue | null): TaskJsonObject | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as TaskJsonObject) : null;
}

/** The task row's data for a new task: params as JSON (SQL NULL when there are none). */
function newTaskData(task: NewTask) {
  const { params, ...rest } = task;
  return { ...rest, params: params ? (params as Prisma.InputJsonObject) : undefined, createdAt: nextTaskTime() };
}

export class PrismaTaskQueueRepository implements TaskQueueRepository {
  constructor(private readonly db: Db) {}

  async createTask(task: NewTask) {
    if (task.id) {
      // Idempotent by id: a workflow step that runs again finds the task it queued the first time.
      const existing = await this.db.task.findUnique({ where: { id: task.id } });
      if (existing) return toTask(existing);
    }
    const created = await this.db.task.create({ data: newTaskData(task) });
    return toTask(created);
  }

  async createTasks(tasks: NewTask[]) {
    await this.db.task.createMany({ data: tasks.map(newTaskData) });
  }

  async claimTasks(
    hostId: string,
    max: number,
    now: Date,
    leaseUntil: Date,
    lost?: { holding: string[]; setBefore: Date } | null,
  ) {
    // A running task the host says it does not hold (and whose lease was set a while ago) was lost on its way.
    const lostClause = lost
      ? Prisma.sql`OR (state = 'running' AND lease_until < ${lost.setBefore} AND NOT (id = ANY(${lost.holding}::uuid[])))`
      : Prisma.empty;
    // SKIP LOCKED: two polls of one host (or two API processes) never take the same task.
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      UPDATE tasks SET state = 'running', attempt = attempt + 1, lease_until = ${leaseUntil},
                       started_at = coalesce(started_at, ${now}),
                       -- The epoch it is handed out under (compute/ownership.ts); the agent refuses older ones.
                       owner_epoch = coalesce(owner_epoch, (SELECT v.owner_epoch FROM vms v WHERE v.id = tasks.vm_id))
      WHERE id IN (
        SELECT id FROM tasks
        WHERE host_id = ${hostId}::uuid
          AND (state = 'queued' OR (state = 'running' AND lease_until < ${now}) ${lostClause})
        ORDER BY created_at
        LIMIT ${max}
        FOR UPDATE SKIP LOCKED)
      RETURNING id`;
    if (!rows.length) return [];
    const tasks = await this.db.task.findMany({
      where: { id: { in: rows.map((r) => r.id) } },
      orderBy: { createdAt: 'asc' },
    });
    return tasks.map((t) => ({ ...toTask(t), attempt: t.attempt }));
  }

  async findTaskForUpdate(hostId: string, taskId: string) {
    const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM tasks
      WHERE id = ${taskId}::uuid AND host_id = ${hostId}::uuid FOR UPDATE`;
    if (!rows.length) return null;
    const task = await this.db.task.findUnique({ where: { id: taskId } });
    return task ? { ...toTask(task), progress: task.progress } : null;
  }

  async newerVmTaskFinished(taskId: string) {
    const rows = await this.db.$queryRaw<{ newer: boolean }[]>`
      SELECT EXISTS (
        SELECT 1 FROM tasks n JOIN tasks t ON t.id = ${taskId}::uuid
        WHERE n.vm_id = t.vm_id AND n.id <> t.id AND n.kind LIKE 'vm.%' AND n.created_at > t.created_at
          AND n.state IN ('succeeded', 'failed')) AS newer`;
    return rows[0]?.newer ?? false;
  }

  async updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date) {
    await this.db.task.update({ where: { id: taskId }, data: { progress, message, leaseUntil } });
  }

  async finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
    result: TaskJsonObject | null = null,
  ) {
    await this.db.task.update({
      where: { id: taskId },
      data: {
        state,
        message,
        errorCode,
        finishedAt: now,
        progress: state === 'succeeded' ? 100 : undefined,
        leaseUntil: null,
        result: result ? (result as Prisma.InputJsonObject) : undefined,
      },
    });
  }

  async findTaskOutcome(taskId: string): Promise<TaskOutcome | null> {
    const t = await this.db.task.findUnique({ where: { id: taskId } });
    if (!t) return null;
    return {
      id: t.id,
      kind: t.kind as TaskKind,
      state: t.state,
      progress: t.progress,
      message: t.message,
      errorCode: t.errorCode,
      result: jsonObject(t.result),
    };
  }

  async notifyTasksQueued(hostId: string) {
    await this.db.$executeRaw`SELECT pg_notify(${TASKS_CHANNEL}, ${hostId})`;
  }
}
