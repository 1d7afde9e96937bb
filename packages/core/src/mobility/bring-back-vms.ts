/**
 * Leaving maintenance can bring the VMs back (issue 12). The VMs to bring back
 * are those its evacuation moved off: the migrations recorded with the origin
 * "evacuation of this host" (migrate-vm.ts's `origin`) since the host last
 * entered maintenance. The preview lists each that comes back and each that
 * will not, with why, checked in this order (the first that applies wins):
 *
 *   deleted          the VM is gone (or being deleted);
 *   not-moved        its evacuation migration failed or was cancelled: it never left;
 *   still-evacuating its evacuation migration has not ended;
 *   already-back     it is on this host again;
 *   other-cluster    it was moved to another cluster since;
 *   moved            someone moved it to another host since (their choice stands);
 *   migrating        another migration of it is queued or running;
 *   state-changed    it was running when it left and is not now, or the reverse,
 *                    or it is in a state that does not move (starting, failed…);
 *   no-fit           the placement engine refuses the host for it (capacity,
 *                    affinity, dedication, VM limits) — the VMs are committed on a
 *                    working copy one after the other, largest first, so the set
 *                    that comes back fits together.
 *
 * Carrying it out: the host leaves maintenance, then one durable task (kind
 * mobility.bring-back, visible in Tasks) requests one migration per VM through
 * MigrateVm — running VMs live, off/saved ones cold, queued under its per-host
 * and per-cluster caps, like an evacuation's — and waits for them to end.
 */
import type { AuditRepository } from '../audit/audit-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { JobTracker } from '../jobs/job-tracker';
import { PlacementSession } from '../placement/place';
import { PlacementError } from '../placement/placement.errors';
import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot, PlacementRequest } from '../placement/snapshot';
import type { VmOnHost } from '../placement/what-if';
import type { Clock } from '../shared/clock';
import type { Actor } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { WorkflowContext, WorkflowDefinition, WorkflowEngine } from '../workflows/workflow';
import type { MigrateVm, MobilityStore, MobilityVm } from './migrate-vm';
import { MobilityError } from './mobility.errors';

export const BRING_BACK_JOB_KIND = 'mobility.bring-back';

/** One migration an evacuation started off the host (its job's record). */
export interface EvacuatedMove {
  readonly jobId: string;
  readonly vmId: string;
  readonly vmName: string;
  readonly toHostId: string;
  /** The VM was running when it left (a live migration), off/saved otherwise (a cold move). */
  readonly live: boolean;
  /** The migration job's state: only a succeeded one moved the VM. */
  readonly jobState: string;
  readonly requestedAt: string;
}

export interface MaintainedHost {
  readonly id: string;
  readonly name: string;
  readonly clusterId: string;
  readonly state: string;
  /** When it entered its current state: for a host in maintenance, when maintenance began. */
  readonly stateChangedAt: Date;
}

/** What bring-back reads of the evacuation's record (the migration jobs). */
export interface EvacuationLog {
  host(hostId: string): Promise<MaintainedHost | null>;
  /** Migrations requested by an evacuation of `hostId` at or after `since`, newest first. */
  evacuatedSince(hostId: string, since: Date): Promise<EvacuatedMove[]>;
}

export type BringBackSkipCode =
  | 'deleted'
  | 'not-moved'
  | 'still-evacuating'
  | 'already-back'
  | 'other-cluster'
  | 'moved'
  | 'migrating'
  | 'state-changed'
  | 'no-fit';

export interface BringBackVm {
  readonly vmId: string;
  readonly vmName: string;
  /** Comes back by live migration (running) or cold (off/saved). */
  readonly live: boolean;
  /** The host it is on now. */
  readonly fromHostName: string;
  readonly memoryMiB: number;
}

export interface BringBackSkip {
  readonly vmId: string;
  readonly vmName: string;
  readonly code: BringBackSkipCode;
  readonly reason: string;
}

export interface BringBackPlan {
  readonly hostId: string;
  readonly hostName: string;
  readonly back: readonly BringBackVm[];
  readonly skipped: readonly BringBackSkip[];
  /** "Bring back 3 VMs moved off by its maintenance", or why there are none. */
  readonly heading: string;
}

export interface BringBackInput {
  readonly host: MaintainedHost;
  /** Newest first; a VM moved twice by evacuations of this maintenance counts once, by its newest move. */
  readonly moves: readonly EvacuatedMove[];
  /** Each moved VM as it is now (null: deleted). */
  readonly vms: ReadonlyMap<string, MobilityVm | null>;
  /** VMs with a migration queued or running. */
  readonly migrating: ReadonlySet<string>;
  /** The host's cluster now (the host in maintenance; it is taken as connected on the working copy). */
  readonly cluster: ClusterSnapshot;
  readonly placed: readonly VmOnHost[];
  readonly seed?: number;
}

const MOVABLE_STATES = new Set(['running', 'off', 'saved']);

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function describeBringBack(plan: { back: readonly unknown[]; skipped: readonly unknown[] }): string {
  const back = plan.back.length;
  const skipped = plan.skipped.length;
  if (back === 0 && skipped === 0) return 'Nothing to bring back: its maintenance moved no VM off';
  if (back === 0) return `None of the ${plural(skipped, 'VM', 'VMs')} moved off by its maintenance can come back`;
  return `Bring back ${plural(back, 'VM', 'VMs')} moved off by its maintenance${skipped ? ` (${skipped} cannot)` : ''}`;
}

/** Pure: which VMs come back and which do not, and why (the order of the rules is the file's header). */
export function planBringBack(input: BringBackInput): BringBackPlan {
  const { host, cluster } = input;
  const hostName = (id: string | null) => cluster.hosts.find((h) => h.id === id)?.name ?? 'another host';
  const newest = new Map<string, EvacuatedMove>();
  for (const move of input.moves) if (!newest.has(move.vmId)) newest.set(move.vmId, move);
  const skipped: BringBackSkip[] = [];
  const candidates: { move: EvacuatedMove; vm: MobilityVm }[] = [];
  for (const move of newest.values()) {
    const vm = input.vms.get(move.vmId) ?? null;
    const skip = (code: BringBackSkipCode, reason: string) =>
      skipped.push({ vmId: move.vmId, vmName: vm?.name ?? move.vmName, code, reason });
    if (!vm || vm.state === 'deleting') skip('deleted', 'deleted since it was moved off');
    else if (move.jobState === 'failed' || move.jobState === 'cancelled')
      skip('not-moved', `its evacuation migration ${move.jobState}: it never left`);
    else if (move.jobState !== 'succeeded') skip('still-evacuating', 'its evacuation migration has not finished yet');
    else if (vm.hostId === host.id) skip('already-back', `already on ${host.name}`);
    else if (vm.clusterId !== host.clusterId) skip('other-cluster', 'moved to another cluster since');
    else if (vm.hostId !== move.toHostId)
      skip('moved', `moved again since, to ${hostName(vm.hostId)}: that move stands`);
    else if (input.migrating.has(vm.id)) skip('migrating', 'another migration of it is queued or running');
    else if (!MOVABLE_STATES.has(vm.state))
      skip('state-changed', `${vm.state} now: a VM moves running (live) or off/saved (cold)`);
    else if (move.live && vm.state !== 'running')
      skip('state-changed', `was running when it was moved off, ${vm.state} now: left where it is`);
    else if (!move.live && vm.state === 'running')
      skip('state-changed', 'was off when it was moved off, running now: left where it is');
    else candidates.push({ move, vm });
  }
  // Leaving maintenance, the host takes work again: on the working copy it is connected.
  const working: ClusterSnapshot = {
    ...cluster,
    hosts: cluster.hosts.map((h) => (h.id === host.id ? { ...h, state: 'connected' as const } : h)),
  };
  const session = new PlacementSession(working, { seed: input.seed ?? 1, trace: 'summary', topCandidates: 1 });
  const requests = new Map(input.placed.map((p) => [p.request.vmId, p.request]));
  const back: BringBackVm[] = [];
  // Largest first, like the evacuation: the big ones are the hardest to fit.
  candidates.sort((a, b) => b.vm.memoryMiB - a.vm.memoryMiB || a.vm.name.localeCompare(b.vm.name));
  for (const { move, vm } of candidates) {
    const request: PlacementRequest = requests.get(vm.id) ?? {
      vmId: vm.id,
      name: vm.name,
      tenantId: vm.tenantId,
      vcpus: vm.vcpus,
      memoryMiB: vm.memoryMiB,
      disks: [],
      nics: [],
      groups: [],
      haPriority: 'off',
    };
    try {
      session.commit(request, host.id);
    } catch (error) {
      if (!(error instanceof PlacementError)) throw error;
      skipped.push({ vmId: vm.id, vmName: vm.name, code: 'no-fit', reason: error.message });
      continue;
    }
    back.push({
      vmId: vm.id,
      vmName: vm.name,
      live: move.live,
      fromHostName: hostName(vm.hostId),
      memoryMiB: vm.memoryMiB,
    });
  }
  back.sort((a, b) => a.vmName.localeCompare(b.vmName));
  skipped.sort((a, b) => a.vmName.localeCompare(b.vmName));
  return { hostId: host.id, hostName: host.name, back, skipped, heading: describeBringBack({ back, skipped }) };
}

export interface BringBackVmsDeps {
  uow: UnitOfWork<{ jobs: JobRepository }>;
  placement: PlacementStore;
  store: Pick<MobilityStore, 'findVm'>;
  log: EvacuationLog;
  migrate: Pick<MigrateVm, 'requestWithin' | 'active'>;
  /** Takes the host out of maintenance (fabric's hosts.setMaintenance): answers its next state. */
  setMaintenance: (actor: Actor, hostId: string, enabled: boolean, reason: string | undefined) => Promise<string>;
  audit: Pick<AuditRepository, 'append'>;
  workflows: WorkflowEngine;
  tracker: JobTracker;
  clock: Clock;
  newId: () => string;
  /** Between looks at the migrations the task started. */
  sleep?: (ms: number) => Promise<void>;
  pollMs?: number;
  seed?: () => number;
}

interface BringBackTaskInput {
  jobId: string;
  hostId: string;
  hostName: string;
  actor: Actor;
  back: { vmId: string; vmName: string; live: boolean }[];
}

interface Requested {
  vmId: string;
  vmName: string;
  taskId: string | null;
  /** Why the migration was not started (refused when it was requested). */
  refused: string | null;
}

export interface LeaveMaintenanceResult {
  /** The host's state after maintenance (connected when its heartbeats are on time). */
  readonly state: string;
  readonly plan: BringBackPlan;
  /** The bring-back task, null when none was asked for or nothing can come back. */
  readonly taskId: string | null;
}

export class BringBackVms {
  readonly workflow: WorkflowDefinition<BringBackTaskInput>;

  constructor(private readonly deps: BringBackVmsDeps) {
    this.workflow = { name: BRING_BACK_JOB_KIND, run: (ctx, input) => this.run(ctx, input) };
  }

  /** What leaving maintenance would bring back, and what not and why; nothing is written. */
  async preview(hostId: string): Promise<BringBackPlan> {
    const host = await this.deps.log.host(hostId);
    if (!host) throw new MobilityError('MIGRATION_TARGET_NOT_FOUND', `No host ${hostId}`);
    if (host.state !== 'maintenance') {
      throw new MobilityError('HOST_NOT_IN_MAINTENANCE', `${host.name} is not in maintenance (${host.state})`);
    }
    const moves = await this.deps.log.evacuatedSince(hostId, host.stateChangedAt);
    const ids = [...new Set(moves.map((m) => m.vmId))];
    const [found, active, cluster, placed] = await Promise.all([
      Promise.all(ids.map((id) => this.deps.store.findVm({ kind: 'provider' }, id))),
      this.deps.migrate.active(),
      this.deps.placement.clusterSnapshot(host.clusterId),
      this.deps.placement.vmsInCluster(host.clusterId),
    ]);
    const vms = new Map(ids.map((id, i) => [id, found[i] ?? null]));
    return planBringBack({
      host,
      moves,
      vms,
      migrating: new Set(active.map((m) => m.vmId)),
      cluster,
      placed,
      seed: this.deps.seed?.() ?? 1,
    });
  }

  /**
   * The host out of maintenance; with `bringBack`, one task that migrates back
   * every VM of the preview that can come back. Without it, nothing moves.
   */
  async leave(actor: Actor, hostId: string, bringBack: boolean): Promise<LeaveMaintenanceResult> {
    const plan = await this.preview(hostId);
    const state = await this.deps.setMaintenance(actor, hostId, false, undefined);
    if (!bringBack || plan.back.length === 0) return { state, plan, taskId: null };
    const jobId = this.deps.newId();
    const now = this.deps.clock.now();
    await this.deps.uow.run(async ({ jobs }) => {
      await jobs.create(
        {
          id: jobId,
          kind: BRING_BACK_JOB_KIND,
          targetType: 'host',
          targetId: hostId,
          targetLabel: plan.hostName,
          tenantId: null,
          requestedBy: actor.label,
          requestedById: actor.id,
          steps: [
            { key: 'request', label: 'Migrations requested (running VMs live, off ones cold)' },
            { key: 'migrate', label: `VMs moved back to ${plan.hostName}` },
          ],
          message: `Bringing ${plural(plan.back.length, 'VM', 'VMs')} back to ${plan.hostName}`,
        },
        now,
      );
    });
    await this.deps.audit.append({
      actor,
      action: 'host.maintenance.bring-back',
      targetType: 'host',
      targetId: hostId,
      targetLabel: plan.hostName,
      result: 'success',
      message: `${plan.hostName}: ${plan.heading}`,
      details: {
        taskId: jobId,
        back: plan.back.map((v) => ({ vmId: v.vmId, vmName: v.vmName, live: v.live })),
        skipped: plan.skipped.map((s) => ({ vmId: s.vmId, vmName: s.vmName, code: s.code, reason: s.reason })),
      },
    });
    await this.deps.workflows.start(
      this.workflow,
      {
        jobId,
        hostId,
        hostName: plan.hostName,
        actor,
        back: plan.back.map((v) => ({ vmId: v.vmId, vmName: v.vmName, live: v.live })),
      },
      { workflowId: jobId },
    );
    return { state, plan, taskId: jobId };
  }

  private async run(ctx: WorkflowContext, input: BringBackTaskInput): Promise<void> {
    const { tracker } = this.deps;
    let current = 'request';
    try {
      await tracker.started(
        ctx,
        input.jobId,
        `Bringing ${plural(input.back.length, 'VM', 'VMs')} back to ${input.hostName}`,
      );
      await tracker.startStep(ctx, input.jobId, 'request');
      const requested: Requested[] = [];
      for (const vm of input.back) {
        requested.push(await this.requestOne(ctx, input, vm));
      }
      const started = requested.filter((r) => r.taskId !== null).length;
      await tracker.step(
        ctx,
        input.jobId,
        'request',
        async () => ({
          value: null,
          progress: 10,
          detail: `${plural(started, 'migration', 'migrations')} started${started < requested.length ? `, ${requested.length - started} refused` : ''}`,
        }),
        'request-done',
      );
      current = 'migrate';
      const ended = await tracker.step(ctx, input.jobId, 'migrate', async () => {
        const outcome = await this.waitForAll(input.jobId, requested);
        return { value: outcome, progress: 99, detail: summarize(outcome, input.hostName) };
      });
      const back = ended.filter((r) => r.state === 'succeeded').length;
      await tracker.succeeded(
        ctx,
        input.jobId,
        back === ended.length
          ? `${plural(back, 'VM', 'VMs')} back on ${input.hostName}`
          : `${back} of ${plural(ended.length, 'VM', 'VMs')} back on ${input.hostName}`,
        { hostId: input.hostId, vms: ended },
      );
    } catch (error) {
      await tracker.failed(ctx, input.jobId, current, error);
      throw error;
    }
  }

  /**
   * One migration back, through MigrateVm (its queue and caps). Refused: with
   * MigrateVm's reason (already migrating, target refused, would not converge…).
   */
  private async requestOne(
    ctx: WorkflowContext,
    input: BringBackTaskInput,
    vm: { vmId: string; vmName: string },
  ): Promise<Requested> {
    const answer = await this.deps.migrate.requestWithin(
      ctx,
      `request-${vm.vmId}`,
      input.actor,
      { kind: 'provider' },
      {
        vmId: vm.vmId,
        to: input.hostId,
        origin: { kind: 'bring-back', hostId: input.hostId, taskId: input.jobId },
      },
    );
    if ('taskId' in answer) return { vmId: vm.vmId, vmName: vm.vmName, taskId: answer.taskId, refused: null };
    const reason =
      answer.refused.code === 'MIGRATION_SAME_HOST' ? `already on ${input.hostName}` : answer.refused.message;
    return { vmId: vm.vmId, vmName: vm.vmName, taskId: null, refused: reason };
  }

  private async waitForAll(
    jobId: string,
    requested: readonly Requested[],
  ): Promise<{ vmId: string; vmName: string; taskId: string | null; state: string; detail: string | null }[]> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const jobs = this.deps.uow.repos.jobs;
    for (;;) {
      const rows = await Promise.all(
        requested.map(async (r) => {
          if (!r.taskId) return { ...r, state: 'refused', detail: r.refused };
          const task = await jobs.find({ kind: 'provider' }, r.taskId);
          return {
            vmId: r.vmId,
            vmName: r.vmName,
            taskId: r.taskId,
            state: task?.state ?? 'failed',
            detail: task?.errorMessage ?? null,
          };
        }),
      );
      const running = rows.filter((r) => r.state === 'queued' || r.state === 'running').length;
      if (running === 0) {
        return rows.map(({ vmId, vmName, taskId, state, detail }) => ({ vmId, vmName, taskId, state, detail }));
      }
      const done = rows.length - running;
      await jobs.update(
        jobId,
        {
          progress: 10 + Math.floor((89 * done) / rows.length),
          step: { key: 'migrate', detail: `${done} of ${rows.length} migrations ended` },
        },
        this.deps.clock.now(),
      );
      await sleep(this.deps.pollMs ?? 1_000);
    }
  }
}

function summarize(rows: readonly { state: string }[], hostName: string): string {
  const back = rows.filter((r) => r.state === 'succeeded').length;
  const other = rows.length - back;
  return `${plural(back, 'VM', 'VMs')} back on ${hostName}${other ? `, ${other} not (see the result)` : ''}`;
}
