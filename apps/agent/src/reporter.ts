import { randomUUID } from 'node:crypto';
import type { HostInventory } from '@fabric/core/fabric/inventory.schema';
import { type AgentApiClient, AgentApiError } from './api-client';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff';
import { canonicalJson } from './canonical-json';
import { type Driver, DriverError, type HostUsage } from './drivers/driver';
import { AgentExit, type AgentExitInfo, EXIT_CODES } from './exit';
import type { HaAgent } from './ha/ha-agent';
import type { Logger } from './log';
import type { MeteredAcls } from './metered-acls';
import { SeqCounter } from './seq';
import { AgentSession } from './session';
import { sleep as realSleep } from './sleep';
import { StateError, type StateStore, type StoredCredential } from './state-store';
import { AGENT_VERSION } from './version';

export { EXIT_CODES, type ExitCode } from './exit';
export type ReporterExit = AgentExitInfo;

/**
 * Another loop that runs beside the heartbeats once the host is registered
 * (the task runner, metering), on the same session. It returns when `signal` aborts and
 * rejects with an AgentExit when the agent must stop (401, 403); either loop
 * ending that way stops the other.
 */
export interface SessionLoop {
  run(session: AgentSession, signal: AbortSignal): Promise<void>;
}

export interface ReporterOptions {
  api: AgentApiClient;
  driver: Driver;
  store: StateStore;
  log: Logger;
  /** The API the agent was started against; compared with the stored credential's. */
  apiUrl: string;
  /** One-time registration token; only needed until a credential is stored. */
  token?: string;
  agentVersion?: string;
  /** Replaces the interval the API asks for (tests, demos). */
  heartbeatMsOverride?: number;
  backoff?: BackoffOptions;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Runs beside the heartbeat loop after registration (tasks). */
  tasks?: SessionLoop;
  /** Runs beside the heartbeat loop after registration (resource metering). */
  metering?: SessionLoop;
  /** Where the metered ACLs of each heartbeat answer go (read by the metering loop). */
  meteredAcls?: MeteredAcls;
  /** High availability (ha/ha-agent.ts): adds `ha` to each heartbeat and acts on the answer's. */
  ha?: Pick<HaAgent, 'heartbeat' | 'answered' | 'failed'>;
}

/** Used until the API says otherwise; the protocol's documented default. */
const DEFAULT_HEARTBEAT_MS = 10_000;
/** Intervals the API may ask for; outside this the answer is ignored as a mistake. */
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_600_000;

/**
 * The agent's life: register once (token → credential), then forever report
 * inventory when it changes and heartbeat every interval, riding out API
 * outages with backoff. Returns how the process should exit.
 */
export class Reporter {
  private readonly api: AgentApiClient;
  private readonly driver: Driver;
  private readonly store: StateStore;
  private readonly log: Logger;
  private readonly agentVersion: string;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly backoff: Backoff;
  private readonly random: () => number;

  private intervalMs: number;
  private session: AgentSession | null = null;
  /** The hash the API returned for the last inventory it accepted; heartbeats echo it. */
  private inventoryHash = '';
  /** Canonical JSON of the inventory the API last accepted. */
  private acceptedInventory: string | null = null;
  /** Canonical JSON of an inventory the API refused (4xx), so it is not resent every beat. */
  private rejectedInventory: string | null = null;
  private inventoryRequested = true;
  private lastInventory: HostInventory | null = null;
  private lastDriverProblem: string | null = null;
  private lastHostState: string | null = null;
  /** The current outage's description, null while the API answers. */
  private failure: string | null = null;

  constructor(private readonly options: ReporterOptions) {
    this.api = options.api;
    this.driver = options.driver;
    this.store = options.store;
    this.log = options.log;
    this.agentVersion = options.agentVersion ?? AGENT_VERSION;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, this.random);
    this.intervalMs = options.heartbeatMsOverride ?? DEFAULT_HEARTBEAT_MS;
  }

  async run(signal: AbortSignal): Promise<ReporterExit> {
    try {
      const credential = await this.ensureRegistered(signal);
      const seq = await SeqCounter.load(this.store, this.now);
      this.session = new AgentSession(credential, seq, this.log, {
        credentialPath: this.store.credentialPath,
        stateDir: this.store.dir,
      });
      await this.runLoops(this.session, signal);
      this.log.info('stopped');
      return { code: EXIT_CODES.stopped, reason: 'stopped' };
    } catch (error) {
      if (error instanceof AgentExit) {
        if (error.exit.code === EXIT_CODES.stopped) this.log.info(error.exit.reason);
        else this.log.error(error.exit.reason);
        return error.exit;
      }
      if (signal.aborted) {
        this.log.info('stopped');
        return { code: EXIT_CODES.stopped, reason: 'stopped' };
      }
      if (error instanceof StateError) {
        this.log.error(error.message);
        return { code: EXIT_CODES.fatal, reason: error.message };
      }
      throw error;
    }
  }

  private async ensureRegistered(signal: AbortSignal): Promise<StoredCredential> {
    const stored = await this.store.loadCredential();
    if (stored !== null) {
      if (normalizeUrl(stored.apiUrl) !== normalizeUrl(this.options.apiUrl)) {
        throw new AgentExit({
          code: EXIT_CODES.fatal,
          reason:
            `${this.store.credentialPath} holds a credential for ${stored.apiUrl}, not ${this.options.apiUrl}; ` +
            'use another --state-dir for this API, or remove that file to register again',
        });
      }
      if (this.options.token !== undefined) {
        this.log.info(`already registered as host ${stored.hostId}; --token is not needed and was not used`);
      }
      this.log.info(`using stored credential for host ${stored.hostId} (cluster ${stored.clusterId})`);
      return stored;
    }
    const token = this.options.token;
    if (token === undefined) {
      throw new AgentExit({
        code: EXIT_CODES.usage,
        reason: `not registered yet (no ${this.store.credentialPath}): start once with --token <registration token>`,
      });
    }
    let inventory: HostInventory;
    try {
      inventory = await this.driver.inventory();
    } catch (error) {
      if (error instanceof DriverError) throw new AgentExit({ code: EXIT_CODES.fatal, reason: error.message });
      throw error;
    }
    this.lastInventory = inventory;
    // One id for this registration, reused by every retry of it: if an answer
    // is lost, the API recognises the retry and returns the same host.
    const requestId = randomUUID();

    while (true) {
      try {
        const registered = await this.api.register(
          { token, requestId, agentVersion: this.agentVersion, driver: this.driver.name, inventory },
          signal,
        );
        const credential: StoredCredential = {
          apiUrl: this.options.apiUrl,
          hostId: registered.hostId,
          clusterId: registered.clusterId,
          credential: registered.credential,
        };
        // Stored before anything else: the token is spent, this file is now the host's only identity.
        await this.store.saveCredential(credential);
        // The inventory went with the registration: no need to send it again.
        this.inventoryHash = registered.inventoryHash;
        this.acceptedInventory = canonicalJson(inventory);
        this.inventoryRequested = false;
        this.recovered();
        this.adoptInterval(registered.heartbeatIntervalMs);
        this.log.info(
          `registered as host ${registered.hostId} in cluster ${registered.clusterName} (${registered.clusterId}); ` +
            `credential stored in ${this.store.credentialPath}`,
        );
        return credential;
      } catch (error) {
        if (!(error instanceof AgentApiError)) throw error;
        if (!error.retryable) {
          // A retry with the same request id gets its host back while the token
          // is valid; past that, a lost answer leaves the token spent on a host
          // whose credential nobody holds. Say so, since the message alone misleads.
          const hint =
            this.backoff.attempts > 0 && error.status === 401
              ? `; an earlier attempt may have registered this host without the answer arriving: ask an admin to remove host "${inventory.hostname}" if it exists and issue a new token`
              : '';
          throw new AgentExit({
            code: EXIT_CODES.fatal,
            reason: `registration refused (HTTP ${error.status} ${error.code}): ${error.message}${hint}`,
          });
        }
        await this.sleep(this.failed(error, 'registration'), signal);
        if (signal.aborted) throw new AgentExit({ code: EXIT_CODES.stopped, reason: 'stopped before registration' });
      }
    }
  }

  /**
   * Heartbeats, and the task and metering loops if there are, until `signal` aborts or
   * one of them must end the agent: then the other is stopped too and the
   * first reason wins.
   */
  private async runLoops(session: AgentSession, signal: AbortSignal): Promise<void> {
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const loops = [this.loop(session.credential, inner.signal)];
      if (this.options.tasks) loops.push(this.options.tasks.run(session, inner.signal));
      if (this.options.metering) loops.push(this.options.metering.run(session, inner.signal));
      const results = await Promise.allSettled(
        loops.map((loop) =>
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

  private async loop(credential: StoredCredential, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const startedAt = this.now();
      let waitMs: number;
      try {
        await this.beat(credential, signal);
        this.recovered();
        waitMs = this.intervalMs - (this.now() - startedAt);
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof AgentApiError)) throw error;
        this.options.ha?.failed();
        // Never slower than the heartbeat itself: a control plane that comes back (an API restart) judges hosts
        // by missed heartbeats, and an agent 16–30 s deep in its backoff was marked suspect, then failed, while
        // healthy (HA then held its VMs' restarts elsewhere back). Jittered, so hosts do not return in step.
        waitMs = this.failed(error, 'heartbeat', this.intervalMs);
      }
      await this.sleep(waitMs, signal);
    }
  }

  /** One cycle: inventory if it changed or was asked for, then a heartbeat. */
  private async beat(credential: StoredCredential, signal: AbortSignal): Promise<void> {
    const inventory = await this.readInventory();
    await this.reportInventoryIfNeeded(credential, inventory, signal);
    const usage = await this.readUsage();
    const ha = this.options.ha ? await this.options.ha.heartbeat(credential.hostId) : undefined;
    const response = await this.authed((seq) =>
      this.api.heartbeat(
        credential.hostId,
        credential.credential,
        {
          seq,
          agentVersion: this.agentVersion,
          inventoryHash: this.inventoryHash,
          ...(usage ? { usage } : {}),
          ...(ha ? { ha } : {}),
        },
        signal,
      ),
    );
    await this.options.ha?.answered(credential.hostId, response.ha, ha?.vms !== undefined);
    this.adoptInterval(response.heartbeatIntervalMs);
    this.options.meteredAcls?.adopt(response.meteredAcls);
    if (response.state !== this.lastHostState) {
      this.log.info(`host state is ${response.state}`);
      this.lastHostState = response.state;
    }
    if (response.inventoryRequested) {
      this.inventoryRequested = true;
      // Answer the request now rather than one interval later: the API is waiting for it.
      await this.reportInventoryIfNeeded(credential, inventory, signal);
    }
  }

  private async reportInventoryIfNeeded(
    credential: StoredCredential,
    inventory: HostInventory | null,
    signal: AbortSignal,
  ): Promise<void> {
    if (inventory === null) return;
    const canonical = canonicalJson(inventory);
    const changed = canonical !== this.acceptedInventory;
    if (!this.inventoryRequested && (!changed || canonical === this.rejectedInventory)) return;
    try {
      const response = await this.authed((seq) =>
        this.api.putInventory(
          credential.hostId,
          credential.credential,
          { seq, agentVersion: this.agentVersion, inventory },
          signal,
        ),
      );
      const first = this.acceptedInventory === null;
      this.inventoryHash = response.inventoryHash;
      this.acceptedInventory = canonical;
      this.rejectedInventory = null;
      this.inventoryRequested = false;
      this.adoptInterval(response.heartbeatIntervalMs);
      const why = first ? 'reported' : changed ? 'changed, reported' : 're-sent on request';
      this.log.info(`inventory ${why} (hash ${response.inventoryHash.slice(0, 12)})`);
    } catch (error) {
      // A refused inventory (400 / 413 / 422) is a profile or driver problem that
      // retrying will not fix; keep heartbeating with the last accepted one.
      if (error instanceof AgentApiError && error.kind === 'http' && !error.retryable) {
        if (canonical !== this.rejectedInventory) {
          this.log.error(`API refused the inventory (HTTP ${error.status} ${error.code}): ${error.message}`);
        }
        this.rejectedInventory = canonical;
        this.inventoryRequested = false;
        return;
      }
      throw error;
    }
  }

  private authed<T>(call: (seq: number) => Promise<T>): Promise<T> {
    if (this.session === null) throw new Error('reporter used before its session was set up');
    return this.session.authed(call);
  }

  /** The driver's inventory now, or the last good one if it cannot read (a half-edited profile, say). */
  private async readInventory(): Promise<HostInventory | null> {
    try {
      const inventory = await this.driver.inventory();
      if (this.lastDriverProblem !== null) this.log.info('driver reads the inventory again');
      this.lastDriverProblem = null;
      this.lastInventory = inventory;
      return inventory;
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      if (error.message !== this.lastDriverProblem) {
        this.log.warn(`cannot read inventory (${error.message}); keeping the last one`);
      }
      this.lastDriverProblem = error.message;
      return this.lastInventory;
    }
  }

  /** Usage is optional in a heartbeat: a driver that cannot sample still proves the host alive. */
  private async readUsage(): Promise<HostUsage | undefined> {
    try {
      return await this.driver.usage();
    } catch (error) {
      if (error instanceof DriverError) return undefined;
      throw error;
    }
  }

  private adoptInterval(intervalMs: number): void {
    if (this.options.heartbeatMsOverride !== undefined) return;
    if (intervalMs < MIN_HEARTBEAT_MS || intervalMs > MAX_HEARTBEAT_MS || intervalMs === this.intervalMs) return;
    this.intervalMs = intervalMs;
    this.log.info(`heartbeat every ${formatMs(intervalMs)}`);
  }

  /**
   * Records a failed attempt and returns how long to wait. Logs when the kind
   * of failure changes and then at attempts 1, 2, 4, 8…, so an hour-long
   * outage is a handful of lines, not thousands.
   */
  private failed(error: AgentApiError, what: string, atMostMs = Number.POSITIVE_INFINITY): number {
    const next = this.backoff.next();
    const { attempt } = next;
    // Capped, a delay keeps a jitter of its own (80–100 % of the cap).
    const delayMs = next.delayMs <= atMostMs ? next.delayMs : Math.round(atMostMs * (0.8 + 0.2 * this.random()));
    const description = describeFailure(error, what);
    if (description !== this.failure || isPowerOfTwo(attempt)) {
      this.log.warn(`${description}, retrying in ${formatMs(delayMs)} (attempt ${attempt})`);
    }
    this.failure = description;
    return delayMs;
  }

  private recovered(): void {
    if (this.failure !== null) {
      this.log.info(`API reachable again after ${this.backoff.attempts} failed attempt(s)`);
    }
    this.failure = null;
    this.backoff.reset();
  }
}

function describeFailure(error: AgentApiError, what: string): string {
  switch (error.kind) {
    case 'unreachable':
      return `API unreachable (${error.message})`;
    case 'bad-response':
      return `API gave an unexpected answer (${error.message})`;
    case 'http':
      return error.status >= 500 || error.status === 429 || error.status === 408
        ? `API unavailable (HTTP ${error.status} ${error.code}: ${error.message})`
        : `API refused the ${what} (HTTP ${error.status} ${error.code}: ${error.message})`;
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}

/** Trailing slashes and letter case of the host do not make a different API. */
export function normalizeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.replace(/\/+$/, '');
  }
}
