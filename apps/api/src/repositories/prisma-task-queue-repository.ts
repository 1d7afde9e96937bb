import type { TaskKind } from '@fabric/core/tasks/task-protocol.schema';
import type { NewTask, TaskQueueRepository, TaskRecord } from '@fabric/core/tasks/task-queue-repository';
import type { Prisma } from '@fabric/db/generated/prisma/client';
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
  };
}

export class PrismaTaskQueueRepository implements TaskQueueRepository {
  constructor(private readonly db: Db) {}

  async createTask(task: NewTask) {
    const created = await this.db.task.create({ data: { ...task, createdAt: nextTaskTime() } });
    return toTask(created);
  }

  async createTasks(tasks: NewTask[]) {
    await this.db.task.createMany({ data: tasks.map((t) => ({ ...t, createdAt: nextTaskTime() })) });
  }

  async claimTasks(hostId: string, max: number, now: Date, leaseUntil: Date) {
    // SKIP LOCKED: two polls of one host (or two API processes) never take the same task.
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      UPDATE tasks SET state = 'running', attempt = attempt + 1, lease_until = ${leaseUntil},
                       started_at = coalesce(started_at, ${now})
      WHERE id IN (
        SELECT id FROM tasks
        WHERE host_id = ${hostId}::uuid
          AND (state = 'queued' OR (state = 'running' AND lease_until < ${now}))
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

  async updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date) {
    await this.db.task.update({ where: { id: taskId }, data: { progress, message, leaseUntil } });
  }

  async finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
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
      },
    });
  }

  async notifyTasksQueued(hostId: string) {
    await this.db.$executeRaw`SELECT pg_notify(${TASKS_CHANNEL}, ${hostId})`;
  }
}
