import { AsyncResource } from 'node:async_hooks';
import type { AuditRepository } from '../audit/audit-repository';
import { ComputeError } from '../compute/compute.errors';
import { type OwnershipRepository, transferOwnership } from '../compute/ownership';
import type { VmRepository } from '../compute/vm-repository';
import { JobError } from '../jobs/job.errors';
import type { JobRepository } from '../jobs/job-repository';
import type { JobTracker } from '../jobs/job-tracker';
import { PlacementSession } from '../placement/place';
import type { PlacementStore } from '../placement/placement-store';
import type { Clock } from '../shared/clock';
import { SYSTEM_ACTOR } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import { formatSeconds } from '../shared/units';
import type { TaskQueueRepository } from '../tasks/task-queue-repository';
import type { WorkflowContext, WorkflowDefinition, WorkflowEngine } from '../workflows/workflow';
import { type BmcClient, type BmcPowerOffOutcome, type BmcTarget, powerOffThroughBmc } from './bmc';
import { bmcAttemptDue, decideFence } from './fence-decision';
import type { HaEventRow, HaRepository, HaRestartRow, TimelineEntry } from './ha-repository';
import { type HaPriority, type HaSettings, readHaSettings } from './ha-settings';

/**
 * High availability's recovery (docs/high-availability.md): one durable
 * workflow per host failure event. Fence first (the lease ran out, the host
 * confirmed it fenced itself, or its BMC powered it off: fence-decision.ts),
 * then restart the host's HA VMs elsewhere by priority through the
 * placement engine, a few per target host at a time, each by moving its
 * ownership (compare-and-set on its epoch) and queueing its create and start
 * on the new host. VMs that fit nowhere wait for capacity and are retried
 * every round until they run. Every step is recorded, so an API crash resumes
 * the event where it was; the workflow id is the event id, so two API
 * processes run it once.
 */
export interface HaRepos {
  ha: HaRepository;
  ownership: OwnershipRepository;
  placement: PlacementStore;
  taskQueue: TaskQueueRepository;
  vms: VmRepository;
  jobs: JobRepository;
  audit: AuditRepository;
}

export interface RecoverHostDeps {
  uow: UnitOfWork<HaRepos>;
  workflows: WorkflowEngine;
  tracker: JobTracker;
  clock: Clock;
  newId: () => string;
  heartbeatIntervalMs: number;
  /** Between fencing checks and restart rounds. Default 1 s. */
  pollMs?: number;
  /** Rounds before a recovery with VMs still waiting for capacity hands over to the monitor. Default 1,800. */
  maxRounds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Fence method bmc: each host's BMC login (null when none is configured) and the Redfish client. */
  bmc?: { targetOf(hostId: string): Promise<BmcTarget | null>; client: BmcClient; confirmPollMs?: number };
}

export interface RecoverHostInput {
  eventId: string;
}

/**
 * A restarted VM found stopped this long after its start succeeded ends its restart as failed. Long enough
 * for a new host back from its isolation response to start it again (restartIsolationStopped).
 */
const STOPPED_AFTER_START_MS = 120_000;

/** A failed BMC power-off is tried again after this many fence checks (a fixed login, a BMC back on the network). */
const BMC_RETRY_CHECKS = 5;

interface FenceCheck {
  fenced: boolean;
  cancelled: boolean;
  via: string;
  /** The last BMC power-off's outcome (fence method bmc), carried from check to check; absent in older records. */
  bmc?: BmcPowerOffOutcome | null;
  /** This check tried the BMC. */
  attempted?: boolean;
}

const RANK: Record<HaPriority, number> = { high: 0, medium: 1, low: 2, off: 3 };
const OPEN = new Set(['pending', 'waiting-capacity', 'restarting']);
const LIVE_STATES = new Set(['running', 'starting', 'paused', 'stopping', 'creating']);
/** What an isolation response can have stopped behind the control plane's back (restartIsolationStopped). */
const ISOLATION_STOPPABLE = new Set(['running', 'paused']);
/** Not running when the host failed: listed on the event as not restarted, with the state they were in. */
const NOT_LIVE_LISTED = new Set(['off', 'saved', 'failed']);

function entry(at: Date, kind: string, message: string, vmId?: string): TimelineEntry {
  return { at: at.toISOString(), kind, message, ...(vmId ? { vmId } : {}) };
}

export class RecoverHost {
  readonly workflow: WorkflowDefinition<RecoverHostInput>;
  /**
   * VMs still waiting for capacity when a recovery used up its rounds: the monitor hands them to this
   * workflow (one per hand-over, id `<event>:wait-<n>`), which goes on retrying, slower, so a host that
   * joins or returns later still takes them.
   */
  readonly waitWorkflow: WorkflowDefinition<RecoverHostInput>;

  /**
   * Starts a recovery in the async context this object was made in (at start-up), not the caller's:
   * the monitor pass runs inside a scheduled workflow's step, where the engine refuses to start another
   * workflow; started from here it is a workflow of its own, run once by its id.
   */
  private readonly startDetached: (input: RecoverHostInput) => Promise<void>;
  private readonly startWaitDetached: (input: RecoverHostInput, handOvers: number) => Promise<void>;

  constructor(private readonly deps: RecoverHostDeps) {
    this.workflow = { name: 'ha.recover-host', run: (ctx, input) => this.run(ctx, input) };
    this.waitWorkflow = { name: 'ha.await-capacity', run: (ctx, input) => this.awaitCapacity(ctx, input) };
    this.startDetached = AsyncResource.bind((input: RecoverHostInput) =>
      this.deps.workflows.start(this.workflow, input, { workflowId: input.eventId }),
    );
    this.startWaitDetached = AsyncResource.bind((input: RecoverHostInput, handOvers: number) =>
      this.deps.workflows.start(this.waitWorkflow, input, { workflowId: `${input.eventId}:wait-${handOvers}` }),
    );
  }

  private get sleep() {
    return this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  }

  /**
   * Runs the `i`-th poll of a loop, after `polls` poll intervals for every poll but the first. The
   * pause is inside the step, not between steps: a resumed workflow replays its recorded steps without
   * their pauses. (Pausing between steps, an API restarted 40 s into fencing spent 40 s replaying
   * 40 one-second sleeps before it reached the restart, which a CI run then missed.)
   */
  private async afterPause<T>(i: number, polls: number, fn: () => Promise<T>): Promise<T> {
    if (i > 0) await this.sleep(polls * (this.deps.pollMs ?? 1000));
    return fn();
  }

  /**
   * Opens a failure event for a silent host and starts its recovery; null when the host already has
   * an open event (another pass or process got there first).
   */
  async open(
    host: { id: string; name: string; clusterId: string; lastHeartbeatAt: Date },
    settings: HaSettings,
    diagnosis: HaEventRow['diagnosis'],
    reason: string,
  ): Promise<string | null> {
    const now = this.deps.clock.now();
    const eventId = this.deps.newId();
    const created = await this.openEvent(host, settings, diagnosis, reason, now, eventId);
    if (!created) return null;
    await this.startDetached({ eventId });
    return eventId;
  }

  private async openEvent(
    host: { id: string; name: string; clusterId: string; lastHeartbeatAt: Date },
    settings: HaSettings,
    diagnosis: HaEventRow['diagnosis'],
    reason: string,
    now: Date,
    eventId: string,
  ): Promise<boolean> {
    try {
      return await this.openEventOnce(host, settings, diagnosis, reason, now, eventId);
    } catch (error) {
      // The host's previous event (cancelled a moment ago: it was heard from, then fell silent again) still has
      // its recovery job finishing: nothing is written, the next monitor pass opens the event.
      if (error instanceof JobError && error.code === 'TASK_ALREADY_ACTIVE') return false;
      throw error;
    }
  }

  private async openEventOnce(
    host: { id: string; name: string; clusterId: string; lastHeartbeatAt: Date },
    settings: HaSettings,
    diagnosis: HaEventRow['diagnosis'],
    reason: string,
    now: Date,
    eventId: string,
  ): Promise<boolean> {
    return this.deps.uow.run(async ({ ha, jobs }) => {
      const ok = await ha.createEvent({
        id: eventId,
        clusterId: host.clusterId,
        hostId: host.id,
        hostName: host.name,
        state: 'detected',
        diagnosis,
        fenceMethod: settings.fenceMethod,
        lastHeartbeatAt: host.lastHeartbeatAt,
        detectedAt: now,
        jobId: eventId,
        timeline: [
          entry(host.lastHeartbeatAt, 'last-heartbeat', `Last heartbeat from ${host.name}`),
          entry(now, 'detected', reason),
        ],
      });
      if (!ok) return false;
      await jobs.create(
        {
          id: eventId,
          kind: 'ha.recover-host',
          targetType: 'host',
          targetId: host.id,
          targetLabel: host.name,
          tenantId: null,
          requestedBy: 'High availability',
          requestedById: null,
          message: `Recovering the VMs of ${host.name}`,
          steps: [
            { key: 'detect', label: 'Take stock of the failed host' },
            { key: 'fence', label: 'Fence the host' },
            { key: 'restart', label: 'Restart its VMs elsewhere by priority' },
          ],
        },
        now,
      );
      await ha.updateEvent(eventId, {}, []);
      return true;
    });
  }

  /** Starts the event's recovery again if it never began (a crash between the event and its start); a no-op otherwise. */
  ensureStarted(eventId: string): Promise<void> {
    return this.startDetached({ eventId });
  }

  /**
   * An event whose VMs wait for capacity after its recovery (or the last wait) handed them over: the next
   * wait starts (once: its id counts the hand-overs). A no-op while a recovery or a wait still runs.
   */
  resumeWaiting(event: HaEventRow): Promise<void> {
    const handOvers = event.timeline.filter((t) => t.kind === 'handed-over').length;
    if (event.state !== 'waiting-capacity' || handOvers === 0) return Promise.resolve();
    return this.startWaitDetached({ eventId: event.id }, handOvers);
  }

  /**
   * A host back from its isolation response says which VMs it stopped: the ones it still owns, under the
   * epoch it held them with, with an HA priority, start again there. Not while the host has an open failure
   * event: that event's recovery decides where they run (restarted elsewhere, they are discarded here).
   * Without this, a control plane down for longer than the isolation timeout left every HA VM of every
   * host off once it came back (and an HA restart caught by it stayed "restarting" for ever). Returns how
   * many start again. Those with HA priority off are recorded off (the host turned them off), not started.
   */
  async restartIsolationStopped(hostId: string, stopped: { vmId: string; epoch: number }[]): Promise<number> {
    const started = await this.deps.uow.run(async ({ ha, ownership, taskQueue, vms, audit }) => {
      if (await ha.hasOpenEvent(hostId)) return 0;
      const held = new Map(stopped.map((s) => [s.vmId, s.epoch]));
      let n = 0;
      for (const vm of await ha.vmsOnHost(hostId)) {
        const epoch = held.get(vm.vmId);
        if (epoch === undefined) continue;
        const owner = await ownership.ownerOf(vm.vmId);
        if (!owner || owner.hostId !== hostId || owner.epoch !== epoch) continue;
        // Only a VM the control plane still has as running (or paused): the isolation stopped it behind the
        // control plane's back. One a person stopped meanwhile (stopping, off), or already starting again (a
        // heartbeat sent twice), is left as it is.
        if (!ISOLATION_STOPPABLE.has(vm.state)) continue;
        if (vm.priority === 'off') {
          // No automatic restart: it stays off, and says so (not "running", as the last report had it).
          await vms.setVmState(
            vm.vmId,
            'off',
            "Turned off by its host's isolation response (HA: no automatic restart)",
          );
          continue;
        }
        await startInPlace({ vms, taskQueue, audit }, vm, hostId, {
          state: "HA: started again after its host's isolation response",
          audit: `${vm.name}: started again where it was, after its host's isolation response stopped it`,
          details: { hostId, epoch, reason: 'isolation-response' },
        });
        n++;
      }
      return n;
    });
    if (started) await this.deps.uow.repos.taskQueue.notifyTasksQueued(hostId);
    return started;
  }

  private async awaitCapacity(ctx: WorkflowContext, input: RecoverHostInput): Promise<void> {
    const maxRounds = this.deps.maxRounds ?? 1800;
    let open = 1;
    for (let i = 0; open > 0 && i < maxRounds; i++) {
      // Slower than a fresh recovery: these VMs waited a whole recovery already.
      open = (await ctx.step(`restart-round-${i}`, () => this.afterPause(i, 5, () => this.restartRound(input.eventId))))
        .open;
    }
    await ctx.step('finish', () => this.finish(input.eventId, open > 0));
  }

  private async run(ctx: WorkflowContext, input: RecoverHostInput): Promise<void> {
    const { tracker } = this.deps;
    const jobId = input.eventId;
    let current: string | null = 'detect';
    try {
      await tracker.started(ctx, jobId, 'Recovering a failed host');
      const stock = await tracker.step(ctx, jobId, 'detect', async () => {
        const value = await this.takeStock(input.eventId);
        return {
          value,
          detail: `${value.toRestart} VM(s) to restart, ${value.notRestarted} not restarted`,
          progress: 10,
        };
      });
      current = 'fence';
      await tracker.startStep(ctx, jobId, 'fence');
      let fence: FenceCheck = { fenced: false, cancelled: false, via: '' };
      // The BMC power-off runs inside a recorded check: a resumed recovery replays its outcome instead of
      // powering the host off again blindly (and a repeat is harmless: a host already Off is not reset).
      let bmc: BmcPowerOffOutcome | null = null;
      let sinceAttempt = 0;
      for (let i = 0; !fence.fenced && !fence.cancelled; i++) {
        const last = bmc;
        const since = sinceAttempt;
        fence = await ctx.step(`fence-check-${i}`, () =>
          this.afterPause(i, 1, () => this.fenceCheck(input.eventId, last, since)),
        );
        if (fence.attempted) {
          bmc = fence.bmc ?? null;
          sinceAttempt = 0;
        } else sinceAttempt++;
      }
      await tracker.step(
        ctx,
        jobId,
        'fence',
        async () => ({
          value: null,
          detail: fence.cancelled ? 'The host came back before it was fenced: nothing to restart' : fence.via,
          progress: 40,
        }),
        'fence-done',
      );
      if (fence.cancelled) {
        await tracker.succeeded(ctx, jobId, 'The host came back; its VMs kept running there', { cancelled: true });
        return;
      }
      current = 'restart';
      await tracker.startStep(ctx, jobId, 'restart');
      let round = { open: stock.toRestart, running: 0, waiting: 0, failed: 0 };
      const maxRounds = this.deps.maxRounds ?? 1800;
      let i = 0;
      for (; round.open > 0 && i < maxRounds; i++) {
        round = await ctx.step(`restart-round-${i}`, () =>
          this.afterPause(i, 1, () => this.restartRound(input.eventId)),
        );
      }
      const summary = await ctx.step('finish', () => this.finish(input.eventId, round.open > 0));
      await tracker.step(
        ctx,
        jobId,
        'restart',
        async () => ({
          value: null,
          detail: `${summary.running} running elsewhere, ${summary.waiting} waiting for capacity, ${summary.failed} failed`,
          progress: 100,
        }),
        'restart-done',
      );
      await tracker.succeeded(
        ctx,
        jobId,
        `${summary.running} VM(s) running elsewhere${summary.waiting ? `, ${summary.waiting} waiting for capacity` : ''}`,
        summary,
      );
    } catch (error) {
      await tracker.failed(ctx, jobId, current, error);
      await ctx.step('event-failed', () =>
        this.deps.uow.repos.ha.updateEvent(input.eventId, { state: 'failed', finishedAt: this.deps.clock.now() }, [
          entry(this.deps.clock.now(), 'failed', error instanceof Error ? error.message : String(error)),
        ]),
      );
      throw error;
    }
  }

  /**
   * Records a restart row for every VM the host owned: the live ones with an HA priority are restarted;
   * the others are listed as not restarted, with why (HA priority off; or the VM was off, saved or failed
   * there: nobody was running it, so nobody expects it back, and it stays on its host with its room
   * reserved there, to start when the host is back or after a move).
   */
  private async takeStock(eventId: string) {
    const { ha } = this.deps.uow.repos;
    const event = await this.event(eventId);
    const vms = await ha.vmsOnHost(event.hostId);
    const rows: HaRestartRow[] = vms
      .filter((vm) => LIVE_STATES.has(vm.state) || NOT_LIVE_LISTED.has(vm.state))
      .map((vm) => ({
        eventId,
        vmId: vm.vmId,
        tenantId: vm.tenantId,
        vmName: vm.name,
        priority: vm.priority,
        fromHostId: event.hostId,
        toHostId: null,
        state: vm.priority === 'off' || !LIVE_STATES.has(vm.state) ? 'not-restarted' : 'pending',
        reason: !LIVE_STATES.has(vm.state)
          ? `Not restarted: it was ${vm.state}`
          : vm.priority === 'off'
            ? 'HA priority: no automatic restart'
            : '',
        fromEpoch: vm.epoch,
        toEpoch: null,
        lastHeartbeatAt: event.lastHeartbeatAt,
        runningAt: null,
        rtoMs: null,
      }));
    await ha.createRestarts(rows);
    const toRestart = rows.filter((r) => r.state === 'pending').length;
    const stopped = vms.filter((vm) => NOT_LIVE_LISTED.has(vm.state));
    const stoppedText = stopped.length
      ? ` (${stopped
          .slice(0, 5)
          .map((vm) => `${vm.name} was ${vm.state}`)
          .join(', ')}${stopped.length > 5 ? `, ${stopped.length - 5} more not running` : ''})`
      : '';
    await ha.updateEvent(eventId, { state: 'fencing' }, [
      entry(
        this.deps.clock.now(),
        'stock',
        `${toRestart} HA VM(s) to restart, ${rows.length - toRestart} not restarted${stoppedText}`,
      ),
    ]);
    return { toRestart, notRestarted: rows.length - toRestart };
  }

  /**
   * Is the host known not to run its VMs any more? Or did it come back unfenced (then nothing restarts)?
   * With fence method bmc, powers the host off through its BMC first (again while that fails, now and
   * then): fence-decision.ts decides from the facts.
   */
  private async fenceCheck(
    eventId: string,
    lastBmc: BmcPowerOffOutcome | null,
    sinceAttempt: number,
  ): Promise<FenceCheck> {
    const { ha } = this.deps.uow.repos;
    const event = await this.event(eventId);
    // Decided already: a check that runs again (a run taken over from a process that froze mid-check and
    // wakes later, or one resumed after a crash) says so and writes nothing. Fencing again reopened an event
    // the other process had recovered (state restarting, a second "fenced" after "recovered"), for good.
    if (event.fencedAt) {
      const via = event.timeline.filter((t) => t.kind === 'fenced').at(-1)?.message ?? 'Fenced';
      return { fenced: true, cancelled: false, via };
    }
    if (event.state === 'cancelled') return { fenced: false, cancelled: true, via: '' };
    const host = await ha.hostHealth(event.hostId);
    const settings = await this.settingsOf(event.clusterId);
    const last = event.lastHeartbeatAt.getTime();
    if (!host) return this.fenced(event, this.deps.clock.now(), 'The host was removed');
    const back = !!host.lastHeartbeatAt && host.lastHeartbeatAt.getTime() > last;
    let bmc = lastBmc;
    let attempted = false;
    // Never power off a host that is heard from again: the event is cancelled below instead.
    if (!back && bmcAttemptDue(settings.fenceMethod, lastBmc, sinceAttempt, BMC_RETRY_CHECKS)) {
      bmc = await this.powerOff(event, host.name, settings, lastBmc);
      attempted = true;
    }
    const now = this.deps.clock.now();
    const decision = decideFence({
      method: settings.fenceMethod,
      hostName: host.name,
      removed: false,
      selfFenced: !!host.fencedAt && host.fencedAt.getTime() > last,
      back,
      silentMs: now.getTime() - last,
      fencingTimeoutMs: settings.fencingTimeoutMs,
      leaseFences: settings.isolationResponse !== 'keep-running',
      bmc,
    });
    if (decision.kind === 'fenced') return { ...(await this.fenced(event, now, decision.via)), bmc, attempted };
    if (decision.kind === 'cancelled') {
      await ha.updateEvent(eventId, { state: 'cancelled', finishedAt: now }, [entry(now, 'cancelled', decision.why)]);
      const restarts = await ha.restarts(eventId);
      for (const r of restarts.filter((x) => OPEN.has(x.state))) {
        await ha.updateRestart(eventId, r.vmId, { state: 'not-restarted', reason: 'The host came back' });
      }
      return { fenced: false, cancelled: true, via: '', bmc, attempted };
    }
    return { fenced: false, cancelled: false, via: '', bmc, attempted };
  }

  /**
   * ForceOff through the host's BMC, confirmed by PowerState Off. A failure goes on the timeline with its
   * reason and what happens instead (once per distinct reason: retries that fail alike add nothing).
   */
  private async powerOff(
    event: HaEventRow,
    hostName: string,
    settings: HaSettings,
    previous: BmcPowerOffOutcome | null,
  ): Promise<BmcPowerOffOutcome> {
    const target = this.deps.bmc ? await this.deps.bmc.targetOf(event.hostId) : null;
    const outcome = this.deps.bmc
      ? await powerOffThroughBmc(this.deps.bmc.client, target, {
          now: () => this.deps.clock.now(),
          sleep: this.sleep,
          ...(this.deps.bmc.confirmPollMs ? { confirmPollMs: this.deps.bmc.confirmPollMs } : {}),
        })
      : ({ ok: false, kind: 'not-configured', reason: 'no BMC client in this API process' } as const);
    if (outcome.ok || (previous && !previous.ok && previous.reason === outcome.reason)) return outcome;
    const instead =
      settings.isolationResponse === 'keep-running'
        ? `with the isolation response keep-running its lease proves nothing, so the BMC is tried again every ${BMC_RETRY_CHECKS} checks`
        : `falling back to the lease: fenced once ${hostName} has been silent for ${formatSeconds(settings.fencingTimeoutMs)} (the BMC is tried again meanwhile)`;
    const what =
      outcome.kind === 'not-configured'
        ? `No BMC is configured for ${hostName}`
        : `The BMC power-off of ${hostName} failed: ${outcome.reason}`;
    await this.deps.uow.repos.ha.updateEvent(event.id, {}, [
      entry(this.deps.clock.now(), 'bmc-failed', `${what}; ${instead}`),
    ]);
    return outcome;
  }

  private async fenced(event: HaEventRow, now: Date, via: string): Promise<FenceCheck> {
    await this.deps.uow.repos.ha.updateEvent(event.id, { state: 'restarting', fencedAt: now }, [
      entry(now, 'fenced', via),
    ]);
    return { fenced: true, cancelled: false, via };
  }

  /**
   * One round: restarts that finished are recorded (with their RTO), then the
   * pending and waiting VMs are placed, highest priority first, at most
   * `restartConcurrencyPerHost` restarts in flight per target host.
   */
  private async restartRound(eventId: string) {
    const now = this.deps.clock.now();
    const event = await this.event(eventId);
    const settings = await this.settingsOf(event.clusterId);
    await this.recordProgress(event, now);
    return this.deps.uow.run(async ({ ha, ownership, placement, taskQueue, vms, audit }) => {
      // The cluster's placement lock before the restarts are read: a second run of this round (a run taken
      // over from a frozen process that then wakes) waits, then reads what the first handed out, instead of
      // acting on a stale read and marking a VM already handed out "superseded".
      await placement.lockCluster(event.clusterId);
      const restarts = await ha.restarts(eventId);
      let todo = restarts
        .filter((r) => r.state === 'pending' || r.state === 'waiting-capacity')
        .sort((a, b) => RANK[a.priority] - RANK[b.priority] || (a.vmName < b.vmName ? -1 : 1));
      const inFlight = new Map<string, number>();
      for (const r of restarts) {
        if (r.state === 'restarting' && r.toHostId) inFlight.set(r.toHostId, (inFlight.get(r.toHostId) ?? 0) + 1);
      }
      const timeline: TimelineEntry[] = [];
      const hostsToWake = new Set<string>();
      // The failed host is back (heard from after it was fenced): the VMs still waiting that it still owns
      // start there again, at the epoch they have (no move: a copy at a newer epoch on the same host would be
      // discarded). Fenced, its copies are stopped; a start of one still running is a no-op.
      const home = todo.length && event.fencedAt ? await ha.hostHealth(event.hostId) : null;
      if (
        home?.state === 'connected' &&
        home.lastHeartbeatAt &&
        event.fencedAt &&
        home.lastHeartbeatAt > event.fencedAt
      ) {
        const staying: HaRestartRow[] = [];
        for (const r of todo) {
          const owner = await ownership.ownerOf(r.vmId);
          const slots = settings.restartConcurrencyPerHost - (inFlight.get(home.id) ?? 0);
          if (!owner || owner.hostId !== home.id || owner.epoch !== r.fromEpoch || slots <= 0) {
            staying.push(r);
            continue;
          }
          inFlight.set(home.id, (inFlight.get(home.id) ?? 0) + 1);
          await startInPlace(
            { vms, taskQueue, audit },
            { vmId: r.vmId, name: r.vmName, tenantId: r.tenantId },
            home.id,
            {
              state: 'HA restart: its host is back',
              audit: `${r.vmName}: starting again on ${home.name}, back after it failed (epoch ${r.fromEpoch})`,
              details: { eventId, fromHostId: home.id, toHostId: home.id, epoch: r.fromEpoch, reason: 'host-back' },
            },
          );
          hostsToWake.add(home.id);
          await ha.updateRestart(eventId, r.vmId, {
            state: 'restarting',
            toHostId: home.id,
            toEpoch: r.fromEpoch,
            reason: `Starting again on ${home.name}, which is back`,
          });
          timeline.push(entry(now, 'restarting', `${r.vmName} (${r.priority}) → ${home.name}, back`, r.vmId));
        }
        todo = staying;
      }
      if (todo.length) {
        const [snapshot, placed] = await Promise.all([
          placement.clusterSnapshot(event.clusterId),
          placement.vmsInCluster(event.clusterId),
        ]);
        const requests = new Map(placed.map((p) => [p.request.vmId, p.request]));
        // Never back onto a host with an open failure event (this one's, or another's lost at the same
        // time): the fabric monitor may not have marked it failed yet (its thresholds are its own).
        const openEvents = (await ha.listEvents(event.clusterId, 100)).filter(
          (e) => !['recovered', 'cancelled', 'failed'].includes(e.state),
        );
        const down = new Set(openEvents.map((e) => e.hostId));
        down.add(event.hostId);
        const usable = {
          ...snapshot,
          hosts: snapshot.hosts.map((h) => (down.has(h.id) ? { ...h, state: 'failed' as const } : h)),
        };
        const session = new PlacementSession(usable, { seed: 1, trace: 'summary', candidateLimit: 8 });
        // Priority holds across the cluster, not only within one event: the VMs of other hosts lost
        // meanwhile that still wait are placed in this session too, in priority order, and keep their
        // room for their own recovery; a lower-priority VM here never takes it from them.
        const others: HaRestartRow[] = [];
        for (const e of openEvents) {
          if (e.id === eventId) continue;
          for (const r of await ha.restarts(e.id)) {
            if (r.state === 'pending' || r.state === 'waiting-capacity') others.push(r);
          }
        }
        const ordered = [...todo, ...others].sort(
          (a, b) => RANK[a.priority] - RANK[b.priority] || (a.vmName < b.vmName ? -1 : 1),
        );
        for (const r of ordered) {
          const request = requests.get(r.vmId);
          if (r.eventId !== eventId) {
            const held = request ? session.place(request) : null;
            if (request && held?.hostId) session.commit(request, held.hostId);
            continue;
          }
          if (!request) {
            await ha.updateRestart(eventId, r.vmId, { state: 'not-restarted', reason: 'The VM was deleted' });
            continue;
          }
          const decision = session.place(request);
          if (!decision.hostId) {
            if (r.state !== 'waiting-capacity') {
              timeline.push(
                entry(now, 'waiting-capacity', `${r.vmName}: waiting for capacity (${decision.summary})`, r.vmId),
              );
            }
            await ha.updateRestart(eventId, r.vmId, { state: 'waiting-capacity', reason: decision.summary });
            continue;
          }
          if ((inFlight.get(decision.hostId) ?? 0) >= settings.restartConcurrencyPerHost) {
            await ha.updateRestart(eventId, r.vmId, { reason: `Waiting for a restart slot on ${decision.hostName}` });
            continue;
          }
          let epoch: number;
          try {
            epoch = await transferOwnership(ownership, r.vmId, {
              toHostId: decision.hostId,
              toClusterId: event.clusterId,
              expectEpoch: r.fromEpoch,
              at: now,
            });
          } catch (error) {
            if (!(error instanceof ComputeError && error.code === 'STALE_EPOCH')) throw error;
            await ha.updateRestart(eventId, r.vmId, { state: 'superseded', reason: error.message });
            continue;
          }
          session.commit(request, decision.hostId);
          inFlight.set(decision.hostId, (inFlight.get(decision.hostId) ?? 0) + 1);
          // The state reason is shown to the tenant, who never sees host names.
          const reason = 'HA restart: its host failed';
          await vms.setVmState(r.vmId, 'starting', reason);
          const base = {
            vmId: r.vmId,
            hostId: decision.hostId,
            tenantId: r.tenantId,
            requestedBy: 'High availability',
          };
          await taskQueue.createTask({ ...base, kind: 'vm.create' });
          await taskQueue.createTask({ ...base, kind: 'vm.start' });
          hostsToWake.add(decision.hostId);
          await ha.updateRestart(eventId, r.vmId, {
            state: 'restarting',
            toHostId: decision.hostId,
            toEpoch: epoch,
            reason: `Restarting on ${decision.hostName}`,
          });
          timeline.push(entry(now, 'restarting', `${r.vmName} (${r.priority}) → ${decision.hostName}`, r.vmId));
          await audit.append({
            actor: SYSTEM_ACTOR,
            action: 'vm.ha-restart',
            targetType: 'vm',
            targetId: r.vmId,
            targetLabel: r.vmName,
            tenantId: r.tenantId,
            result: 'success',
            message: `${r.vmName}: restarting on ${decision.hostName} after ${event.hostName} failed (epoch ${epoch})`,
            details: { eventId, fromHostId: event.hostId, toHostId: decision.hostId, epoch },
          });
        }
      }
      for (const hostId of hostsToWake) await taskQueue.notifyTasksQueued(hostId);
      const after = await ha.restarts(eventId);
      const counts = {
        open: after.filter((r) => OPEN.has(r.state)).length,
        running: after.filter((r) => r.state === 'running').length,
        waiting: after.filter((r) => r.state === 'waiting-capacity').length,
        failed: after.filter((r) => r.state === 'failed').length,
      };
      const state =
        counts.open === 0
          ? event.state
          : counts.waiting && counts.open === counts.waiting
            ? 'waiting-capacity'
            : 'restarting';
      await ha.updateEvent(eventId, state !== event.state ? { state } : {}, timeline);
      return counts;
    });
  }

  /** Restarts whose VM now runs on its new host: running, with the RTO from the last heartbeat. */
  private async recordProgress(event: HaEventRow, now: Date): Promise<void> {
    const { ha } = this.deps.uow.repos;
    const restarting = (await ha.restarts(event.id)).filter((r) => r.state === 'restarting');
    if (!restarting.length) return;
    const progress = new Map((await ha.restartProgress(restarting.map((r) => r.vmId))).map((p) => [p.vmId, p]));
    const timeline: TimelineEntry[] = [];
    for (const r of restarting) {
      const p = progress.get(r.vmId);
      if (!p || p.hostId !== r.toHostId || p.epoch !== r.toEpoch) {
        await ha.updateRestart(event.id, r.vmId, {
          state: 'superseded',
          reason: 'The VM was moved or deleted meanwhile',
        });
        continue;
      }
      if (p.state === 'running') {
        const at = p.startFinishedAt ?? now;
        const rtoMs = Math.max(0, at.getTime() - event.lastHeartbeatAt.getTime());
        await ha.updateRestart(event.id, r.vmId, { state: 'running', runningAt: at, rtoMs, reason: '' });
        timeline.push(entry(at, 'running', `${r.vmName} running again (RTO ${(rtoMs / 1000).toFixed(1)} s)`, r.vmId));
      } else if (p.startState === 'failed') {
        await ha.updateRestart(event.id, r.vmId, { state: 'failed', reason: p.startMessage || 'The start failed' });
        timeline.push(entry(now, 'failed', `${r.vmName}: start failed: ${p.startMessage}`, r.vmId));
      } else if (
        p.startState === 'succeeded' &&
        NOT_LIVE_LISTED.has(p.state) &&
        p.startFinishedAt &&
        now.getTime() - p.startFinishedAt.getTime() > STOPPED_AFTER_START_MS
      ) {
        // Started, then stopped on its new host (turned off there, or that host's isolation response) and not
        // started again: the restart ended; it does not stay "restarting" for ever.
        const reason = `It started, then was ${p.state} on its new host`;
        await ha.updateRestart(event.id, r.vmId, { state: 'failed', reason });
        timeline.push(entry(now, 'failed', `${r.vmName}: ${reason}`, r.vmId));
      }
    }
    if (timeline.length) await ha.updateEvent(event.id, {}, timeline);
  }

  private async finish(eventId: string, handedOver: boolean) {
    const now = this.deps.clock.now();
    const event = await this.event(eventId);
    await this.recordProgress(event, now);
    const { ha } = this.deps.uow.repos;
    const restarts = await ha.restarts(eventId);
    const running = restarts.filter((r) => r.state === 'running');
    const waiting = restarts.filter((r) => r.state === 'waiting-capacity' || r.state === 'pending').length;
    const failed = restarts.filter((r) => r.state === 'failed').length;
    const rtos = running.map((r) => r.rtoMs ?? 0).sort((a, b) => a - b);
    const maxRto = rtos.at(-1) ?? null;
    await ha.updateEvent(
      eventId,
      handedOver ? { state: 'waiting-capacity' } : { state: 'recovered', finishedAt: now },
      [
        entry(
          now,
          handedOver ? 'handed-over' : 'recovered',
          `${running.length} VM(s) running elsewhere${maxRto !== null ? `, worst RTO ${(maxRto / 1000).toFixed(1)} s` : ''}` +
            (waiting ? `, ${waiting} still waiting for capacity` : ''),
        ),
      ],
    );
    return { running: running.length, waiting, failed, maxRtoMs: maxRto };
  }

  private async event(eventId: string): Promise<HaEventRow> {
    const event = await this.deps.uow.repos.ha.findEvent(eventId);
    if (!event) throw new ComputeError('HOST_NOT_FOUND', `HA event ${eventId} not found`);
    return event;
  }

  private async settingsOf(clusterId: string): Promise<HaSettings> {
    const clusters = await this.deps.uow.repos.ha.clusterSettings();
    return readHaSettings(clusters.find((c) => c.id === clusterId)?.haSettings);
  }
}

/**
 * Starts a VM again on the host that owns it, under the epoch it has (no move: a newer epoch on the same
 * host would be discarded there): state starting, a vm.start task, and the vm.ha-restart audit entry.
 * For VMs an isolation response stopped behind the control plane's back, and for those a failed host
 * takes back when it returns.
 */
async function startInPlace(
  repos: Pick<HaRepos, 'vms' | 'taskQueue' | 'audit'>,
  vm: { vmId: string; name: string; tenantId: string },
  hostId: string,
  why: { state: string; audit: string; details: Record<string, unknown> },
): Promise<void> {
  await repos.vms.setVmState(vm.vmId, 'starting', why.state);
  await repos.taskQueue.createTask({
    kind: 'vm.start',
    vmId: vm.vmId,
    hostId,
    tenantId: vm.tenantId,
    requestedBy: 'High availability',
  });
  await repos.audit.append({
    actor: SYSTEM_ACTOR,
    action: 'vm.ha-restart',
    targetType: 'vm',
    targetId: vm.vmId,
    targetLabel: vm.name,
    tenantId: vm.tenantId,
    result: 'success',
    message: why.audit,
    details: why.details,
  });
}
