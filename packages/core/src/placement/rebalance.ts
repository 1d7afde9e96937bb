/**
 * Dynamic optimization (issue 12): which VMs to live-migrate so a cluster's
 * measured load is even (goal 'balance'), or so its least-loaded hosts empty
 * and can be powered off (goal 'consolidate'). Pure: a function of the
 * placement snapshot, the VMs with their measured load (metering samples, not
 * what they reserve), the settings and the hold counter; the API runs it each
 * round and persists what it returns.
 *
 * Load. A host's CPU load is the measured MHz of its VMs over its logical
 * processors × clock; its memory load is their measured memory over its usable
 * memory. Its load is the larger of the two (the resource that binds on that
 * host). The cluster's imbalance is the coefficient of variation of the
 * connected hosts' loads (standard deviation / mean; 0 = even), as CloudStack's
 * DRS and Proxmox's auto-rebalance measure it. A consolidation round is read in
 * hosts in use (connected hosts running a VM), the figure it lowers: its moves
 * raise the imbalance by design.
 *
 * Safety. Every move goes through a PlacementSession (move = release on the
 * source, commit on the target through every filter), so no plan breaks hard
 * affinity or anti-affinity, tenant dedication, host or cluster VM limits, or
 * capacity, counting the moves planned before it. Soft groups are kept too: a
 * move never takes a VM away from its soft-affinity group's host nor onto a
 * host running its soft-anti-affinity group (an optimisation that undoes what
 * the user asked for is not one). Tenant quotas count VMs, vCPUs, memory and
 * storage per tenant, which a move inside a cluster does not change. A VM moves
 * at most once per round, and a move the migration model says would not
 * converge is never proposed.
 *
 * Search. Balance is steepest descent: each step tries every movable VM on a
 * host above the mean load against every less-loaded host, the imbalance after
 * each computed in O(1) from running sums, and commits the best that the
 * filters accept; it stops when the imbalance is down to the threshold, when
 * no move qualifies, or at the cap. A move qualifies when it lowers the
 * imbalance and closes at least `minImprovement` of the load gap between its
 * two hosts (Proxmox's margin is relative to the whole cluster's imbalance,
 * which no single move of 4,000 VMs on 64 hosts changes by more than about a
 * percent: bench/rebalance.bench.ts; the gap of the pair scales with any size). Consolidation takes hosts from the
 * least loaded, and empties one only if every VM on it finds room on the hosts
 * that stay (best fit on measured load, under the consolidation ceiling);
 * otherwise that host's moves are undone and the next host is tried. Under the
 * cap, hosts with no more VMs than the moves left go first; the first larger
 * host that can be emptied then takes the moves left and drains over the next
 * rounds.
 */
import {
  guestDirtying,
  linkShareMiBps,
  type MigrationPolicy,
  predictMigration,
  SETUP_SECONDS,
} from '../mobility/migration-model';
import { MIB } from '../shared/units';
import { PlacementSession } from './place';
import { PlacementError } from './placement.errors';
import type { RebalanceSettings } from './rebalance-settings.schema';
import type { Assignment } from './reservation';
import {
  type ClusterSnapshot,
  freeMemoryMiB,
  groupCount,
  type HostSnapshot,
  type HostState,
  type PlacementRequest,
  usableMemoryMiB,
  vcpuCapacity,
} from './snapshot';

/** Measured averages over the last interval (metering samples). */
export interface MeasuredLoad {
  readonly cpuMhz: number;
  readonly memoryMiB: number;
}

export interface RebalanceVm {
  readonly request: PlacementRequest;
  readonly hostId: string;
  /** running moves live; off and saved move cold; any other state (or a VM already migrating) stays. */
  readonly state: string;
  /** A VM mid-operation (migrating, being restarted…) is not moved. */
  readonly pinned?: boolean;
  /** null: never metered in the window (counts as no load, and is reported). */
  readonly load: MeasuredLoad | null;
}

export interface RebalanceInput {
  readonly cluster: ClusterSnapshot;
  readonly vms: readonly RebalanceVm[];
  /** Clock of one logical processor per host, MHz (hosts.cpu_mhz). */
  readonly hostCpuMhz: Readonly<Record<string, number>>;
  readonly settings: Pick<
    RebalanceSettings,
    'goal' | 'threshold' | 'holdRounds' | 'minImprovement' | 'maxMovesPerRound' | 'consolidationMaxLoadPercent'
  >;
  /** Consecutive earlier rounds whose trigger held (the hold counter carried between rounds). */
  readonly roundsTriggered: number;
  /** A preview on demand ("plan now"): plan as if the hold had run out. */
  readonly ignoreHold?: boolean;
  readonly migrationPolicy?: MigrationPolicy;
  /** Live migrations per host at once (migrate-vm's cap): moves sharing a host share its link in the prediction. */
  readonly migrationsPerHost?: number;
  readonly seed?: number;
}

export interface HostLoad {
  readonly hostId: string;
  readonly hostName: string;
  /** Only connected hosts take part: a host in maintenance, suspect or failed is no target and its VMs stay. */
  readonly state: HostState;
  /** 0–1 (may exceed 1 when measured above capacity). */
  readonly cpu: number;
  readonly memory: number;
  readonly load: number;
  readonly vmCount: number;
}

export interface RebalanceMove {
  readonly vmId: string;
  readonly vmName: string;
  readonly fromHostId: string;
  readonly fromHostName: string;
  readonly toHostId: string;
  readonly toHostName: string;
  readonly live: boolean;
  /** The VM's measured load that moves with it. */
  readonly cpuMhz: number;
  readonly memoryMiB: number;
  /** Measured load (0–1, the binding resource) of the source and the target, before and after this move. */
  readonly fromLoadBefore: number;
  readonly fromLoadAfter: number;
  readonly toLoadBefore: number;
  readonly toLoadAfter: number;
  /**
   * The cluster's imbalance just before and just after this move (moves apply in order), measured
   * as the round's own (0 while the busiest host is under MIN_BUSIEST_LOAD), so the rows add up to it.
   */
  readonly imbalanceBefore: number;
  readonly imbalanceAfter: number;
  /** Connected hosts running at least one VM, just before and just after this move (consolidation's measure). */
  readonly hostsInUseBefore: number;
  readonly hostsInUseAfter: number;
  /** Bytes sent over the migration network (memory pre-copy with re-sent pages and the final copy; a saved VM's state; 0 for a VM that is off). */
  readonly bytesToMove: number;
  readonly predictedSeconds: number;
  /** null for a cold move. */
  readonly predictedBlackoutMs: number | null;
  /** For people: why this move. */
  readonly reason: string;
}

export interface RebalancePlan {
  readonly goal: RebalanceSettings['goal'];
  /** The trigger of this round: imbalance above the threshold (balance) or a host that can be emptied (consolidate). */
  readonly triggered: boolean;
  /** Consecutive rounds the trigger has held, this one included (0 when it does not hold): the next round's counter. */
  readonly roundsTriggered: number;
  /** Moves are proposed this round (triggered and the hold has run out). */
  readonly acting: boolean;
  readonly imbalanceBefore: number;
  /** After every proposed move. */
  readonly imbalanceAfter: number;
  /**
   * Connected hosts running at least one VM, before and after every proposed move: what consolidation
   * lowers (its moves raise the imbalance by design, so a consolidation round is read in hosts, not spread).
   */
  readonly hostsInUseBefore: number;
  readonly hostsInUseAfter: number;
  readonly hostsBefore: readonly HostLoad[];
  readonly hostsAfter: readonly HostLoad[];
  readonly moves: readonly RebalanceMove[];
  /** Consolidation: hosts the plan empties, and connected hosts already empty (one host always stays on). */
  readonly powerOffCandidates: readonly { readonly hostId: string; readonly hostName: string }[];
  /** Consolidation: a host whose emptying needs more moves than the cap leaves; the next rounds go on. */
  readonly draining: { readonly hostId: string; readonly hostName: string; readonly vmsLeft: number } | null;
  readonly totalBytesToMove: number;
  readonly totalPredictedSeconds: number;
  /** VMs on connected hosts without a sample in the window (counted as no load). */
  readonly unmeasuredVms: number;
  /** For people: what the round found and did. */
  readonly summary: string;
}

interface Vm {
  readonly index: number;
  readonly request: PlacementRequest;
  readonly vmId: string;
  hostIndex: number;
  assignment: Assignment;
  readonly cpuMhz: number;
  readonly memMiB: number;
  readonly live: boolean;
  readonly movable: boolean;
  moved: boolean;
}

const MOVABLE_STATES = new Set(['running', 'off', 'saved']);

/**
 * The coefficient of variation does not see scale: one VM idling at 0.1 % on
 * one of five hosts is imbalance 2.0. Below this measured load on its busiest
 * host a cluster is balanced enough whatever its spread (moving near-idle VMs
 * buys nothing and costs migrations).
 */
export const MIN_BUSIEST_LOAD = 0.02;

/** Imbalance of loads: population standard deviation over the mean; 0 when the mean is 0. */
export function imbalanceOf(loads: readonly number[]): number {
  const n = loads.length;
  if (n === 0) return 0;
  let s1 = 0;
  let s2 = 0;
  for (const l of loads) {
    s1 += l;
    s2 += l * l;
  }
  return cv(s1, s2, n);
}

function cv(s1: number, s2: number, n: number): number {
  const mean = s1 / n;
  if (!(mean > 0)) return 0;
  return Math.sqrt(Math.max(0, s2 / n - mean * mean)) / mean;
}

function busiestLoad(book: LoadBook, active: readonly boolean[]): number {
  let busiest = 0;
  for (let i = 0; i < book.hosts.length; i++) if (active[i]) busiest = Math.max(busiest, book.load[i] ?? 0);
  return busiest;
}

/**
 * The cluster's imbalance as a round reports it: 0 (balanced) while its busiest
 * host measures under MIN_BUSIEST_LOAD. An idle cluster read "imbalance
 * 2.00 → 2.00" with every host shown at 0 % (one VM idling at 0.1 % on one of
 * five hosts), a number that triggers nothing and only alarms.
 */
function reportedImbalance(book: LoadBook, active: readonly boolean[]): number {
  return busiestLoad(book, active) < MIN_BUSIEST_LOAD ? 0 : book.imbalance();
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

function pct(n: number): string {
  return `${Math.round(n * 100)} %`;
}

/**
 * Where the VM's disks and NIC reservations sit on its host now, as the
 * session needs to release them: named pools as named; unnamed disks on the
 * first pool holding that many bytes; each minimum on the first NIC reserving
 * that much. Release clamps at zero, so a guess that is off only leaves the
 * source looking fuller (conservative: no plan moves anything onto it by mistake).
 */
function currentAssignment(host: HostSnapshot, request: PlacementRequest): Assignment {
  const unpooled = request.disks.filter((d) => d.pool === undefined).reduce((s, d) => s + d.sizeBytes, 0);
  const pool = host.storagePools.find((p) => p.allocatedBytes >= unpooled)?.name ?? host.storagePools[0]?.name ?? '';
  return {
    diskPools: request.disks.map((d) => d.pool ?? pool),
    nicNames: request.nics.map((n) =>
      n.minBandwidthMbps ? (host.nics.find((x) => x.reservedMinMbps >= (n.minBandwidthMbps ?? 0))?.name ?? null) : null,
    ),
  };
}

class LoadBook {
  readonly cpuMhz: Float64Array;
  readonly memMiB: Float64Array;
  readonly cpuCap: Float64Array;
  readonly memCap: Float64Array;
  readonly load: Float64Array;
  readonly vmCount: Int32Array;
  s1 = 0;
  s2 = 0;
  /** Active hosts with at least one VM. */
  inUse = 0;

  constructor(
    readonly hosts: readonly HostSnapshot[],
    readonly active: readonly boolean[],
    hostCpuMhz: Readonly<Record<string, number>>,
  ) {
    const n = hosts.length;
    this.cpuMhz = new Float64Array(n);
    this.memMiB = new Float64Array(n);
    this.cpuCap = new Float64Array(n);
    this.memCap = new Float64Array(n);
    this.load = new Float64Array(n);
    this.vmCount = new Int32Array(n);
    hosts.forEach((h, i) => {
      this.cpuCap[i] = h.logicalProcessors * (hostCpuMhz[h.id] ?? 0);
      this.memCap[i] = usableMemoryMiB(h);
    });
  }

  loadWith(i: number, cpuDelta: number, memDelta: number): number {
    const c = (this.cpuCap[i] ?? 0) > 0 ? ((this.cpuMhz[i] ?? 0) + cpuDelta) / (this.cpuCap[i] ?? 1) : 0;
    const m = (this.memCap[i] ?? 0) > 0 ? ((this.memMiB[i] ?? 0) + memDelta) / (this.memCap[i] ?? 1) : 0;
    return Math.max(c, m);
  }

  add(i: number, cpu: number, mem: number, vms: number): void {
    this.cpuMhz[i] = (this.cpuMhz[i] ?? 0) + cpu;
    this.memMiB[i] = (this.memMiB[i] ?? 0) + mem;
    const countBefore = this.vmCount[i] ?? 0;
    this.vmCount[i] = countBefore + vms;
    if (this.active[i]) this.inUse += Number(countBefore + vms > 0) - Number(countBefore > 0);
    const before = this.load[i] ?? 0;
    const after = this.loadWith(i, 0, 0);
    this.load[i] = after;
    if (this.active[i]) {
      this.s1 += after - before;
      this.s2 += after * after - before * before;
    }
  }

  get n(): number {
    return this.active.filter(Boolean).length;
  }

  imbalance(): number {
    return cv(this.s1, this.s2, this.n);
  }

  /** Imbalance if `cpu`/`mem` moved from host `s` to host `t` (both active). */
  imbalanceIfMoved(s: number, t: number, cpu: number, mem: number, n: number): number {
    const ls = this.load[s] ?? 0;
    const lt = this.load[t] ?? 0;
    const ls2 = this.loadWith(s, -cpu, -mem);
    const lt2 = this.loadWith(t, cpu, mem);
    return cv(this.s1 - ls - lt + ls2 + lt2, this.s2 - ls * ls - lt * lt + ls2 * ls2 + lt2 * lt2, n);
  }

  rows(): HostLoad[] {
    return this.hosts.map((h, i) => ({
      hostId: h.id,
      hostName: h.name,
      state: h.state,
      cpu: (this.cpuCap[i] ?? 0) > 0 ? (this.cpuMhz[i] ?? 0) / (this.cpuCap[i] ?? 1) : 0,
      memory: (this.memCap[i] ?? 0) > 0 ? (this.memMiB[i] ?? 0) / (this.memCap[i] ?? 1) : 0,
      load: this.load[i] ?? 0,
      vmCount: this.vmCount[i] ?? 0,
    }));
  }
}

/** Soft groups: the move must not leave a soft-affinity group's host or join a soft-anti-affinity group. */
function keepsSoftGroups(vm: Vm, from: HostSnapshot, to: HostSnapshot): boolean {
  for (const g of vm.request.groups) {
    if (g.hard) continue; // hard groups: the session's filters
    if (g.kind === 'affinity' && groupCount(from, g.name) > 1 && groupCount(to, g.name) === 0) return false;
    if (g.kind === 'anti-affinity' && groupCount(to, g.name) > 0) return false;
  }
  return true;
}

export function planRebalance(input: RebalanceInput): RebalancePlan {
  const { cluster, settings } = input;
  const hosts = cluster.hosts;
  const indexById = new Map(hosts.map((h, i) => [h.id, i]));
  const active = hosts.map((h) => h.state === 'connected');
  const book = new LoadBook(hosts, active, input.hostCpuMhz);
  const session = new PlacementSession(cluster, { seed: input.seed ?? 1, trace: 'summary', topCandidates: 0 });
  const vms: Vm[] = [];
  let unmeasuredVms = 0;
  for (const v of input.vms) {
    const hostIndex = indexById.get(v.hostId);
    const host = hostIndex === undefined ? undefined : hosts[hostIndex];
    if (hostIndex === undefined || !host) continue;
    if (v.load === null && active[hostIndex]) unmeasuredVms += 1;
    const cpuMhz = Math.max(0, v.load?.cpuMhz ?? 0);
    const memMiB = Math.max(0, v.load?.memoryMiB ?? 0);
    book.add(hostIndex, cpuMhz, memMiB, 1);
    vms.push({
      index: vms.length,
      request: v.request,
      vmId: v.request.vmId ?? v.request.name,
      hostIndex,
      assignment: currentAssignment(host, v.request),
      cpuMhz,
      memMiB,
      live: v.state === 'running',
      movable: !v.pinned && MOVABLE_STATES.has(v.state) && active[hostIndex] === true,
      moved: false,
    });
  }
  const hostsBefore = book.rows();
  const hostsInUseBefore = book.inUse;
  const n = book.n;
  const ctx: PlanContext = { input, hosts, book, session, vms, n };

  // Balance knows its trigger before searching, and searches only once the hold has run out;
  // consolidation's trigger (a host can be emptied) is the search itself.
  const busiest = busiestLoad(book, active);
  const imbalanceBefore = reportedImbalance(book, active);
  const balanceTrigger = imbalanceBefore > settings.threshold;
  const holdLeftIf = (triggered: boolean) =>
    input.ignoreHold ? 0 : Math.max(0, settings.holdRounds - (triggered ? input.roundsTriggered + 1 : 0));
  const search =
    settings.goal === 'consolidate'
      ? consolidate(ctx)
      : balance(ctx, balanceTrigger, balanceTrigger && holdLeftIf(true) === 0);
  const roundsTriggered = search.triggered ? input.roundsTriggered + 1 : 0;
  const holdLeft = holdLeftIf(search.triggered);
  const acting = search.triggered && holdLeft === 0 && search.moves.length > 0;
  const moves = acting ? withPredictions(ctx, search.moves) : [];
  // The after-state: every proposed move applied (the search's book when acting, else the same as before).
  const hostsAfter = acting ? book.rows() : hostsBefore;
  const imbalanceAfter = acting ? reportedImbalance(book, active) : imbalanceBefore;
  const hostsInUseAfter = acting ? book.inUse : hostsInUseBefore;
  const powerOff = acting || settings.goal !== 'consolidate' ? search.powerOff : search.alreadyEmpty;

  const summary = summarise({
    goal: settings.goal,
    threshold: settings.threshold,
    imbalanceBefore,
    imbalanceAfter,
    hostsInUseBefore,
    hostsInUseAfter,
    triggered: search.triggered,
    roundsTriggered,
    holdRounds: settings.holdRounds,
    holdLeft,
    moves,
    why: search.why,
    powerOff,
    busiest,
  });
  return {
    goal: settings.goal,
    triggered: search.triggered,
    roundsTriggered,
    acting,
    imbalanceBefore,
    imbalanceAfter,
    hostsInUseBefore,
    hostsInUseAfter,
    hostsBefore,
    hostsAfter,
    moves,
    powerOffCandidates: powerOff,
    draining: acting ? search.draining : null,
    totalBytesToMove: moves.reduce((s, m) => s + m.bytesToMove, 0),
    totalPredictedSeconds: moves.reduce((s, m) => s + m.predictedSeconds, 0),
    unmeasuredVms,
    summary,
  };
}

interface PlanContext {
  readonly input: RebalanceInput;
  readonly hosts: readonly HostSnapshot[];
  readonly book: LoadBook;
  readonly session: PlacementSession;
  readonly vms: Vm[];
  readonly n: number;
}

interface DraftMove {
  readonly vm: Vm;
  readonly from: number;
  readonly to: number;
  readonly imbalanceBefore: number;
  readonly imbalanceAfter: number;
  readonly hostsInUseBefore: number;
  readonly hostsInUseAfter: number;
  /** Measured load of the source before / after, then of the target before / after. */
  readonly loads: readonly [number, number, number, number];
  readonly reason: string;
}

interface SearchResult {
  readonly triggered: boolean;
  readonly moves: DraftMove[];
  readonly powerOff: { hostId: string; hostName: string }[];
  readonly alreadyEmpty: { hostId: string; hostName: string }[];
  readonly draining: { hostId: string; hostName: string; vmsLeft: number } | null;
  /** Why nothing (more) moves, for the summary. */
  readonly why: string;
}

/** Moves the VM in the session and the load book; false (nothing changed) when a filter refuses the target. */
function tryMove(ctx: PlanContext, vm: Vm, to: number): boolean {
  const from = ctx.hosts[vm.hostIndex];
  const target = ctx.hosts[to];
  if (!from || !target) return false;
  const fromNow = ctx.session.host(from.id);
  const toNow = ctx.session.host(target.id);
  if (!fromNow || !toNow || !keepsSoftGroups(vm, fromNow, toNow)) return false;
  try {
    vm.assignment = ctx.session.move(vm.request, from.id, vm.assignment, target.id);
  } catch (error) {
    if (error instanceof PlacementError) return false;
    throw error;
  }
  ctx.book.add(vm.hostIndex, -vm.cpuMhz, -vm.memMiB, -1);
  ctx.book.add(to, vm.cpuMhz, vm.memMiB, 1);
  vm.hostIndex = to;
  return true;
}

/** A migration the model refuses (it would not converge) is no candidate. */
function converges(ctx: PlanContext, vm: Vm, from: number, to: number): boolean {
  if (!vm.live) return true;
  return predictFor(ctx, vm, from, to, 1).verdict !== 'refused';
}

function balance(ctx: PlanContext, triggered: boolean, search: boolean): SearchResult {
  const { book, hosts, vms, n, input } = ctx;
  const { minImprovement, maxMovesPerRound, threshold } = input.settings;
  const base = { powerOff: [], alreadyEmpty: [], draining: null };
  if (!search) return { ...base, triggered, moves: [], why: '' };
  const moves: DraftMove[] = [];
  const byHost: Vm[][] = hosts.map(() => []);
  for (const vm of vms) byHost[vm.hostIndex]?.push(vm);
  /** (VM, target) pairs placement refused this round: not tried again. */
  const refused = new Set<number>();
  const H = hosts.length;
  let why = '';
  while (moves.length < maxMovesPerRound) {
    const current = book.imbalance();
    if (current <= threshold) {
      why = `the imbalance is down to the threshold ${fmt(threshold)}`;
      break;
    }
    const mean = book.s1 / n;
    // Steepest descent: the (VM on a host above the mean, less-loaded host) pair that leaves the
    // lowest imbalance, among pairs that close `minImprovement` of their two hosts' load gap; a
    // linear scan per step (O(1) per pair), the quick capacity check before placement's filters.
    let best: { vm: Vm; to: number; after: number } | null = null;
    for (let s = 0; s < H; s++) {
      const ls = book.load[s] ?? 0;
      if (!book.active[s] || ls <= mean) continue;
      for (const vm of byHost[s] ?? []) {
        if (!vm.movable || vm.moved || (vm.cpuMhz === 0 && vm.memMiB === 0)) continue;
        const ls2 = book.loadWith(s, -vm.cpuMhz, -vm.memMiB);
        for (let t = 0; t < H; t++) {
          const lt = book.load[t] ?? 0;
          if (t === s || !book.active[t] || lt >= ls || refused.has(vm.index * H + t)) continue;
          const gapAfter = Math.abs(ls2 - book.loadWith(t, vm.cpuMhz, vm.memMiB));
          if (ls - lt - gapAfter < minImprovement * (ls - lt)) continue;
          const after = book.imbalanceIfMoved(s, t, vm.cpuMhz, vm.memMiB, n);
          if (after > current - 1e-9) continue;
          if (best && (after > best.after || (after === best.after && vm.index > best.vm.index))) continue;
          if (!roomFor(ctx, vm, t)) continue;
          best = { vm, to: t, after };
        }
      }
    }
    if (!best) {
      why =
        refused.size > 0
          ? `the ${refused.size === 1 ? 'move that would help is' : `${refused.size} moves that would help are`} refused by placement (capacity, affinity, dedication, limits) or would not converge`
          : `no move lowers the imbalance while closing ${pct(minImprovement)} of the gap between its two hosts`;
      break;
    }
    const from = best.vm.hostIndex;
    const fromBefore = book.load[from] ?? 0;
    const toBefore = book.load[best.to] ?? 0;
    const inUseBefore = book.inUse;
    // The search runs on the raw spread; rows and reasons say the round's measure (its summary's).
    const reportedBefore = reportedImbalance(book, book.active);
    if (!converges(ctx, best.vm, from, best.to) || !tryMove(ctx, best.vm, best.to)) {
      refused.add(best.vm.index * H + best.to);
      continue;
    }
    best.vm.moved = true;
    byHost[from] = (byHost[from] ?? []).filter((v) => v !== best.vm);
    byHost[best.to]?.push(best.vm);
    const after = reportedImbalance(book, book.active);
    moves.push({
      vm: best.vm,
      from,
      to: best.to,
      imbalanceBefore: reportedBefore,
      imbalanceAfter: after,
      hostsInUseBefore: inUseBefore,
      hostsInUseAfter: book.inUse,
      loads: [fromBefore, book.load[from] ?? 0, toBefore, book.load[best.to] ?? 0],
      reason: `${hosts[from]?.name} ${pct(fromBefore)} → ${pct(book.load[from] ?? 0)}, ${hosts[best.to]?.name} ${pct(toBefore)} → ${pct(book.load[best.to] ?? 0)}: imbalance ${fmt(reportedBefore)} → ${fmt(after)}`,
    });
  }
  if (moves.length >= maxMovesPerRound) why = `the cap of ${maxMovesPerRound} moves per round is reached`;
  return { ...base, triggered, moves, why };
}

/**
 * Necessary conditions of the memory and CPU filters on the session's current
 * host, checked before any filter runs (most refusals in a full cluster).
 */
function roomFor(ctx: PlanContext, vm: Vm, t: number): boolean {
  const host = ctx.session.host(ctx.hosts[t]?.id ?? '');
  if (!host) return false;
  return (
    freeMemoryMiB(host) >= vm.request.memoryMiB &&
    vcpuCapacity(host, ctx.input.cluster.cpuOvercommitRatio) - host.allocated.vcpus >= vm.request.vcpus
  );
}

/** The host's load before the VM left it (for the reason text). */
function hostLoadBefore(book: LoadBook, i: number, vm: Vm, left: boolean): number {
  return left ? book.loadWith(i, vm.cpuMhz, vm.memMiB) : (book.load[i] ?? 0);
}

function consolidate(ctx: PlanContext): SearchResult {
  const { book, hosts, vms, input } = ctx;
  const { maxMovesPerRound } = input.settings;
  const ceiling = input.settings.consolidationMaxLoadPercent / 100;
  const connected = hosts.map((_, i) => i).filter((i) => book.active[i]);
  const byHost: Vm[][] = hosts.map(() => []);
  for (const vm of vms) byHost[vm.hostIndex]?.push(vm);
  const alreadyEmpty = connected
    .filter((i) => (book.vmCount[i] ?? 0) === 0)
    .map((i) => ({ hostId: hosts[i]?.id ?? '', hostName: hosts[i]?.name ?? '' }));
  // One host always stays on: an all-empty cluster lists all but its first.
  if (alreadyEmpty.length === connected.length) alreadyEmpty.shift();
  const initiallyEmpty = new Set<number>(connected.filter((i) => (book.vmCount[i] ?? 0) === 0));
  const emptied = new Set<number>(initiallyEmpty);
  const order = connected
    .filter((i) => (book.vmCount[i] ?? 0) > 0)
    .sort(
      (a, b) =>
        (book.load[a] ?? 0) - (book.load[b] ?? 0) ||
        (book.vmCount[a] ?? 0) - (book.vmCount[b] ?? 0) ||
        (hosts[a]?.name ?? '').localeCompare(hosts[b]?.name ?? ''),
    );
  const moves: DraftMove[] = [];
  const powerOff: { hostId: string; hostName: string }[] = [...alreadyEmpty];
  let draining: SearchResult['draining'] = null;
  let triggered = false;
  let why = '';
  const refusals: string[] = [];
  const received = new Set<number>();
  /** Hosts with more VMs than the round had moves left when their turn came, in that order. */
  const tooLong: number[] = [];

  /** Plans every move that empties host `h` (kept in the session and the book), or null with nothing changed. */
  const planEmptying = (h: number): DraftMove[] | null => {
    const host = hosts[h];
    if (!host) return null;
    const onHost = (byHost[h] ?? []).filter((v) => v.hostIndex === h && !v.moved);
    const pinned = onHost.find((v) => !v.movable);
    if (pinned) {
      refusals.push(`${host.name}: ${pinned.request.name} cannot move now`);
      return null;
    }
    // Largest measured load first (first-fit decreasing), then memory reserved, then name: the plan replays.
    onHost.sort(
      (a, b) =>
        b.cpuMhz / Math.max(1, book.cpuCap[h] ?? 1) +
          b.memMiB / Math.max(1, book.memCap[h] ?? 1) -
          (a.cpuMhz / Math.max(1, book.cpuCap[h] ?? 1) + a.memMiB / Math.max(1, book.memCap[h] ?? 1)) ||
        b.request.memoryMiB - a.request.memoryMiB ||
        a.request.name.localeCompare(b.request.name),
    );
    const planned: DraftMove[] = [];
    for (const vm of onHost) {
      const before = reportedImbalance(book, book.active);
      const inUseBefore = book.inUse;
      // Best fit on measured load: the fullest host that stays under the ceiling, tried in that order.
      // Never an empty host: filling one to empty another frees nothing.
      const others = connected.filter((t) => t !== h && !emptied.has(t));
      const targets = others
        .map((t) => ({ t, after: book.loadWith(t, vm.cpuMhz, vm.memMiB) }))
        .filter((x) => x.after <= ceiling)
        .sort((a, b) => b.after - a.after || a.t - b.t);
      const fromBefore = book.load[h] ?? 0;
      const chosen = targets.find((x) => roomFor(ctx, vm, x.t) && converges(ctx, vm, h, x.t) && tryMove(ctx, vm, x.t));
      if (!chosen) {
        // Undo this host's moves, last first: the session and the book are as before the attempt.
        undo(h, planned);
        refusals.push(
          others.length === 0
            ? `${host.name}: ${noTargetLeft(h)}`
            : targets.length === 0
              ? `${host.name}: ${vm.request.name} fits on no other host under ${pct(ceiling)} measured load`
              : `${host.name}: placement refuses ${vm.request.name} on every other host under ${pct(ceiling)} measured load (capacity, affinity, limits) or its migration would not converge`,
        );
        return null;
      }
      planned.push({
        vm,
        from: h,
        to: chosen.t,
        imbalanceBefore: before,
        imbalanceAfter: reportedImbalance(book, book.active),
        hostsInUseBefore: inUseBefore,
        hostsInUseAfter: book.inUse,
        loads: [fromBefore, book.load[h] ?? 0, book.loadWith(chosen.t, -vm.cpuMhz, -vm.memMiB), chosen.after],
        reason: `emptying ${host.name} (${pct(hostLoadBefore(book, h, vm, false))} load left) so it can be powered off; ${hosts[chosen.t]?.name} at ${pct(chosen.after)}`,
      });
    }
    return planned;
  };
  /** Why no host is left to take host `h`'s VMs: the others are empty (or emptied this round), or there are none. */
  const noTargetLeft = (h: number): string => {
    if (connected.length === 1) return 'it is the only connected host';
    const emptiedNow = connected.some((t) => t !== h && emptied.has(t) && !initiallyEmpty.has(t));
    return `every other connected host is ${emptiedNow ? 'empty or emptied this round' : 'already empty'}, and consolidation never moves a VM onto an empty host (that would only swap which host stays on)`;
  };
  const undo = (h: number, planned: DraftMove[]): void => {
    for (const m of planned.slice().reverse()) {
      if (!tryMove(ctx, m.vm, h)) throw new Error(`could not undo the planned move of ${m.vm.request.name}`);
    }
  };
  const keep = (planned: readonly DraftMove[]): void => {
    for (const m of planned) {
      m.vm.moved = true;
      received.add(m.to);
    }
    moves.push(...planned);
  };

  // A round under its cap frees as many hosts as it can: a host with more VMs than moves left
  // waits while the next hosts that fit are emptied; the first that waited and can be emptied
  // then takes what remains of the cap and is finished in later rounds. Starting it at once
  // spent rounds on one host while lighter ones stayed on (synthetic workloads on 100 hosts,
  // rounds of 10 moves: hosts in use ÷ lower bound after a round averaged up to 1.014, now
  // up to 1.010, no workload worse; consolidation-ratio.test.ts, bench/rebalance.bench.ts).
  for (const h of order) {
    if (moves.length >= maxMovesPerRound) break;
    const host = hosts[h];
    // A host that took VMs this round stays on: emptying it would move those VMs twice.
    if (!host || received.has(h)) continue;
    // More VMs than moves left: not planned now (planning and undoing every large host of a
    // 1,000-host cluster cost a second a round), but in turn below, if no lighter host used the moves.
    if ((book.vmCount[h] ?? 0) > maxMovesPerRound - moves.length) {
      tooLong.push(h);
      continue;
    }
    const planned = planEmptying(h);
    if (!planned) continue;
    triggered = true;
    keep(planned);
    emptied.add(h);
    powerOff.push({ hostId: host.id, hostName: host.name });
  }
  // More moves than the cap leaves: the first ones now, the rest in later rounds.
  for (const h of tooLong) {
    const room = maxMovesPerRound - moves.length;
    const host = hosts[h];
    if (room <= 0 || !host) break;
    if (received.has(h)) continue;
    const planned = planEmptying(h);
    if (!planned) continue;
    triggered = true;
    undo(h, planned.slice(room));
    keep(planned.slice(0, room));
    if (planned.length <= room) {
      emptied.add(h);
      powerOff.push({ hostId: host.id, hostName: host.name });
      continue;
    }
    draining = { hostId: host.id, hostName: host.name, vmsLeft: planned.length - room };
    break;
  }
  if (!triggered) {
    why =
      order.length === 0 ? 'no host has VMs to move' : `no host can be emptied (${refusals.slice(0, 3).join('; ')})`;
  } else if (moves.length >= maxMovesPerRound) {
    why = `the cap of ${maxMovesPerRound} moves per round is reached`;
  }
  return { triggered, moves, powerOff, alreadyEmpty, draining, why };
}

function linkMbps(host: HostSnapshot | undefined): number {
  return Math.max(1_000, ...(host?.nics.map((n) => n.linkSpeedMbps) ?? []));
}

function predictFor(ctx: PlanContext, vm: Vm, from: number, to: number, concurrent: number) {
  const source = ctx.hosts[from];
  const hostMhz = ctx.input.hostCpuMhz[source?.id ?? ''] ?? 0;
  const share = hostMhz > 0 && vm.request.vcpus > 0 ? vm.cpuMhz / (vm.request.vcpus * hostMhz) : 0.3;
  return predictMigration(
    {
      memoryMiB: vm.request.memoryMiB,
      ...guestDirtying(vm.request.vcpus, vm.request.memoryMiB, share),
      linkMbps: Math.min(linkMbps(source), linkMbps(ctx.hosts[to])),
      concurrent,
    },
    ctx.input.migrationPolicy,
  );
}

/** Each move's cost: moves sharing a host share its link (at most the per-host cap run at once). */
function withPredictions(ctx: PlanContext, drafts: readonly DraftMove[]): RebalanceMove[] {
  const cap = ctx.input.migrationsPerHost ?? 2;
  const perHost = new Map<number, number>();
  for (const d of drafts) {
    perHost.set(d.from, (perHost.get(d.from) ?? 0) + 1);
    perHost.set(d.to, (perHost.get(d.to) ?? 0) + 1);
  }
  return drafts.map((d) => {
    const from = ctx.hosts[d.from];
    const to = ctx.hosts[d.to];
    const concurrent = Math.min(cap, Math.max(perHost.get(d.from) ?? 1, perHost.get(d.to) ?? 1));
    let bytesToMove = 0;
    let predictedSeconds = SETUP_SECONDS;
    let predictedBlackoutMs: number | null = null;
    if (d.vm.live) {
      const p = predictFor(ctx, d.vm, d.from, d.to, concurrent);
      bytesToMove = Math.round(p.sentMiB * MIB);
      predictedSeconds = p.totalSeconds;
      predictedBlackoutMs = p.blackoutMs;
    } else {
      // Cold: a saved VM's memory state travels with it; an off VM moves only its configuration and disk handle.
      const stateMiB = d.vm.request.memoryMiB > 0 && isSaved(ctx, d.vm) ? d.vm.request.memoryMiB : 0;
      bytesToMove = stateMiB * MIB;
      predictedSeconds = SETUP_SECONDS + stateMiB / linkShareMiBps(Math.min(linkMbps(from), linkMbps(to)), concurrent);
    }
    return {
      vmId: d.vm.vmId,
      vmName: d.vm.request.name,
      fromHostId: from?.id ?? '',
      fromHostName: from?.name ?? '',
      toHostId: to?.id ?? '',
      toHostName: to?.name ?? '',
      live: d.vm.live,
      cpuMhz: d.vm.cpuMhz,
      memoryMiB: d.vm.memMiB,
      fromLoadBefore: d.loads[0],
      fromLoadAfter: d.loads[1],
      toLoadBefore: d.loads[2],
      toLoadAfter: d.loads[3],
      imbalanceBefore: d.imbalanceBefore,
      imbalanceAfter: d.imbalanceAfter,
      hostsInUseBefore: d.hostsInUseBefore,
      hostsInUseAfter: d.hostsInUseAfter,
      bytesToMove,
      predictedSeconds,
      predictedBlackoutMs,
      reason: d.reason,
    };
  });
}

function isSaved(ctx: PlanContext, vm: Vm): boolean {
  return ctx.input.vms[vm.index]?.state === 'saved';
}

function summarise(s: {
  goal: RebalanceSettings['goal'];
  threshold: number;
  imbalanceBefore: number;
  imbalanceAfter: number;
  hostsInUseBefore: number;
  hostsInUseAfter: number;
  triggered: boolean;
  roundsTriggered: number;
  holdRounds: number;
  holdLeft: number;
  moves: readonly RebalanceMove[];
  why: string;
  powerOff: readonly { hostName: string }[];
  busiest: number;
}): string {
  const imb = `imbalance ${fmt(s.imbalanceBefore)}`;
  if (s.goal === 'balance' && !s.triggered && s.busiest === 0) {
    return 'No load measured yet: every host is at 0 % measured load; balanced, nothing moves';
  }
  if (s.goal === 'balance' && !s.triggered && s.busiest < MIN_BUSIEST_LOAD) {
    return `Idle enough: the busiest host is at ${pct(s.busiest)} measured load (under ${pct(MIN_BUSIEST_LOAD)}), which counts as balanced; nothing moves`;
  }
  if (s.goal === 'balance' && !s.triggered) {
    return `Balanced enough: ${imb} is not above the threshold ${fmt(s.threshold)}; nothing moves`;
  }
  if (s.goal === 'consolidate' && !s.triggered) {
    const off = s.powerOff.length ? `; already empty: ${s.powerOff.map((h) => h.hostName).join(', ')}` : '';
    return `Nothing to consolidate: ${s.why}${off}`;
  }
  const trigger = s.goal === 'balance' ? `${imb} above the threshold ${fmt(s.threshold)}` : 'a host can be emptied';
  if (s.holdLeft > 0) {
    return `Holding: ${trigger} for ${s.roundsTriggered} of ${s.holdRounds} rounds; moves are proposed once it has held ${s.holdRounds}`;
  }
  if (s.moves.length === 0) return `No move: ${trigger}, but ${s.why}`;
  const moves = `${s.moves.length} ${s.moves.length === 1 ? 'move' : 'moves'}`;
  // Consolidation raises the spread on purpose (it fills some hosts to empty others): its round is
  // read in hosts in use, the figure it lowers. "imbalance 0.00 → 0.00" over rows of 0.707 → 1.414 said neither.
  const freed = s.hostsInUseBefore - s.hostsInUseAfter;
  const after =
    s.goal === 'consolidate'
      ? `hosts in use ${s.hostsInUseBefore} → ${s.hostsInUseAfter}, ${freed === 0 ? 'none' : freed} freed`
      : `imbalance ${fmt(s.imbalanceBefore)} → ${fmt(s.imbalanceAfter)}`;
  // The hosts that could be powered off are the plan's powerOffCandidates, which the page shows
  // on a line of their own (with a draining host): named here too, the page said it twice.
  return `${moves}: ${after}${s.why ? ` (stopped: ${s.why})` : ''}`;
}
