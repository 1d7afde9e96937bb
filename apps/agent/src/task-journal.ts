import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { type AgentTask, HOST_VM_STATES, TASK_KINDS } from '@fabric/core/tasks/task-protocol.schema';
import { z } from 'zod';
import type { Logger } from './log';
import { writeFileAtomic } from './state-store';

/**
 * `tasks.json` in the state directory: what makes "run each task once" hold
 * across agent restarts and lost answers.
 *
 * - A task is recorded `running` before the driver is called, so a task
 *   handed out again after a crash is known to have been started (it is then
 *   resumed: driver operations are idempotent).
 * - Its final report is recorded `finished` before it is sent, and stays
 *   `acknowledged: false` until the API answered 200. Unacknowledged reports
 *   are sent again at the next start; a finished task handed out again gets
 *   its stored report, never a second run.
 * - Only the last `limit` settled entries are kept; unacknowledged ones are
 *   never dropped (they are the only copy of a result the API has not seen).
 *
 * Writes are atomic (temp file + rename) and in order, so a crash leaves one
 * whole version of the file.
 */
export const finalReportSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('succeeded'),
    vmState: z.enum(HOST_VM_STATES).nullable(),
    message: z.string(),
    /** The kind's result (replica.cycle's checksums, ...), sent as the report's `result`. */
    result: z.record(z.string(), z.unknown()).nullish(),
  }),
  z.object({
    status: z.literal('failed'),
    code: z.string(),
    message: z.string(),
    vmState: z.enum(HOST_VM_STATES).nullable(),
  }),
]);
/** A task's outcome, as sent in its last report (without the seq, which every send takes anew). */
export type FinalReport = z.infer<typeof finalReportSchema>;

const entrySchema = z.object({
  taskId: z.string(),
  kind: z.enum(TASK_KINDS),
  vmId: z.string(),
  attempt: z.number().int().min(1),
  status: z.enum(['running', 'finished']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  report: finalReportSchema.nullable(),
  acknowledged: z.boolean(),
});
export type JournalEntry = z.infer<typeof entrySchema>;
const journalFileSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

export const DEFAULT_JOURNAL_LIMIT = 1000;

export class TaskJournal {
  readonly file: string;
  /** Insertion order is age order: Map iteration keeps it. */
  private entries = new Map<string, JournalEntry>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly limit: number = DEFAULT_JOURNAL_LIMIT,
  ) {
    this.file = path.join(dir, 'tasks.json');
  }

  /**
   * Reads the journal. A damaged one is moved aside rather than trusted or
   * overwritten: tasks it knew about may then run again, which the driver's
   * idempotent operations make safe, and the old file is there to inspect.
   */
  async load(log: Logger): Promise<void> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        this.entries = new Map();
        return;
      }
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const parsed = journalFileSchema.safeParse(json);
    if (!parsed.success) {
      const aside = `${this.file}.damaged-${Date.now()}`;
      await rename(this.file, aside);
      log.warn(`${this.file} was not a valid task journal; moved it to ${aside} and started a new one`);
      this.entries = new Map();
      return;
    }
    this.entries = new Map(parsed.data.entries.map((e) => [e.taskId, e]));
  }

  get(taskId: string): JournalEntry | undefined {
    return this.entries.get(taskId);
  }

  /** Finished tasks whose report the API has not acknowledged yet, oldest first. */
  unacknowledged(): JournalEntry[] {
    return [...this.entries.values()].filter((e) => e.status === 'finished' && !e.acknowledged);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Before the driver is called; resolves once it is on disk. */
  markRunning(task: AgentTask): Promise<void> {
    const existing = this.entries.get(task.taskId);
    if (existing?.status === 'finished') return Promise.resolve();
    this.put({
      taskId: task.taskId,
      kind: task.kind,
      vmId: task.vmId,
      attempt: task.attempt,
      status: 'running',
      startedAt: existing?.startedAt ?? new Date().toISOString(),
      finishedAt: null,
      report: null,
      acknowledged: false,
    });
    return this.flush();
  }

  /** Before the final report is sent; resolves once it is on disk. */
  finish(task: AgentTask, report: FinalReport): Promise<void> {
    const existing = this.entries.get(task.taskId);
    this.put({
      taskId: task.taskId,
      kind: task.kind,
      vmId: task.vmId,
      attempt: task.attempt,
      status: 'finished',
      startedAt: existing?.startedAt ?? new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      report,
      acknowledged: false,
    });
    return this.flush();
  }

  /** The API has the final report (or said it never will want it). */
  acknowledge(taskId: string): Promise<void> {
    const entry = this.entries.get(taskId);
    if (!entry || entry.acknowledged) return Promise.resolve();
    this.entries.set(taskId, { ...entry, acknowledged: true });
    // It just became removable: the count of settled entries may now be over the limit.
    this.prune();
    return this.flush();
  }

  /** Re-inserting moves the entry to the young end, so it is pruned last. */
  private put(entry: JournalEntry): void {
    this.entries.delete(entry.taskId);
    this.entries.set(entry.taskId, entry);
    this.prune();
  }

  private prune(): void {
    let removable = [...this.entries.values()].filter((e) => e.acknowledged || e.status === 'running').length;
    for (const entry of this.entries.values()) {
      if (removable <= this.limit) break;
      if (entry.status === 'finished' && !entry.acknowledged) continue;
      this.entries.delete(entry.taskId);
      removable -= 1;
    }
  }

  /**
   * Queues a write of the journal as it is when the write runs, so writes
   * land in order and the last one carries every change before it.
   */
  private flush(): Promise<void> {
    const write = this.writes.then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const content = JSON.stringify({ version: 1, entries: [...this.entries.values()] });
      await writeFileAtomic(this.file, `${content}\n`);
    });
    // A failed write must not block the ones after it; the caller still sees it fail.
    this.writes = write.catch(() => undefined);
    return write;
  }
}
