import { type AgentTask, MAX_HOLDING_REPORTED, type TaskReportResponse } from '@fabric/core/tasks/task-protocol.schema';
import { type AgentApiClient, AgentApiError } from './api-client';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff';
import {
  type Driver,
  DriverError,
  type HostVm,
  type VmOperationContext,
  VmOperationError,
  type VmPowerState,
} from './drivers/driver';
import { AgentExit } from './exit';
import type { EpochStore } from './ha/epoch-store';
import type { Logger } from './log';
import type { SessionLoop } from './reporter';
import type { AgentSession } from './session';
import { sleep as realSleep } from './sleep';
import { TaskError, TaskHandlers } from './task-handlers';
import type { FinalReport, TaskJournal } from './task-journal';

/**
 * The agent's second loop: long-polls the API for tasks, runs them on the
 * driver and reports progress and results (docs/agent-protocol.md, "Tasks").
 *
 * - Up to `concurrency` tasks run at once; tasks for one VM run strictly one
 *   after another, in the order the API handed them out.
 * - Each task runs once: the journal (tasks.json) records it before it runs
 *   and its result before the result is sent. A task handed out again whose
 *   result is recorded gets that result re-sent; one that was running when
 *   the agent died is run again, which idempotent driver operations turn
 *   into "finish what is left".
 * - Final reports are retried with backoff until the API has them, across
 *   restarts; progress reports are best effort (the next one supersedes).
 * - A held task is reported at least every `keepAliveMs`, well inside the
 *   API's 60 s lease, so a long operation is not handed out a second time.
 */
export interface TaskRunnerOptions {
  api: AgentApiClient;
  driver: Driver;
  journal: TaskJournal;
  log: Logger;
  /** Handlers of the kinds beyond vm.* (replica.*, ...), by kind; a kind without one fails UNSUPPORTED_TASK_KIND. */
  handlers?: TaskHandlers;
  /** Tasks running at once (across VMs). Default 4. */
  concurrency?: number;
  /** How long the API may hold a poll for tasks. Default 20 s. */
  waitMs?: number;
  /** Longest silence for a held task before a progress report renews its lease. Default 20 s. */
  keepAliveMs?: number;
  /** How long a poll keeps the send queue before other messages may go (see AgentSession). */
  longPollReleaseMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Ownership epochs per VM (ha/epoch-store.ts): a task under an older epoch fails STALE_EPOCH unrun. */
  epochs?: Pick<EpochStore, 'admit'>;
}

/** Progress reports at these steps (plus start and keep-alives): enough to watch, few enough to be cheap. */
const PROGRESS_STEP = 25;
/** The protocol's limit on `message`. */
const MAX_MESSAGE = 500;
/** The protocol's limit on `max` in a poll. */
const MAX_TASKS_PER_POLL = 32;
/** The longest wait between task polls while the API is unreachable (see pollLoop). */
const POLL_RETRY_AT_MOST_MS = 5_000;

interface HeldTask {
  task: AgentTask;
  /** Aborted when the API asks to cancel this task. */
  cancel: AbortController;
  progress: ProgressChannel;
  /** The journal says an earlier run of the agent started it. */
  resumed: boolean;
}

export class TaskRunner implements SessionLoop {
  private readonly api: AgentApiClient;
  private readonly driver: Driver;
  private readonly journal: TaskJournal;
  private readonly log: Logger;
  private readonly handlers: TaskHandlers;
  private readonly concurrency: number;
  private readonly waitMs: number;
  private readonly keepAliveMs: number;
  private readonly longPollReleaseMs: number;
  private readonly backoffOptions: BackoffOptions;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly epochs: Pick<EpochStore, 'admit'> | null;

  private session: AgentSession | null = null;
  private stop = new AbortController();
  private fatal: unknown = null;
  /** Tasks received and not yet finished (queued behind their VM, waiting for a slot, or running). */
  private readonly held = new Map<string, HeldTask>();
  /** The last task of each VM: the next one for that VM starts after it. */
  private readonly vmTails = new Map<string, Promise<void>>();
  private active = 0;
  private slotWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  /** Final reports being delivered, each with a way to cut its backoff short. */
  private readonly delivering = new Map<string, { wake: () => void }>();
  /** Everything started in the background, awaited before run() returns. */
  private readonly background = new Set<Promise<unknown>>();

  constructor(options: TaskRunnerOptions) {
    this.api = options.api;
    this.driver = options.driver;
    this.journal = options.journal;
    this.log = options.log;
    this.handlers = options.handlers ?? new TaskHandlers();
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.waitMs = options.waitMs ?? 20_000;
    this.keepAliveMs = options.keepAliveMs ?? 20_000;
    this.longPollReleaseMs = options.longPollReleaseMs ?? 250;
    this.backoffOptions = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? realSleep;
    this.epochs = options.epochs ?? null;
  }

  async run(session: AgentSession, signal: AbortSignal): Promise<void> {
    this.session = session;
    this.stop = new AbortController();
    this.fatal = null;
    const onAbort = () => this.stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) this.stop.abort();
    try {
      await this.journal.load(this.log);
      // Results of an earlier run that the API may not have: send them first.
      for (const entry of this.journal.unacknowledged()) this.deliver(entry.taskId);
      await this.pollLoop(session);
    } catch (error) {
      this.die(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.stop.abort();
      this.wakeAll();
      // Running operations see the abort and stop at their next safe point; wait for them.
      while (this.background.size > 0) await Promise.allSettled([...this.background]);
    }
    if (this.fatal !== null) throw this.fatal;
  }

  private async pollLoop(session: AgentSession): Promise<void> {
    const backoff = new Backoff(this.backoffOptions, this.random);
    let failure: string | null = null;
    const maxHeld = this.concurrency * 2;
    while (!this.stop.signal.aborted) {
      // Tasks queued behind their VM are held too: take more only when there is room.
      await this.waitFor(() => this.held.size < maxHeld, this.roomWaiters);
      if (this.stop.signal.aborted) return;
      const max = Math.min(MAX_TASKS_PER_POLL, maxHeld - this.held.size);
      try {
        const { tasks } = await session.authed(
          (seq) =>
            this.api.nextTasks(
              session.hostId,
              session.credential.credential,
              { seq, waitMs: this.waitMs, max, ...this.holding() },
              this.stop.signal,
            ),
          { releaseAfterMs: this.longPollReleaseMs },
        );
        if (failure !== null) {
          this.log.info(`tasks: polling again after ${backoff.attempts} failed attempt(s)`);
          // The API is back: results waiting out a backoff go now (they carry the VMs' states).
          for (const delivery of this.delivering.values()) delivery.wake();
        }
        failure = null;
        backoff.reset();
        for (const task of tasks) this.accept(task);
      } catch (error) {
        if (this.stop.signal.aborted) return;
        if (!(error instanceof AgentApiError)) throw error;
        const { attempt, delayMs: backoffMs } = backoff.next();
        // At most about 5 s between polls, however long the outage: a returning API's first tasks (an HA
        // restart, a migration step) are not left waiting out a 30 s backoff. Capped delays keep a jitter.
        let delayMs =
          backoffMs <= POLL_RETRY_AT_MOST_MS
            ? backoffMs
            : Math.round(POLL_RETRY_AT_MOST_MS * (0.8 + 0.2 * this.random()));
        let description = describeFailure(error, 'poll for tasks');
        if (error.status === 404 || error.status === 405) {
          // An API from before tasks: keep heartbeating, look again now and then.
          description = `the API does not serve tasks (HTTP ${error.status} ${error.code})`;
          delayMs = this.backoffOptions.maxMs;
        }
        if (description !== failure || isPowerOfTwo(attempt)) {
          this.log.warn(`tasks: ${description}, polling again in ${formatMs(delayMs)} (attempt ${attempt})`);
        }
        failure = description;
        await this.sleep(delayMs, this.stop.signal);
      }
    }
  }

  /**
   * What this agent holds, sent with each poll: a task handed to this host that is not here (the answer
   * that carried it was lost with an API process or a connection) is handed out again at once, not after
   * its lease. Omitted past the protocol's limit (the lease still covers that case).
   */
  private holding(): { holding?: string[] } {
    const ids = new Set([...this.held.keys(), ...this.delivering.keys()]);
    return ids.size <= MAX_HOLDING_REPORTED ? { holding: [...ids] } : {};
  }

  /** Takes a task from a poll: runs it, re-sends its stored result, or ignores a copy already held. */
  private accept(task: AgentTask): void {
    const id = shortId(task.taskId);
    if (this.held.has(task.taskId)) {
      // Handed out again while we still run it (its lease lapsed during an outage): one run is enough.
      this.log.info(`task ${id} handed out again (attempt ${task.attempt}) while it runs here; not starting it twice`);
      return;
    }
    const entry = this.journal.get(task.taskId);
    if (entry?.status === 'finished' && entry.report !== null) {
      this.log.info(
        `task ${id} (${task.kind}) handed out again (attempt ${task.attempt}) but already ${entry.report.status}; ` +
          're-sending its result instead of running it twice',
      );
      this.deliver(task.taskId, true);
      return;
    }
    const held: HeldTask = {
      task,
      cancel: new AbortController(),
      progress: new ProgressChannel(
        (percent, message) => this.sendProgress(held, percent, message),
        this.keepAliveMs,
        'waiting for an earlier task on the same VM',
      ),
      resumed: entry?.status === 'running',
    };
    this.held.set(task.taskId, held);
    const previous = this.vmTails.get(task.vmId) ?? Promise.resolve();
    const chain: Promise<void> = previous
      .then(() => this.execute(held))
      .catch((error: unknown) => this.die(error))
      .finally(async () => {
        await held.progress.close();
        this.held.delete(task.taskId);
        if (this.vmTails.get(task.vmId) === chain) this.vmTails.delete(task.vmId);
        this.roomWaiters.shift()?.();
      });
    this.vmTails.set(task.vmId, chain);
    this.track(chain);
  }

  private async execute(held: HeldTask): Promise<void> {
    const { task } = held;
    const release = await this.acquireSlot();
    if (release === null) return; // stopping: the API hands it out again after the restart
    const id = shortId(task.taskId);
    let report: FinalReport | null = null;
    try {
      await this.journal.markRunning(task);
      const note = held.resumed ? 'resuming after an agent restart' : 'started';
      this.log.info(`task ${id} ${task.kind} of VM ${shortId(task.vmId)} ${note} (attempt ${task.attempt})`);
      held.progress.start(note);
      const context: VmOperationContext = {
        signal: AbortSignal.any([held.cancel.signal, this.stop.signal]),
        onProgress: (percent, message) => held.progress.update(percent, message),
      };
      try {
        report = (await this.staleEpochReport(task)) ?? (await this.perform(task, context));
      } catch (error) {
        const interrupted =
          error instanceof VmOperationError &&
          error.code === 'CANCELLED' &&
          this.stop.signal.aborted &&
          !held.cancel.signal.aborted;
        if (interrupted) {
          // Stopped by the agent, not cancelled by the API: the journal still says running,
          // and the task is handed out again after the restart and resumed.
          this.log.info(`task ${id} interrupted by the agent stopping; it resumes after the restart`);
          return;
        }
        report = await this.failureReport(task, error);
      }
      await held.progress.close();
      await this.journal.finish(task, report);
    } finally {
      release();
    }
    if (report.status === 'succeeded') this.log.info(`task ${id} ${task.kind} succeeded: ${report.message}`);
    else this.log.warn(`task ${id} ${task.kind} failed ${report.code}: ${report.message}`);
    this.deliver(task.taskId);
  }

  private async perform(task: AgentTask, context: VmOperationContext): Promise<FinalReport> {
    const driver = this.driver;
    const done = (vm: HostVm, what: string): FinalReport => ({
      status: 'succeeded',
      vmState: vm.state,
      message: clip(`VM ${vm.name} ${what}; it is ${vm.state}`),
    });
    switch (task.kind) {
      case 'vm.create': {
        const spec = task.spec;
        if (spec === null || spec.vmId !== task.vmId) {
          const why =
            spec === null ? 'vm.create carries no spec' : `spec is for VM ${spec.vmId}, task for ${task.vmId}`;
          throw new VmOperationError('INVALID_SPEC', why, await this.vmStateOf(task.vmId));
        }
        return done(await driver.createVm(spec, context), 'created');
      }
      case 'vm.start':
        return done(await driver.startVm(task.vmId, context), 'started');
      case 'vm.stop':
        return done(await driver.stopVm(task.vmId, context), 'shut down');
      case 'vm.turn-off':
        return done(await driver.turnOffVm(task.vmId, context), 'turned off');
      case 'vm.restart':
        return done(await driver.restartVm(task.vmId, context), 'restarted');
      case 'vm.pause':
        return done(await driver.pauseVm(task.vmId, context), 'paused');
      case 'vm.resume':
        return done(await driver.resumeVm(task.vmId, context), 'resumed');
      case 'vm.save':
        return done(await driver.saveVm(task.vmId, context), 'saved');
      case 'vm.delete':
        await driver.deleteVm(task.vmId, context);
        return { status: 'succeeded', vmState: null, message: `VM ${task.vmId} deleted` };
      default: {
        // Every other kind is run by the handler registered for it (task-handlers.ts).
        const handler = this.handlers.get(task.kind);
        if (!handler) {
          throw new TaskError(
            'UNSUPPORTED_TASK_KIND',
            `this agent has no handler for ${task.kind} tasks`,
            await this.vmStateOf(task.vmId),
          );
        }
        const report = await handler(task, context);
        return { ...report, message: clip(report.message) };
      }
    }
  }

  /** The refusal of a task queued before its VM moved to another host (ownership epochs), or null to run it. */
  private async staleEpochReport(task: AgentTask): Promise<FinalReport | null> {
    const known = this.epochs ? await this.epochs.admit(task) : null;
    if (known === null) return null;
    return {
      status: 'failed',
      code: 'STALE_EPOCH',
      message: clip(`task is for ownership epoch ${task.epoch}, but this host has heard of epoch ${known}; not run`),
      vmState: await this.vmStateOf(task.vmId),
    };
  }

  /** A stable code for every failure; anything the driver did not classify is DRIVER_ERROR. */
  private async failureReport(task: AgentTask, error: unknown): Promise<FinalReport> {
    if (error instanceof VmOperationError || error instanceof TaskError) {
      return { status: 'failed', code: error.code.slice(0, 64), message: clip(error.message), vmState: error.vmState };
    }
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof DriverError)) {
      // Not a driver refusal but a bug somewhere: say so in the log with the stack.
      this.log.error(
        `task ${shortId(task.taskId)}: unexpected error: ${error instanceof Error ? error.stack : message}`,
      );
    }
    return { status: 'failed', code: 'DRIVER_ERROR', message: clip(message), vmState: await this.vmStateOf(task.vmId) };
  }

  private async vmStateOf(vmId: string): Promise<VmPowerState | null> {
    try {
      return (await this.driver.listVms()).find((vm) => vm.vmId === vmId)?.state ?? null;
    } catch {
      return null;
    }
  }

  /** One progress report; a cancel (or a refusal: the task ended elsewhere) aborts the task if it still can be. */
  private async sendProgress(held: HeldTask, percent: number, message: string): Promise<void> {
    const session = this.session;
    if (session === null || this.stop.signal.aborted) return;
    const { task } = held;
    let answer: TaskReportResponse;
    try {
      answer = await session.authed((seq) =>
        this.api.reportTask(
          session.hostId,
          session.credential.credential,
          task.taskId,
          { seq, status: 'running', progress: Math.max(0, Math.min(100, Math.round(percent))), message: clip(message) },
          this.stop.signal,
        ),
      );
    } catch (error) {
      if (this.stop.signal.aborted) return;
      if (error instanceof AgentExit) return this.die(error);
      if (error instanceof AgentApiError && error.status === 404) {
        this.cancelHeld(held, `the API no longer knows task ${shortId(task.taskId)} (${error.code})`);
        return;
      }
      // Best effort: the next report, or the final one (which is retried), carries the news.
      if (error instanceof AgentApiError) return;
      return this.die(error);
    }
    if (answer.cancel) this.cancelHeld(held, `the API asked to cancel task ${shortId(task.taskId)}`);
    else if (!answer.accepted) this.cancelHeld(held, `the API has task ${shortId(task.taskId)} finished already`);
  }

  private cancelHeld(held: HeldTask, why: string): void {
    if (held.cancel.signal.aborted) return;
    this.log.info(`${why}; cancelling it unless it is past its point of no return`);
    held.cancel.abort();
  }

  /** Sends a finished task's result until the API has it; `wake` cuts a running backoff short. */
  private deliver(taskId: string, wake = false): void {
    const running = this.delivering.get(taskId);
    if (running) {
      if (wake) running.wake();
      return;
    }
    const state = { wake: (): void => undefined };
    this.delivering.set(taskId, state);
    const delivery = this.deliverUntilAccepted(taskId, state)
      .catch((error: unknown) => this.die(error))
      .finally(() => this.delivering.delete(taskId));
    this.track(delivery);
  }

  private async deliverUntilAccepted(taskId: string, state: { wake: () => void }): Promise<void> {
    const session = this.session;
    if (session === null) return;
    const backoff = new Backoff(this.backoffOptions, this.random);
    const id = shortId(taskId);
    let failure: string | null = null;
    while (!this.stop.signal.aborted) {
      const report = this.journal.get(taskId)?.report;
      if (!report) return;
      try {
        const answer = await session.authed((seq) =>
          this.api.reportTask(
            session.hostId,
            session.credential.credential,
            taskId,
            { seq, ...report },
            this.stop.signal,
          ),
        );
        if (failure !== null) this.log.info(`task ${id}: result delivered after ${backoff.attempts} failed attempt(s)`);
        if (!answer.accepted) {
          this.log.warn(
            `task ${id}: the API had already recorded another result; ours (${report.status}) was not used`,
          );
        }
        await this.journal.acknowledge(taskId);
        return;
      } catch (error) {
        if (this.stop.signal.aborted) return;
        if (!(error instanceof AgentApiError)) throw error;
        if (!error.retryable) {
          // 404: the task is gone (deleted, or never this host's): nobody will read the result.
          // Other 4xx: the API refuses this body, and sending it unchanged again cannot help.
          this.log.warn(
            `task ${id}: the API refused the result (HTTP ${error.status} ${error.code}: ${error.message})`,
          );
          await this.journal.acknowledge(taskId);
          return;
        }
        const { attempt, delayMs: backoffMs } = backoff.next();
        // Capped as polls are: a result is what a returning API waits for (an HA restart's start, a migration step).
        const delayMs =
          backoffMs <= POLL_RETRY_AT_MOST_MS
            ? backoffMs
            : Math.round(POLL_RETRY_AT_MOST_MS * (0.8 + 0.2 * this.random()));
        const description = describeFailure(error, 'task result');
        if (description !== failure || isPowerOfTwo(attempt)) {
          this.log.warn(`task ${id}: result not delivered (${description}), retrying in ${formatMs(delayMs)}`);
        }
        failure = description;
        const wake = new AbortController();
        state.wake = () => wake.abort();
        await this.sleep(delayMs, AbortSignal.any([this.stop.signal, wake.signal]));
      }
    }
  }

  private async acquireSlot(): Promise<(() => void) | null> {
    await this.waitFor(() => this.active < this.concurrency, this.slotWaiters);
    if (this.stop.signal.aborted) return null;
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.slotWaiters.shift()?.();
    };
  }

  /** Waits until `ready()` or the runner stops; `waiters` is the list whoever changes the condition wakes. */
  private async waitFor(ready: () => boolean, waiters: (() => void)[]): Promise<void> {
    while (!ready() && !this.stop.signal.aborted) {
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }

  private wakeAll(): void {
    for (const wake of this.slotWaiters.splice(0)) wake();
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private track(promise: Promise<unknown>): void {
    this.background.add(promise);
    void promise.finally(() => this.background.delete(promise));
  }

  /** Stops everything; run() rethrows the first reason (an AgentExit ends the agent with its code). */
  private die(error: unknown): void {
    if (this.fatal === null) this.fatal = error;
    this.stop.abort();
    this.wakeAll();
  }
}

/**
 * The progress reports of one task: at start, at each 25 % step, and as a
 * keep-alive when nothing else was sent for a while. One report at a time;
 * while one is in flight only the newest waiting one is kept.
 */
class ProgressChannel {
  private percent = 0;
  private message: string;
  private nextStep = 0;
  private inFlight: Promise<void> | null = null;
  private pending = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly send: (percent: number, message: string) => Promise<void>,
    keepAliveMs: number,
    waitingMessage: string,
  ) {
    this.message = waitingMessage;
    this.timer = setInterval(() => this.request(), keepAliveMs);
    // A keep-alive is no reason to keep the process alive.
    this.timer.unref();
  }

  start(message: string): void {
    this.nextStep = 0;
    this.update(0, message);
  }

  update(percent: number, message: string): void {
    this.percent = percent;
    this.message = message;
    // 100 % is the final report's news; a running report saying so would only race it.
    if (percent >= 100 || percent < this.nextStep) return;
    this.nextStep = (Math.floor(percent / PROGRESS_STEP) + 1) * PROGRESS_STEP;
    this.request();
    this.timer.refresh();
  }

  /** Stops the keep-alive and waits for the report in flight, so the final report comes after it. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    while (this.inFlight) await this.inFlight;
  }

  private request(): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    this.inFlight = this.send(Math.min(99, this.percent), this.message).finally(() => {
      this.inFlight = null;
      if (this.pending) {
        this.pending = false;
        this.request();
      }
    });
  }
}

function describeFailure(error: AgentApiError, what: string): string {
  switch (error.kind) {
    case 'unreachable':
      return `API unreachable (${error.message})`;
    case 'bad-response':
      return `API gave an unexpected answer (${error.message})`;
    case 'http':
      return error.retryable
        ? `API unavailable (HTTP ${error.status} ${error.code}: ${error.message})`
        : `API refused the ${what} (HTTP ${error.status} ${error.code}: ${error.message})`;
  }
}

function clip(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}
