import { type VmSample, vmSampleSchema } from '@fabric/core/metering/sample-protocol.schema';
import { type AgentApiClient, AgentApiError } from './api-client';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff';
import { type Driver, DriverError } from './drivers/driver';
import { AgentExit } from './exit';
import type { Logger } from './log';
import type { MeteredAcls } from './metered-acls';
import type { SessionLoop } from './reporter';
import type { SampleBuffer } from './sample-buffer';
import type { AgentSession } from './session';
import { sleep as realSleep } from './sleep';

/**
 * The agent's third loop: resource metering (docs/agent-protocol.md, "Samples").
 *
 * - The collector wakes at every wall-clock multiple of `intervalSeconds`
 *   (12:00:00, 12:01:00, … for 60 s), asks the driver for one sample per VM
 *   for the interval that just ended (`at` = its end) and appends them to the
 *   on-disk buffer as a batch. An interval the agent slept through (a stopped
 *   process, a suspended machine) is skipped, not invented.
 * - The sender posts buffered batches oldest first, one at a time, through the
 *   session's queue (so seq stays strictly increasing across all loops), and
 *   deletes each when the API answers 200. No answer, 5xx, 408 or 429: the batch
 *   stays and the sender backs off; the collector keeps buffering meanwhile.
 *   400, 413 or 422: the API will never take that batch; it is dropped with one
 *   log line, except a 422 IMPLAUSIBLE_SAMPLES that lists the samples that cannot
 *   be true: those are left out (logged) and the rest of the batch is sent again. 404/405: an API from before metering; batches are kept and the
 *   sender looks again at the longest backoff. 401/403 end the agent.
 *
 * The API stores each (vmId, at) once, so a batch resent after a lost answer
 * or a restart changes nothing.
 */
export interface MeteringClock {
  now(): number;
  /** Resolves at `epochMs` or when `signal` aborts, whichever is first. */
  sleepUntil(epochMs: number, signal: AbortSignal): Promise<void>;
}

export const realClock: MeteringClock = {
  now: () => Date.now(),
  async sleepUntil(epochMs, signal) {
    // Timers may fire a hair early; an interval must not be sampled before it ends.
    while (!signal.aborted && Date.now() < epochMs) await realSleep(epochMs - Date.now(), signal);
  },
};

export interface MeteringOptions {
  api: AgentApiClient;
  driver: Pick<Driver, 'sampleVms'>;
  buffer: SampleBuffer;
  log: Logger;
  /** Interval length, whole seconds, 1–3600; default 60. */
  intervalSeconds?: number;
  /** When intervals end (tests run a fast clock). */
  clock?: MeteringClock;
  backoff?: BackoffOptions;
  random?: () => number;
  /** The sender's backoff waits. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The metered port ACLs the API asked for (learned from heartbeats); none: samples carry no ACLs. */
  acls?: Pick<MeteredAcls, 'current'>;
}

/** Statuses after which a batch is never retried: the API says the batch itself is wrong. */
const REFUSED_STATUSES = new Set([400, 413, 422]);

export class Metering implements SessionLoop {
  private readonly intervalSeconds: number;
  private readonly clock: MeteringClock;
  private readonly backoff: Backoff;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private wakeSender: (() => void) | null = null;
  /** Times the buffer was full, for logging at 1, 2, 4, 8…; reset when the buffer drains. */
  private fullEvents = 0;
  private droppedSinceFull = 0;
  private lastCollectProblem: string | null = null;
  /**
   * Batches the API refused for naming an ACL it does not know (a class
   * removed after the agent learned it): sent again without their ACL bytes
   * rather than dropped, so the rest of their figures still count.
   */
  private readonly withoutAcls = new Set<number>();
  /**
   * Samples the API refused as impossible (422 IMPLAUSIBLE_SAMPLES: in the
   * future, before the VM existed, above its size…), by batch, as `vmId@at`:
   * left out when the batch is sent again, so its true samples still count.
   */
  private readonly refusedSamples = new Map<number, Set<string>>();

  constructor(private readonly options: MeteringOptions) {
    this.intervalSeconds = options.intervalSeconds ?? 60;
    if (!Number.isInteger(this.intervalSeconds) || this.intervalSeconds < 1 || this.intervalSeconds > 3600) {
      throw new Error(`metering interval must be 1–3600 whole seconds, not ${this.intervalSeconds}`);
    }
    this.clock = options.clock ?? realClock;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, options.random ?? Math.random);
    this.sleep = options.sleep ?? realSleep;
  }

  async run(session: AgentSession, signal: AbortSignal): Promise<void> {
    const { buffer, log } = this.options;
    await buffer.open();
    if (buffer.size > 0) {
      log.info(
        `metering: ${buffer.size} sample(s) in ${buffer.batchNumbers.length} batch(es) buffered by an earlier run; sending them first`,
      );
    }
    log.info(`metering: a sample per VM every ${this.intervalSeconds}s`);
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) inner.abort();
    try {
      const results = await Promise.allSettled(
        [this.collectLoop(inner.signal), this.sendLoop(session, inner.signal)].map((loop) =>
          loop.catch((error: unknown) => {
            inner.abort();
            throw error;
          }),
        ),
      );
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      const exit = failures.find((f) => f instanceof AgentExit);
      if (exit !== undefined) throw exit;
      if (failures.length > 0) throw failures[0];
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  /** The end of the interval in progress at `ms`: the next wall-clock multiple of the interval. */
  nextIntervalEnd(ms: number): number {
    const step = this.intervalSeconds * 1000;
    return (Math.floor(ms / step) + 1) * step;
  }

  private async collectLoop(signal: AbortSignal): Promise<void> {
    let end = this.nextIntervalEnd(this.clock.now());
    while (!signal.aborted) {
      await this.clock.sleepUntil(end, signal);
      if (signal.aborted) return;
      await this.collect(end);
      end = Math.max(end + this.intervalSeconds * 1000, this.nextIntervalEnd(this.clock.now()));
    }
  }

  /** Samples the interval ending at `end` into the buffer; problems are logged, never fatal. */
  private async collect(end: number): Promise<void> {
    const { buffer, driver, log } = this.options;
    let samples: VmSample[];
    try {
      const acls = this.options.acls?.current() ?? [];
      samples = acls.length
        ? await driver.sampleVms(new Date(end), this.intervalSeconds, acls)
        : await driver.sampleVms(new Date(end), this.intervalSeconds);
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      this.collectProblem(`cannot sample the VMs (${error.message}); interval skipped`);
      return;
    }
    // A sample the API would refuse would take its whole batch down with it: leave it out here.
    const valid = samples.filter((s) => vmSampleSchema.safeParse(s).success);
    if (valid.length < samples.length) {
      log.error(`metering: the driver gave ${samples.length - valid.length} invalid sample(s); left out`);
    }
    if (valid.length === 0) return;
    try {
      const result = await buffer.append(valid);
      if (this.lastCollectProblem !== null) log.info('metering: buffering samples again');
      this.lastCollectProblem = null;
      if (result.dropped > 0) {
        this.fullEvents += 1;
        this.droppedSinceFull += result.dropped;
        if ((this.fullEvents & (this.fullEvents - 1)) === 0) {
          log.warn(
            `metering: buffer full (${buffer.maxSamples} samples); dropped the ${this.droppedSinceFull} oldest so far, ` +
              'the API will be told how many',
          );
        }
      }
    } catch (error) {
      this.collectProblem(`cannot buffer samples (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    this.wakeSender?.();
  }

  private collectProblem(message: string): void {
    if (message !== this.lastCollectProblem) this.options.log.error(`metering: ${message}`);
    this.lastCollectProblem = message;
  }

  private async sendLoop(session: AgentSession, signal: AbortSignal): Promise<void> {
    const { api, buffer, log } = this.options;
    let failure: string | null = null;
    while (!signal.aborted) {
      const batch = await buffer.take();
      if (batch === null) {
        if (this.fullEvents > 0) {
          log.info(`metering: buffer drained; ${this.droppedSinceFull} sample(s) had been dropped while it was full`);
          this.fullEvents = 0;
          this.droppedSinceFull = 0;
        }
        await this.waitForBatch(signal);
        continue;
      }
      let outcome: 'acknowledged' | 'refused' | 'kept' = 'kept';
      let delayMs = 0;
      try {
        await session.authed((seq) =>
          api.sendSamples(
            session.hostId,
            session.credential.credential,
            {
              seq,
              batch: batch.batch,
              dropped: batch.dropped,
              samples: this.outgoing(batch.batch, batch.samples),
            },
            signal,
          ),
        );
        outcome = 'acknowledged';
        if (failure !== null) {
          log.info(`metering: API takes samples again after ${this.backoff.attempts} failed attempt(s)`);
        }
        failure = null;
        this.backoff.reset();
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof AgentApiError)) throw error;
        if (
          error.kind === 'http' &&
          error.code === 'UNKNOWN_METERED_ACL' &&
          !this.withoutAcls.has(batch.batch) &&
          batch.samples.some((sample) => sample.networkAcls !== undefined)
        ) {
          this.withoutAcls.add(batch.batch);
          log.warn(
            `metering: API does not know an ACL of batch ${batch.batch} (${error.message}); resending it without ACLs`,
          );
        } else if (error.kind === 'http' && error.code === 'IMPLAUSIBLE_SAMPLES' && this.leaveOut(batch, error)) {
          log.error(
            `metering: API refused ${error.refusedSamples.length} sample(s) of batch ${batch.batch} as impossible ` +
              `(${error.message}); sending the rest again without them`,
          );
        } else if (error.kind === 'http' && REFUSED_STATUSES.has(error.status)) {
          outcome = 'refused';
          log.error(
            `metering: API refused batch ${batch.batch} (${batch.samples.length} samples; HTTP ${error.status} ` +
              `${error.code}: ${error.message}); dropped`,
          );
        } else {
          const next = this.backoff.next();
          delayMs = next.delayMs;
          let description = describeSendFailure(error);
          if (error.kind === 'http' && (error.status === 404 || error.status === 405)) {
            description = `the API does not take samples (HTTP ${error.status} ${error.code})`;
            delayMs = (this.options.backoff ?? DEFAULT_BACKOFF).maxMs;
          }
          if (description !== failure || (next.attempt & (next.attempt - 1)) === 0) {
            log.warn(
              `metering: ${description}; ${buffer.size} sample(s) buffered, retrying in ${delayMs}ms (attempt ${next.attempt})`,
            );
          }
          failure = description;
        }
      } finally {
        await buffer.release(batch.batch, outcome);
        if (outcome !== 'kept') {
          this.withoutAcls.delete(batch.batch);
          this.refusedSamples.delete(batch.batch);
        }
      }
      if (delayMs > 0) await this.sleep(delayMs, signal);
    }
  }

  /** A buffered batch's samples as sent now: without those refused as impossible, and without ACLs if asked. */
  private outgoing(batch: number, samples: readonly VmSample[]): VmSample[] {
    const refused = this.refusedSamples.get(batch);
    const kept = refused ? samples.filter((s) => !refused.has(`${s.vmId}@${s.at}`)) : [...samples];
    return this.withoutAcls.has(batch) ? kept.map(({ networkAcls: _, ...sample }) => sample) : kept;
  }

  /**
   * Records the samples a 422 IMPLAUSIBLE_SAMPLES names (indexes into what was sent) to leave out of the next
   * send; false when that leaves nothing to send or names nothing new (then the batch is dropped as refused).
   */
  private leaveOut(batch: { batch: number; samples: readonly VmSample[] }, error: AgentApiError): boolean {
    const sent = this.outgoing(batch.batch, batch.samples);
    const refused = this.refusedSamples.get(batch.batch) ?? new Set<string>();
    const before = refused.size;
    for (const verdict of error.refusedSamples) {
      const sample = sent[verdict.index];
      if (sample) refused.add(`${sample.vmId}@${sample.at}`);
    }
    if (refused.size === before) return false;
    this.refusedSamples.set(batch.batch, refused);
    return this.outgoing(batch.batch, batch.samples).length > 0;
  }

  /** Until the collector buffers a batch, or the loop stops. */
  private waitForBatch(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wakeSender = null;
        resolve();
      };
      if (signal.aborted) return resolve();
      this.wakeSender = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function describeSendFailure(error: AgentApiError): string {
  switch (error.kind) {
    case 'unreachable':
      return `API unreachable (${error.message})`;
    case 'bad-response':
      return `API gave an unexpected answer (${error.message})`;
    case 'http':
      return `API unavailable (HTTP ${error.status} ${error.code}: ${error.message})`;
  }
}
