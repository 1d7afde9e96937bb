import { DBOS, DBOSWorkflowConflictError } from '@dbos-inc/dbos-sdk';
import { DBOSExecutor } from '@dbos-inc/dbos-sdk/internal/dbos-executor';
import type {
  StartOptions,
  WorkflowContext,
  WorkflowDefinition,
  WorkflowEngine,
  WorkflowOutcome,
} from '@fabric/core/workflows/workflow';
import { WorkflowTakenOverError } from '@fabric/core/workflows/workflow';
import pg from 'pg';

/**
 * The durable-execution engine on DBOS Transact: workflows and their steps
 * recorded in Postgres (schema `dbos` of the same database, beside Prisma's
 * tables and never in its migrations), so a workflow id runs once and a
 * workflow interrupted by a crash resumes from its last finished step.
 *
 * DBOS is one runtime per process (a static class): one engine may be
 * running in a process at a time; a second API process is a process.
 *
 * Recovery across processes: `launch()` resumes the pending workflows of its
 * own executor id only. Each process therefore holds a lease in
 * `workflow_executors`, renewed every third of `leaseMs`; a process whose
 * lease has lapsed is dead, and one live process takes its pending
 * workflows over (compare-and-set on `recovered_by`, then DBOS re-queues
 * them in one UPDATE of PENDING rows), so they resume exactly once.
 */
export interface DbosEngineOptions {
  databaseUrl: string;
  /** Stable per process across restarts (a restarted process resumes its own work at once). */
  executorId: string;
  /** How long a silent process keeps its workflows before another takes them over. */
  leaseMs: number;
  poolSize: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Finished scheduled runs are kept this long in the engine's history (the monitor runs every few seconds). */
  scheduledHistoryMs?: number;
}

export interface ScheduledWork {
  name: string;
  /** Whole seconds; DBOS fires on the wall clock (every N-th second of the minute when N divides 60). */
  everySeconds: number;
  run: () => Promise<void>;
}

/**
 * Scheduled runs go through this queue, polled every 200 ms (DBOS's own queue
 * polls every second): a host-monitor tick starts within a fraction of a second.
 */
const BACKGROUND_QUEUE = 'fabric-background';

/** Bumped when a workflow's steps change shape: DBOS resumes only workflows of its own version. */
const APPLICATION_VERSION = 'fabric-2026-12';

let running: DbosWorkflowEngine | null = null;

const context = (): WorkflowContext => {
  const workflowId = DBOS.workflowID ?? '';
  return {
    workflowId,
    // DBOS refuses to record a step of a run that lost its workflow (another process took it over after this
    // one's lease lapsed): said in core's words, so a workflow does not write that refusal as its failure.
    step: <T>(name: string, fn: () => Promise<T>) =>
      DBOS.runStep(fn, { name }).catch((error: unknown) => {
        throw error instanceof DBOSWorkflowConflictError ? new WorkflowTakenOverError(workflowId) : error;
      }),
  };
};

/** A cron (with seconds) that fires every `seconds`, rounded to a divisor of 60 up to a minute, else whole minutes. */
export function cronEvery(seconds: number): string {
  if (seconds < 60) {
    const divisor = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].filter((d) => d <= Math.max(1, seconds)).at(-1) ?? 1;
    return `*/${divisor} * * * * *`;
  }
  const minutes = Math.max(1, Math.min(30, Math.round(seconds / 60)));
  return `0 */${minutes} * * * *`;
}

export class DbosWorkflowEngine implements WorkflowEngine {
  private readonly definitions: WorkflowDefinition<never>[] = [];
  private readonly work: ScheduledWork[] = [];
  /** DBOS's registered functions, made at launch (DBOS takes registrations only while not launched). */
  private readonly workflows = new Map<string, (input: unknown) => Promise<void>>();
  private readonly scheduled: { name: string; cron: string; fn: (at: Date, ctx: unknown) => Promise<void> }[] = [];
  private leases: pg.Pool | null = null;
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  private log: (line: string) => void;
  /** Workflows of this process that launch re-queued (it was restarted), logged when each runs again. */
  private readonly resuming = new Set<string>();
  private launchedAt = 0;

  constructor(private readonly options: DbosEngineOptions) {
    this.log = (line) => {
      if (options.logLevel !== 'silent' && options.logLevel !== 'error') console.log(`[workflows] ${line}`);
    };
  }

  register<Input>(definition: WorkflowDefinition<Input>): void {
    if (this.definitions.some((d) => d.name === definition.name)) {
      throw new Error(`workflow ${definition.name} registered twice`);
    }
    this.definitions.push(definition as WorkflowDefinition<never>);
  }

  /**
   * Work that runs on a schedule, once per tick across every process (the
   * run's workflow id is the schedule's name and time). Before `launch`.
   */
  schedule(work: ScheduledWork): void {
    this.work.push(work);
  }

  /** Hands the definitions to DBOS; only while it is not launched. */
  private registerWithDbos(): void {
    this.workflows.clear();
    this.scheduled.length = 0;
    for (const definition of this.definitions) {
      const fn = DBOS.registerWorkflow(
        async (input: never) => {
          const id = DBOS.workflowID ?? '';
          if (this.resuming.delete(id)) {
            this.log(`${definition.name} ${id} resumed, ${Date.now() - this.launchedAt} ms after launch`);
          }
          return definition.run(context(), input);
        },
        { name: definition.name },
      );
      this.workflows.set(definition.name, fn as (input: unknown) => Promise<void>);
    }
    for (const work of this.work) {
      const fn = DBOS.registerWorkflow(
        async (_at: Date, _ctx: unknown) => {
          await DBOS.runStep(work.run, { name: work.name });
        },
        { name: `scheduled.${work.name}` },
      );
      this.scheduled.push({ name: work.name, cron: cronEvery(work.everySeconds), fn });
    }
  }

  async start<Input>(definition: WorkflowDefinition<Input>, input: Input, options: StartOptions): Promise<void> {
    const fn = this.workflows.get(definition.name);
    if (!fn) throw new Error(`workflow ${definition.name} is not registered`);
    await DBOS.startWorkflow(fn, {
      workflowID: options.workflowId,
      ...(options.queue ? { queueName: options.queue } : {}),
    })(input);
  }

  async wait(workflowId: string, timeoutMs: number): Promise<WorkflowOutcome> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const status = await DBOS.getWorkflowStatus(workflowId);
      if (status?.status === 'SUCCESS') return 'succeeded';
      if (
        status?.status === 'ERROR' ||
        status?.status === 'CANCELLED' ||
        status?.status === 'MAX_RECOVERY_ATTEMPTS_EXCEEDED'
      )
        return 'failed';
      if (Date.now() + delay > deadline) return 'running';
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async launch(): Promise<void> {
    if (running) {
      throw new Error(
        'A workflow engine is already running in this process (DBOS is one runtime per process): ' +
          'run a second API as its own process',
      );
    }
    running = this;
    this.registerWithDbos();
    const { databaseUrl, executorId, poolSize, logLevel } = this.options;
    DBOS.setConfig({
      name: 'fabric',
      systemDatabaseUrl: databaseUrl,
      systemDatabaseSchemaName: 'dbos',
      systemDatabasePoolSize: poolSize,
      executorID: executorId,
      applicationVersion: APPLICATION_VERSION,
      // DBOS's warnings (a queue that cannot dequeue, a workflow it cannot resume) are worth a line at info.
      logLevel: logLevel === 'debug' ? 'debug' : logLevel === 'info' ? 'warn' : 'error',
    });
    this.leases = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      // The lease first: a process that comes back under its id reclaims its own work.
      await this.renew();
      this.launchedAt = Date.now();
      await DBOS.launch();
      await this.logResumed();
      await DBOS.registerQueue(BACKGROUND_QUEUE, { minPollingIntervalMs: 200, onConflict: 'always_update' });
      await DBOS.applySchedules(
        this.scheduled.map((s) => ({
          scheduleName: s.name,
          workflowFn: s.fn,
          schedule: s.cron,
          queueName: BACKGROUND_QUEUE,
        })),
      );
    } catch (error) {
      running = null;
      await DBOS.shutdown({ deregister: true }).catch(() => undefined);
      await this.leases.end().catch(() => undefined);
      this.leases = null;
      throw error;
    }
    const every = Math.max(100, Math.floor(this.options.leaseMs / 3));
    this.timer = setInterval(() => {
      if (this.renewing) return;
      this.renewing = this.renewAndRecover()
        .catch((error: unknown) => this.log(`lease renewal failed (will retry): ${String(error)}`))
        .finally(() => {
          this.renewing = null;
        });
    }, every);
    this.timer.unref();
  }

  /** Says how many of its own workflows this process resumes (a restarted process), by name: what an operator asks first. */
  private async logResumed(): Promise<void> {
    const resumed = await this.leases?.query<{ id: string; name: string }>(
      `SELECT workflow_uuid AS id, name FROM dbos.workflow_status
       WHERE executor_id = $1 AND status IN ('ENQUEUED', 'PENDING') AND queue_name = '_dbos_internal_queue'
       ORDER BY name LIMIT 1000`,
      [this.options.executorId],
    );
    const rows = resumed?.rows ?? [];
    for (const r of rows) this.resuming.add(r.id);
    if (rows.length) {
      const byName = new Map<string, number>();
      for (const r of rows) byName.set(r.name, (byName.get(r.name) ?? 0) + 1);
      this.log(
        `resuming ${[...byName].map(([name, n]) => `${n} ${name}`).join(', ')} of this process (${this.options.executorId})`,
      );
    }
  }

  private async renew(): Promise<void> {
    await this.leases?.query(
      `INSERT INTO workflow_executors (executor_id, lease_until)
       VALUES ($1, now() + make_interval(secs => $2::double precision / 1000))
       ON CONFLICT (executor_id) DO UPDATE
         SET lease_until = excluded.lease_until, recovered_by = NULL, recovered_at = NULL,
             started_at = CASE WHEN workflow_executors.recovered_by IS NULL THEN workflow_executors.started_at
                          ELSE now() END`,
      [this.options.executorId, this.options.leaseMs],
    );
  }

  /** Renews this process's lease, then takes over the workflows of processes whose lease lapsed. */
  private async renewAndRecover(): Promise<void> {
    await this.renew();
    const dead = await this.leases?.query<{ executor_id: string }>(
      `UPDATE workflow_executors SET recovered_by = $1, recovered_at = now()
       WHERE executor_id <> $1 AND lease_until < now() AND recovered_by IS NULL
       RETURNING executor_id`,
      [this.options.executorId],
    );
    for (const { executor_id: id } of dead?.rows ?? []) {
      const executor = DBOSExecutor.globalInstance;
      if (!executor) return;
      const handles = await executor.recoverPendingWorkflows([id]);
      if (handles.length) this.log(`took over ${handles.length} workflow(s) of stopped process ${id}`);
    }
    await this.pruneHistory();
  }

  private lastPrune = 0;

  /** Finished scheduled runs older than the history window leave the engine's tables (jobs keep their own rows). */
  private async pruneHistory(): Promise<void> {
    const keepMs = this.options.scheduledHistoryMs ?? 3_600_000;
    if (Date.now() - this.lastPrune < Math.min(keepMs, 600_000)) return;
    this.lastPrune = Date.now();
    const old = await DBOS.listWorkflows({
      workflowName: this.scheduled.map((s) => `scheduled.${s.name}`),
      status: ['SUCCESS', 'ERROR'],
      endTime: new Date(Date.now() - keepMs).toISOString(),
      limit: 5_000,
    });
    if (old.length) await DBOS.deleteWorkflows(old.map((w) => w.workflowID));
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    if (running === this) {
      // Workflows still running after the grace period stay PENDING under this
      // executor id: a restart (same id) resumes them at launch, another
      // process at once (the lease is given up below).
      await DBOS.shutdown({ deregister: true, workflowCompletionTimeoutMS: 10_000 });
      running = null;
    }
    await this.leases
      ?.query('UPDATE workflow_executors SET lease_until = now() WHERE executor_id = $1', [this.options.executorId])
      .catch(() => undefined);
    await this.leases?.end().catch(() => undefined);
    this.leases = null;
  }
}
