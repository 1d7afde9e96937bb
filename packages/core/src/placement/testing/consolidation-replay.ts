/**
 * Consolidation by migration on the synthetic workloads (issue 12, "with
 * consolidation by migration stay within 1.03× of the lower bound after a
 * rebalance round"): the workload is replayed with the engine's pack placement
 * (as packing.test.ts does) and, at a few instants of the steady state, a
 * consolidation round (planRebalance, goal 'consolidate') is planned on the
 * current state and its moves applied before the replay goes on. Each
 * instant reports hosts in use ÷ lower bound before and after the round.
 *
 * A round is one planRebalance call as the API runs it, with the hold already
 * run out (the state is steady: the trigger has held). Variants are planned on
 * a copy of the same instant and not kept: other settings, or rounds planned
 * and applied one after another until one moves nothing (what the rounds of a
 * quiet night converge to, with no arrival in between).
 *
 * Measured load (the rebalancer's input) is what the agent reports for static
 * memory, the VM's size; CPU is a seeded share (5–25 %) of the VM's vCPUs at
 * the host's clock. Some VMs are in hard anti-affinity pairs, so a round has
 * rules to keep; every round's result is checked for a pair on one host and for
 * a host holding more than its vCPUs (at the overcommit) or its usable memory.
 */
import { PlacementSession } from '../place';
import { packProfile } from '../profiles';
import { planRebalance, type RebalanceVm } from '../rebalance';
import { DEFAULT_REBALANCE_SETTINGS, type RebalanceSettings } from '../rebalance-settings.schema';
import type { Assignment } from '../reservation';
import { seededRandom } from '../seeded-order';
import type { PlacementRequest } from '../snapshot';
import { lowerBound, packSession, type Workload } from './synthetic-workload';

export const HOST_MHZ = 2600;

export interface ConsolidationReplayOptions {
  /** Instants at which a round runs, spread evenly over the steady state (warm-up to the last arrival). */
  readonly snapshots?: number;
  /** Or a round every this many events of the steady state (a periodic rebalancer between arrivals and departures). */
  readonly everyEvents?: number;
  /** The round's settings over the defaults (goal is always 'consolidate'). */
  readonly settings?: Partial<RebalanceSettings>;
  /** false: the round is planned on a copy too, and the replay goes on with pack alone (default true: applied). */
  readonly apply?: boolean;
  /** Other rounds planned at the same instants on copies, for comparison. */
  readonly variants?: readonly ConsolidationVariant[];
  /** Every n-th VM is in a hard anti-affinity pair with the next one of that kind (default 10; 0: none). */
  readonly antiAffinityEvery?: number;
}

export interface ConsolidationVariant {
  readonly label: string;
  readonly settings: Partial<RebalanceSettings>;
  /** Rounds one after another until one moves nothing (at most 500). */
  readonly untilStill?: boolean;
}

export interface RoundFigures {
  readonly hostsInUse: number;
  readonly moves: number;
  readonly memoryMovedMiB: number;
  readonly planningMs: number;
  /** Process CPU time of the planning (user + system): steadier than wall time on a shared, loaded machine. */
  readonly planningCpuMs: number;
  /** Rounds planned (until still: the last one moved nothing and is counted). */
  readonly rounds: number;
  /** The (last) round's summary: why it stopped. */
  readonly summary: string;
}

export interface SnapshotFigures {
  readonly at: number;
  readonly vms: number;
  readonly lowerBound: number;
  readonly hostsBefore: number;
  readonly round: RoundFigures;
  /** The options' variants, by label. */
  readonly variants: Readonly<Record<string, RoundFigures>>;
  /** Broken rules found after the round and each variant: anti-affinity pairs sharing a host, overfilled hosts. */
  readonly violations: readonly string[];
}

/** A VM of the replay: where it is and what its load is. */
export interface Placed {
  request: PlacementRequest;
  hostId: string;
  assignment: Assignment;
  readonly cpuShare: number;
}

function withPairs(request: PlacementRequest, vm: number, every: number): PlacementRequest {
  if (every <= 0 || vm % every !== 0) return request;
  return { ...request, groups: [{ name: `pair-${Math.floor(vm / (2 * every))}`, kind: 'anti-affinity', hard: true }] };
}

export function replayWithConsolidation(w: Workload, options: ConsolidationReplayOptions): SnapshotFigures[] {
  const settings: RebalanceSettings = { ...DEFAULT_REBALANCE_SETTINGS, ...options.settings, goal: 'consolidate' };
  const every = options.antiAffinityEvery ?? 10;
  const session = packSession(w);
  const hostCpuMhz = Object.fromEntries(w.cluster.hosts.map((h) => [h.id, HOST_MHZ]));
  const shares = seededRandom(7);
  const placed = new Map<string, Placed>();
  const span = w.until - w.warmUntil;
  const snapshots = options.snapshots ?? 0;
  const instants = Array.from({ length: snapshots }, (_, k) => w.warmUntil + (span * (k + 1)) / (snapshots + 1));
  if (options.everyEvents) {
    const steady = w.events.filter((e) => e.at > w.warmUntil && e.at < w.until);
    for (let i = options.everyEvents; i < steady.length; i += options.everyEvents) instants.push(steady[i]?.at ?? 0);
    instants.sort((a, b) => a - b);
  }
  const out: SnapshotFigures[] = [];
  let next = 0;
  for (const e of w.events) {
    while (next < instants.length && e.at >= (instants[next] ?? 0)) {
      out.push(consolidateAt(w, session, placed, hostCpuMhz, settings, options, instants[next] ?? 0));
      next += 1;
    }
    if (e.type === 'arrive') {
      const request = withPairs(e.request, e.vm, every);
      const hostId = session.place(request).hostId;
      if (hostId) {
        const assignment = session.commit(request, hostId);
        placed.set(request.vmId ?? '', { request, hostId, assignment, cpuShare: 0.05 + 0.2 * shares() });
      }
    } else {
      const p = placed.get(`vm-${e.vm}`);
      if (p) {
        placed.delete(`vm-${e.vm}`);
        session.release(p.request, p.hostId, p.assignment);
      }
    }
  }
  return out;
}

function hostsInUse(placed: ReadonlyMap<string, Placed>): number {
  return new Set([...placed.values()].map((p) => p.hostId)).size;
}

/** Plans one round on the session's state and applies its moves to the session and `placed`. */
function oneRound(
  session: PlacementSession,
  placed: Map<string, Placed>,
  hostCpuMhz: Readonly<Record<string, number>>,
  settings: RebalanceSettings,
): { moves: number; memoryMovedMiB: number; planningMs: number; planningCpuMs: number; summary: string } {
  const vms: RebalanceVm[] = [...placed.values()].map((p) => ({
    request: p.request,
    hostId: p.hostId,
    state: 'running',
    load: { cpuMhz: p.cpuShare * p.request.vcpus * HOST_MHZ, memoryMiB: p.request.memoryMiB },
  }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const plan = planRebalance({
    cluster: session.snapshot(),
    vms,
    hostCpuMhz,
    settings,
    roundsTriggered: settings.holdRounds,
  });
  const planningMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const planningCpuMs = (cpu.user + cpu.system) / 1000;
  let memoryMovedMiB = 0;
  for (const m of plan.moves) {
    const p = placed.get(m.vmId);
    if (!p || p.hostId !== m.fromHostId) throw new Error(`the plan moves ${m.vmId} from a host it is not on`);
    p.assignment = session.move(p.request, p.hostId, p.assignment, m.toHostId);
    p.hostId = m.toHostId;
    memoryMovedMiB += p.request.memoryMiB;
  }
  return { moves: plan.moves.length, memoryMovedMiB, planningMs, planningCpuMs, summary: plan.summary };
}

/** Anti-affinity pairs on one host and hosts holding more than their capacity, counted from the VMs themselves. */
export function violations(w: Workload, placed: ReadonlyMap<string, Placed>): string[] {
  const found: string[] = [];
  const perHost = new Map<string, { vcpus: number; memoryMiB: number; groups: Set<string> }>();
  for (const p of placed.values()) {
    const h = perHost.get(p.hostId) ?? { vcpus: 0, memoryMiB: 0, groups: new Set<string>() };
    perHost.set(p.hostId, h);
    h.vcpus += p.request.vcpus;
    h.memoryMiB += p.request.memoryMiB;
    for (const g of p.request.groups) {
      if (g.kind !== 'anti-affinity' || !g.hard) continue;
      if (h.groups.has(g.name)) found.push(`${g.name} twice on ${p.hostId}`);
      h.groups.add(g.name);
    }
  }
  for (const [hostId, h] of perHost) {
    if (h.vcpus > w.hostCapacity.vcpus) found.push(`${hostId} holds ${h.vcpus} vCPUs of ${w.hostCapacity.vcpus}`);
    if (h.memoryMiB > w.hostCapacity.memoryMiB) {
      found.push(`${hostId} holds ${h.memoryMiB} MiB of ${w.hostCapacity.memoryMiB}`);
    }
  }
  return found;
}

function consolidateAt(
  w: Workload,
  session: PlacementSession,
  placed: Map<string, Placed>,
  hostCpuMhz: Readonly<Record<string, number>>,
  settings: RebalanceSettings,
  options: ConsolidationReplayOptions,
  at: number,
): SnapshotFigures {
  let vcpus = 0;
  let memoryMiB = 0;
  for (const p of placed.values()) {
    vcpus += p.request.vcpus;
    memoryMiB += p.request.memoryMiB;
  }
  const hostsBefore = hostsInUse(placed);
  const broken: string[] = [];
  /** Rounds on the state (one, or until one moves nothing), then its figures and broken rules. */
  const rounds = (
    s: PlacementSession,
    vms: Map<string, Placed>,
    roundSettings: RebalanceSettings,
    untilStill: boolean,
    label: string,
  ): RoundFigures => {
    let count = 0;
    let moves = 0;
    let memoryMovedMiB = 0;
    let planningMs = 0;
    let planningCpuMs = 0;
    let summary = '';
    for (;;) {
      const r = oneRound(s, vms, hostCpuMhz, roundSettings);
      count += 1;
      moves += r.moves;
      memoryMovedMiB += r.memoryMovedMiB;
      planningMs += r.planningMs;
      planningCpuMs += r.planningCpuMs;
      summary = r.summary;
      if (!untilStill || r.moves === 0 || count >= 500) break;
    }
    broken.push(...violations(w, vms).map((v) => (label ? `${label}: ${v}` : v)));
    return { hostsInUse: hostsInUse(vms), moves, memoryMovedMiB, planningMs, planningCpuMs, rounds: count, summary };
  };
  const copy = () => ({
    s: new PlacementSession(session.snapshot(), { seed: 1, profile: packProfile, trace: 'summary', topCandidates: 1 }),
    vms: new Map([...placed].map(([id, p]) => [id, { ...p }])),
  });
  const variants: Record<string, RoundFigures> = {};
  for (const v of options.variants ?? []) {
    const c = copy();
    const vs: RebalanceSettings = { ...DEFAULT_REBALANCE_SETTINGS, ...v.settings, goal: 'consolidate' };
    variants[v.label] = rounds(c.s, c.vms, vs, v.untilStill ?? false, v.label);
  }
  const main = options.apply === false ? copy() : { s: session, vms: placed };
  const round = rounds(main.s, main.vms, settings, false, '');
  return {
    at,
    vms: placed.size,
    lowerBound: lowerBound(w, vcpus, memoryMiB),
    hostsBefore,
    round,
    variants,
    violations: broken,
  };
}
