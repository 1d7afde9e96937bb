/**
 * One placement decision: run the profile's filters over the hosts, score the
 * hosts that pass, rank them, and keep the trace that explains the choice.
 *
 *   place()          one VM on an immutable snapshot (what the API calls);
 *   applyPlacement() the snapshot with one VM's reservation added;
 *   placeBatch()     several VMs in order on a working copy, nothing committed;
 *   PlacementSession the working copy itself, for callers placing many VMs
 *                    (what-if, evacuation plans, the rebalancer, benchmarks):
 *                    commit, release and move update it in place (no rebuild
 *                    from a snapshot), and it keeps per-host quick figures so
 *                    a decision need not run the filters on every host.
 */
import { formatCount, plural } from './format';
import { PlacementError } from './placement.errors';
import type { Demand, PlacementContext, RejectCode, Rejection } from './plugin';
import { type PlacementProfile, profileFor, type WeightedScorer } from './profiles';
import { type Assignment, assign, demandOf, releaseFromHost, reserveOnHost } from './reservation';
import { bindingLeftover, bindingWeights, fitKey } from './scorers/binding-fit';
import { tieKey } from './seeded-order';
import {
  type ClusterSnapshot,
  freeMemoryMiB,
  type HostSnapshot,
  type PlacementRequest,
  usableMemoryMiB,
  vcpuCapacity,
} from './snapshot';

export type TraceMode = 'full' | 'summary';

export interface PlaceOptions {
  readonly seed: number;
  /**
   * 'full' (default): every host, every filter's verdict (even after the
   * first failure, so "why not host-07" lists all its problems), every
   * candidate's scores. 'summary': each host stops at its first failing
   * filter and only counts; the top candidates keep their scores.
   */
  readonly trace?: TraceMode;
  /**
   * Score at most this many feasible hosts, drawn in the profile's candidate
   * order (nomad's limit iterator). Default: all. Feasibility stays exact
   * (a VM is refused only when no host fits); only the choice among many
   * fitting hosts is approximate. Ignored by 'full' traces.
   */
  readonly candidateLimit?: number;
  /** Summary traces keep this many ranked candidates (default 5). */
  readonly topCandidates?: number;
  /** Default: the cluster's policy. */
  readonly profile?: PlacementProfile;
}

export interface VerdictTrace {
  readonly filter: string;
  readonly ok: boolean;
  readonly code?: RejectCode;
  readonly reason?: string;
  readonly numbers?: Readonly<Record<string, number>>;
}

export interface ScoreTrace {
  readonly scorer: string;
  readonly raw: number;
  /** 0–100 across this decision's candidates; 50 for all when the scorer cannot tell them apart. */
  readonly normalized: number;
  readonly weight: number;
  /** normalized × weight. */
  readonly contribution: number;
}

export interface HostTrace {
  readonly hostId: string;
  readonly hostName: string;
  /** Full traces: every filter. Summary traces of candidates: every filter passed. */
  readonly verdicts: readonly VerdictTrace[];
  readonly scores: readonly ScoreTrace[];
  /** 0–100: the weighted sum rescaled between the worst and best sums the weights allow; null when rejected. */
  readonly total: number | null;
  /** 1 = chosen; null when rejected. */
  readonly rank: number | null;
}

export interface RejectionCount {
  /** The first filter the hosts failed, in profile order. */
  readonly filter: string;
  readonly code: RejectCode;
  readonly hosts: number;
  readonly example: { readonly hostId: string; readonly hostName: string; readonly reason: string };
}

export interface PlacementDecision {
  readonly hostId: string | null;
  readonly hostName: string | null;
  /** "Placed on hv-03 (score 87.2 of 100; 12 of 16 hosts fit)" or "No host fits: 3 hosts short of memory, 2 in maintenance". */
  readonly summary: string;
  /** Full: every host, candidates in rank order, then rejected hosts by name. Summary: the top candidates. */
  readonly trace: readonly HostTrace[];
  readonly policy: PlacementProfile['name'];
  readonly seed: number;
  readonly traceMode: TraceMode;
  readonly hostsTotal: number;
  /** Hosts whose filters ran (all of them unless a candidate limit pruned the search). */
  readonly hostsEvaluated: number;
  /** Evaluated hosts that passed every filter. */
  readonly candidates: number;
  /** Per first failing filter and code, most hosts first. */
  readonly rejections: readonly RejectionCount[];
  /** Where the chosen host puts the VM's disks and NIC reservations; null when not placed. */
  readonly assignment: Assignment | null;
}

interface FirstFailure {
  readonly filter: string;
  readonly verdict: Rejection;
}

/** How a no-fit summary counts hosts per rejection code (one, many). */
export const NO_FIT_PHRASE: Record<RejectCode, [one: string, many: string]> = {
  HOST_MAINTENANCE: ['host in maintenance', 'hosts in maintenance'],
  HOST_SUSPECT: ['host suspect', 'hosts suspect'],
  HOST_FAILED: ['host failed', 'hosts failed'],
  TENANT_DEDICATED: ['host dedicated to another tenant', 'hosts dedicated to another tenant'],
  REPLICA_HOST: ["host holding the VM's replica", "hosts holding the VM's replica"],
  REPLICA_CLUSTER: ["host in the cluster of the VM's replica", "hosts in the cluster of the VM's replica"],
  CLUSTER_VM_LIMIT: ['host at the cluster VM limit', 'hosts at the cluster VM limit'],
  HOST_VM_LIMIT: ['host at its VM limit', 'hosts at their VM limit'],
  VCPUS_EXCEED_LPS: ['host with fewer logical processors than vCPUs', 'hosts with fewer logical processors than vCPUs'],
  CPU_SHORT: ['host short of CPU', 'hosts short of CPU'],
  MEMORY_SHORT: ['host short of memory', 'hosts short of memory'],
  STORAGE_POOL_MISSING: ['host without the storage pool', 'hosts without the storage pool'],
  STORAGE_SHORT: ['host short of storage', 'hosts short of storage'],
  NIC_MISSING: ['host without a NIC', 'hosts without a NIC'],
  NIC_BANDWIDTH_SHORT: ['host short of NIC bandwidth', 'hosts short of NIC bandwidth'],
  AFFINITY_ELSEWHERE: ['host outside the affinity group', 'hosts outside the affinity group'],
  ANTI_AFFINITY_CONFLICT: ['host running the anti-affinity group', 'hosts running the anti-affinity group'],
};

function validateRequest(request: PlacementRequest): void {
  const what = invalidPart(request);
  if (what) throw new PlacementError('INVALID_REQUEST', `VM '${request.name}': ${what}`);
}

/** What is wrong with the request, or null; loops, not closures: every decision checks it. */
function invalidPart(request: PlacementRequest): string | null {
  if (!Number.isInteger(request.vcpus) || request.vcpus < 1) return 'vCPUs must be a whole number of at least 1';
  if (!(request.memoryMiB > 0)) return 'memory must be positive';
  for (const d of request.disks) if (!(d.sizeBytes >= 0)) return 'disk sizes must not be negative';
  for (const n of request.nics) {
    if (n.minBandwidthMbps !== undefined && !(n.minBandwidthMbps >= 0)) return 'minimum bandwidth must not be negative';
  }
  return null;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A working copy of one cluster. Hosts stay immutable objects; a commit
 * replaces one. Alongside, an index of host positions ordered by (free
 * memory, seeded tie key) lets a pruned search start at the first host with
 * enough memory: every host before it fails the memory filter anyway; and
 * pack's best-fit search walks hosts of each capacity shape sorted by free
 * vCPUs and by free memory, stopping once no host left can rank (a few dozen
 * hosts looked at of 1,000). Both are updated in place on commit, release
 * and move. Decisions equal those of a plain scan over every host, field for
 * field: session.differential.test.ts checks against the previous session
 * (testing/reference-session.ts).
 */
export class PlacementSession {
  readonly profile: PlacementProfile;
  private readonly options: PlaceOptions;
  private readonly hosts: HostSnapshot[];
  private readonly indexById = new Map<string, number>();
  private readonly tieKeys: Uint32Array;
  private readonly freeMiB: Float64Array;
  /**
   * Per host, what a pruned search checks before running any filter: free
   * vCPUs, the most free bytes in one pool and the most free Mbps on one NIC.
   * A host short on one of them certainly fails that filter (each is a
   * necessary condition), so it is skipped like the hosts below the
   * free-memory start: in a packed cluster most hosts with free memory are
   * full on another resource.
   */
  private readonly freeVcpus: Float64Array;
  private readonly maxPoolFreeBytes: Float64Array;
  private readonly maxNicFreeMbps: Float64Array;
  /** vCPU capacity at the overcommit ratio and usable memory, per host (the binding-fit denominators). */
  private readonly vcpuCap: Float64Array;
  private readonly memCapMiB: Float64Array;
  private readonly connected: Uint8Array;
  /** Over connected hosts: what is allocated and what there is, for the binding weights. */
  private allocVcpus = 0;
  private capVcpus = 0;
  private allocMiB = 0;
  private capMiB = 0;
  /** Summary traces' verdicts of a candidate: every filter passed (one shared, frozen list). */
  private readonly passVerdicts: readonly VerdictTrace[];
  /** Scratch for the best-fit search's top hosts (reused: a decision allocates none). */
  private topIndex = new Int32Array(0);
  private topKey = new Float64Array(0);
  /** "1,000 hosts": every summary names the cluster's size (formatted once; number formatting is slow). */
  private readonly hostsPhrase: string;
  /** decide()'s scratch: raw and normalised scores per scorer and candidate, and each candidate's total. */
  private rawScratch = new Float64Array(0);
  private normScratch = new Float64Array(0);
  private totalScratch = new Float64Array(0);
  /** Host positions by ascending (free memory, tie key, position); built on first pruned search. */
  private order: Int32Array | null = null;
  /**
   * Best-fit's index, built on its first search: connected hosts grouped by
   * capacity shape, each group kept sorted by free vCPUs and by free memory.
   * null: not built yet; empty: too many shapes to pay off (every host is scanned).
   */
  private shapes: CapacityShape[] | null = null;
  /** Host position → its shape in `shapes`; -1 for hosts outside the index (not connected). */
  private shapeOf: Int32Array | null = null;
  /** Hosts a best-fit search has looked at, marked with the search's number (no clearing between searches). */
  private readonly seen: Uint32Array;
  private epoch = 0;
  private vmCount: number;
  /** Bumped by every change to a host: a decision is still current while it stands. */
  private version = 0;
  private lastDemand: { readonly request: PlacementRequest; readonly demand: Demand } | null = null;
  /**
   * The last placement made and the session's version then: a commit of that
   * VM to that host before anything changed needs no second check (the host
   * passed every filter in the decision) and books the decision's assignment.
   */
  private lastPlaced: {
    readonly request: PlacementRequest;
    readonly hostIndex: number;
    readonly assignment: Assignment;
    readonly version: number;
  } | null = null;
  private readonly groupVmCounts = new Map<string, number>();
  private clusterFreeMiB = 0;

  constructor(
    private readonly cluster: ClusterSnapshot,
    options: PlaceOptions,
  ) {
    this.options = options;
    this.profile = options.profile ?? profileFor(cluster.policy);
    this.passVerdicts = Object.freeze(
      this.profile.filters.map((f) => Object.freeze({ filter: f.name, ok: true as const })),
    );
    this.hosts = [...cluster.hosts];
    this.vmCount = cluster.vmCount;
    const n = this.hosts.length;
    this.tieKeys = new Uint32Array(n);
    this.freeMiB = new Float64Array(n);
    this.freeVcpus = new Float64Array(n);
    this.maxPoolFreeBytes = new Float64Array(n);
    this.maxNicFreeMbps = new Float64Array(n);
    this.vcpuCap = new Float64Array(n);
    this.memCapMiB = new Float64Array(n);
    this.connected = new Uint8Array(n);
    this.seen = new Uint32Array(n);
    this.hostsPhrase = plural(n, 'host', 'hosts');
    this.hosts.forEach((host, i) => {
      if (this.indexById.has(host.id)) {
        throw new PlacementError('INVALID_REQUEST', `host ${host.id} appears twice in the snapshot`);
      }
      this.indexById.set(host.id, i);
      this.tieKeys[i] = tieKey(host.id, options.seed);
      this.freeMiB[i] = freeMemoryMiB(host);
      this.vcpuCap[i] = vcpuCapacity(host, cluster.cpuOvercommitRatio);
      this.memCapMiB[i] = usableMemoryMiB(host);
      this.connected[i] = host.state === 'connected' ? 1 : 0;
      this.updateQuickFree(i, host);
      if (host.state === 'connected') {
        this.clusterFreeMiB += Math.max(0, freeMemoryMiB(host));
        this.capVcpus += this.vcpuCap[i] ?? 0;
        this.capMiB += this.memCapMiB[i] ?? 0;
        this.allocVcpus += host.allocated.vcpus;
        this.allocMiB += host.allocated.memoryMiB;
      }
      for (const [group, count] of Object.entries(host.groups)) {
        this.groupVmCounts.set(group, (this.groupVmCounts.get(group) ?? 0) + count);
      }
    });
  }

  /** The working copy as a snapshot (hosts shared with the session's current state, which only ever replaces them). */
  snapshot(): ClusterSnapshot {
    return { ...this.cluster, vmCount: this.vmCount, hosts: [...this.hosts] };
  }

  host(hostId: string): HostSnapshot | undefined {
    const i = this.indexById.get(hostId);
    return i === undefined ? undefined : this.hosts[i];
  }

  place(request: PlacementRequest, overrides: Partial<Omit<PlaceOptions, 'seed' | 'profile'>> = {}): PlacementDecision {
    validateRequest(request);
    const traceMode = overrides.trace ?? this.options.trace ?? 'full';
    const limit = overrides.candidateLimit ?? this.options.candidateLimit ?? Number.POSITIVE_INFINITY;
    const topCandidates = overrides.topCandidates ?? this.options.topCandidates ?? 5;
    // Summary searches only count most rejections; reasons are written for the examples shown.
    const ctx = this.context(request, traceMode === 'full');
    const evaluation =
      traceMode === 'full'
        ? this.evaluateAll(ctx, true)
        : limit < this.hosts.length
          ? this.evaluatePruned(ctx, Math.max(1, limit))
          : this.evaluateAll(ctx, false);
    const decision = this.decide(
      ctx,
      evaluation,
      traceMode,
      topCandidates,
      limit < this.hosts.length && traceMode === 'summary',
    );
    const hostIndex = decision.hostId === null ? undefined : this.indexById.get(decision.hostId);
    this.lastPlaced =
      decision.assignment && hostIndex !== undefined
        ? { request, hostIndex, assignment: decision.assignment, version: this.version }
        : null;
    return decision;
  }

  /**
   * Adds the VM's reservation on `hostId`. Checks the host passes every
   * filter first, so a working copy can never be over-committed whatever
   * the caller does.
   */
  commit(request: PlacementRequest, hostId: string): Assignment {
    const i = this.indexById.get(hostId);
    const placed = this.lastPlaced;
    this.lastPlaced = null;
    if (placed && placed.request === request && placed.hostIndex === i && placed.version === this.version) {
      const host = this.hosts[i];
      if (host) {
        this.replaceHost(i, host, reserveOnHost(host, request, placed.assignment), request, +1);
        return placed.assignment;
      }
    }
    validateRequest(request);
    const host = i === undefined ? undefined : this.hosts[i];
    if (i === undefined || host === undefined)
      throw new PlacementError('HOST_NOT_FOUND', `no host ${hostId} in cluster`);
    const ctx = this.context(request, true);
    const failure = this.firstFailure(host, ctx);
    if (failure) {
      throw new PlacementError(
        'HOST_REJECTS_VM',
        `${host.name} cannot take '${request.name}': ${failure.verdict.reason}`,
      );
    }
    const assignment = assign(host, request, ctx.demand);
    if (!assignment) throw new PlacementError('HOST_REJECTS_VM', `${host.name} cannot take '${request.name}'`);
    this.replaceHost(i, host, reserveOnHost(host, request, assignment), request, +1);
    return assignment;
  }

  /**
   * Takes a VM's reservation off `hostId` (a departure, or the source side of
   * a move): the session is updated in place, as by commit. `assignment` is
   * what commit returned (which pool and NICs the VM holds). Throws when the
   * host does not hold that much (the caller's books are wrong).
   */
  release(request: PlacementRequest, hostId: string, assignment: Assignment): void {
    const i = this.indexById.get(hostId);
    const host = i === undefined ? undefined : this.hosts[i];
    if (i === undefined || host === undefined)
      throw new PlacementError('HOST_NOT_FOUND', `no host ${hostId} in cluster`);
    if (
      host.allocated.vmCount < 1 ||
      host.allocated.vcpus < request.vcpus ||
      host.allocated.memoryMiB < request.memoryMiB
    ) {
      throw new PlacementError('INVALID_REQUEST', `${host.name} does not hold '${request.name}'`);
    }
    this.replaceHost(i, host, releaseFromHost(host, request, assignment), request, -1);
  }

  /**
   * Moves a VM from one host to another (a migration): released from `fromHostId`,
   * committed on `toHostId`. When the target refuses, the source keeps the VM and
   * the error is thrown: the session is unchanged.
   */
  move(request: PlacementRequest, fromHostId: string, assignment: Assignment, toHostId: string): Assignment {
    if (fromHostId === toHostId) throw new PlacementError('INVALID_REQUEST', `'${request.name}' is already there`);
    this.release(request, fromHostId, assignment);
    try {
      return this.commit(request, toHostId);
    } catch (error) {
      const i = this.indexById.get(fromHostId) ?? -1;
      const host = this.hosts[i];
      if (host) this.replaceHost(i, host, reserveOnHost(host, request, assignment), request, +1);
      throw error;
    }
  }

  /** Where `hostId` would leave the VM on the binding resource (0 = exactly full); for explanations. */
  leftoverAfter(request: PlacementRequest, hostId: string): number | null {
    const i = this.indexById.get(hostId);
    if (i === undefined) return null;
    return bindingLeftover(
      this.freeVcpus[i] ?? 0,
      this.vcpuCap[i] ?? 0,
      this.freeMiB[i] ?? 0,
      this.memCapMiB[i] ?? 0,
      request.vcpus,
      request.memoryMiB,
      this.weights(),
    );
  }

  /** Cluster-wide utilisation of connected hosts (0–1), what the binding weights follow. */
  utilisation(): { vcpus: number; memory: number } {
    return {
      vcpus: this.capVcpus > 0 ? this.allocVcpus / this.capVcpus : 0,
      memory: this.capMiB > 0 ? this.allocMiB / this.capMiB : 0,
    };
  }

  private weights() {
    const u = this.utilisation();
    return bindingWeights(u.vcpus, u.memory);
  }

  private replaceHost(i: number, host: HostSnapshot, next: HostSnapshot, request: PlacementRequest, sign: 1 | -1) {
    this.hosts[i] = next;
    this.vmCount += sign;
    this.version += 1;
    if (request.groups.length > 0) {
      for (const group of new Set(request.groups.map((g) => g.name))) {
        const count = (this.groupVmCounts.get(group) ?? 0) + sign;
        if (count > 0) this.groupVmCounts.set(group, count);
        else this.groupVmCounts.delete(group);
      }
    }
    const oldFreeMiB = this.freeMiB[i] ?? 0;
    const newFreeMiB = freeMemoryMiB(next);
    if (host.state === 'connected') {
      this.clusterFreeMiB -= Math.max(0, oldFreeMiB) - Math.max(0, newFreeMiB);
      this.allocVcpus += sign * request.vcpus;
      this.allocMiB += sign * request.memoryMiB;
    }
    // The host's place in best-fit's sorted lists, found while its figures are still the old ones.
    const shape = this.shapes?.[this.shapeOf?.[i] ?? -1];
    const fromV = shape ? positionOf(shape.byFreeVcpus, this.freeVcpus, this.tieKeys, i, shape.byFreeVcpus.length) : -1;
    const fromM = shape ? positionOf(shape.byFreeMiB, this.freeMiB, this.tieKeys, i, shape.byFreeMiB.length) : -1;
    this.reindex(i, oldFreeMiB, newFreeMiB);
    this.updateQuickFree(i, next);
    if (shape) {
      reposition(shape.byFreeVcpus, this.freeVcpus, this.tieKeys, i, fromV);
      reposition(shape.byFreeMiB, this.freeMiB, this.tieKeys, i, fromM);
    }
  }

  private updateQuickFree(i: number, host: HostSnapshot): void {
    this.freeVcpus[i] = vcpuCapacity(host, this.cluster.cpuOvercommitRatio) - host.allocated.vcpus;
    let pool = Number.NEGATIVE_INFINITY;
    for (const p of host.storagePools) pool = Math.max(pool, p.capacityBytes - p.allocatedBytes);
    this.maxPoolFreeBytes[i] = pool;
    let nic = Number.NEGATIVE_INFINITY;
    for (const x of host.nics) nic = Math.max(nic, x.linkSpeedMbps - x.reservedMinMbps);
    this.maxNicFreeMbps[i] = nic;
  }

  private context(request: PlacementRequest, explain: boolean): PlacementContext {
    return {
      cluster: {
        id: this.cluster.id,
        maxVms: this.cluster.maxVms,
        vmCount: this.vmCount,
        cpuOvercommitRatio: this.cluster.cpuOvercommitRatio,
      },
      request,
      demand: this.demandFor(request),
      groupVmCounts: this.groupVmCounts,
      clusterFreeMemoryMiB: this.clusterFreeMiB,
      explain,
      bindingWeights: this.weights(),
    };
  }

  /**
   * The request's demand, derived once for a place() and the commit() that
   * follows with the same request (requests are immutable, as snapshots are).
   */
  private demandFor(request: PlacementRequest): Demand {
    if (this.lastDemand?.request !== request) this.lastDemand = { request, demand: demandOf(request) };
    return this.lastDemand.demand;
  }

  private firstFailure(host: HostSnapshot, ctx: PlacementContext): FirstFailure | null {
    for (const filter of this.profile.filters) {
      const verdict = filter.check(host, ctx);
      if (!verdict.ok) return { filter: filter.name, verdict };
    }
    return null;
  }

  private evaluateAll(ctx: PlacementContext, full: boolean): Evaluation {
    const evaluation = newEvaluation();
    this.hosts.forEach((host, i) => {
      if (!full) {
        const failure = this.firstFailure(host, ctx);
        if (failure) evaluation.rejected.push({ index: i, failure, verdicts: null });
        else evaluation.candidates.push(i);
        return;
      }
      const verdicts: VerdictTrace[] = [];
      let failure: FirstFailure | null = null;
      for (const filter of this.profile.filters) {
        const verdict = filter.check(host, ctx);
        if (verdict.ok) verdicts.push({ filter: filter.name, ok: true });
        else {
          verdicts.push({ filter: filter.name, ...verdict });
          failure ??= { filter: filter.name, verdict };
        }
      }
      if (failure) evaluation.rejected.push({ index: i, failure, verdicts });
      else {
        evaluation.candidates.push(i);
        evaluation.verdicts ??= new Map();
        evaluation.verdicts.set(i, verdicts);
      }
    });
    evaluation.evaluated = this.hosts.length;
    return evaluation;
  }

  /**
   * Visits hosts in the profile's candidate order from the first with enough
   * free memory, until `limit` pass. Hosts before that point, and hosts short
   * of vCPUs, pool space or NIC bandwidth (quick per-host figures), are not
   * evaluated: a filter would reject each. If none passes, the whole cluster is
   * evaluated so the refusal counts every host.
   */
  private evaluatePruned(ctx: PlacementContext, limit: number): Evaluation {
    if (this.profile.candidateOrder === 'best-fit') return this.evaluateBestFit(ctx, limit);
    const order = this.ensureOrder();
    const evaluation = newEvaluation();
    const start = this.lowerBound(order, ctx.request.memoryMiB, 0, -1);
    const { vcpus } = ctx.request;
    const unpooledBytes = ctx.demand.unpooledDiskBytes;
    const largestMinMbps = ctx.demand.nicMinimums[0]?.mbps ?? 0;
    const visit = (i: number): boolean => {
      const host = this.hosts[i];
      if (!host) return false;
      if (
        vcpus > (this.freeVcpus[i] ?? 0) ||
        (unpooledBytes > 0 && unpooledBytes > (this.maxPoolFreeBytes[i] ?? 0)) ||
        (largestMinMbps > 0 && largestMinMbps > (this.maxNicFreeMbps[i] ?? 0))
      ) {
        return false;
      }
      evaluation.evaluated += 1;
      const failure = this.firstFailure(host, ctx);
      if (failure) evaluation.rejected.push({ index: i, failure, verdicts: null });
      else evaluation.candidates.push(i);
      return evaluation.candidates.length >= limit;
    };
    if (this.profile.candidateOrder === 'fullest-first') {
      for (let p = start; p < order.length; p++) if (visit(order[p] ?? -1)) break;
    } else {
      for (let p = order.length - 1; p >= start; p--) if (visit(order[p] ?? -1)) break;
    }
    return evaluation.candidates.length === 0 ? this.evaluateAll(ctx, false) : evaluation;
  }

  /**
   * Pack's pruned search: the `limit` connected hosts with the least leftover
   * on the binding resource (ties by the seeded key) among those whose quick
   * figures (free vCPUs, memory, pool bytes, NIC bandwidth) fit the VM; only
   * those run the filters. If none of them passes every filter, the whole
   * cluster is evaluated (exact refusal). The hosts are found through the
   * shape index (bestFitIndexed) when there is one, else by a pass over every host.
   */
  private evaluateBestFit(ctx: PlacementContext, limit: number): Evaluation {
    if (this.topIndex.length < limit) {
      this.topIndex = new Int32Array(limit);
      this.topKey = new Float64Array(limit);
    }
    const shapes = this.ensureShapes();
    const size = shapes.length > 0 ? this.bestFitIndexed(ctx, limit, shapes) : this.bestFitScan(ctx, limit);
    const evaluation = newEvaluation();
    for (let p = 0; p < size; p++) {
      const i = this.topIndex[p] ?? 0;
      const host = this.hosts[i];
      if (!host) continue;
      evaluation.evaluated += 1;
      const failure = this.firstFailure(host, ctx);
      if (failure) evaluation.rejected.push({ index: i, failure, verdicts: null });
      else evaluation.candidates.push(i);
    }
    return evaluation.candidates.length === 0 ? this.evaluateAll(ctx, false) : evaluation;
  }

  /** Every host's quick figures, once: fills topIndex/topKey, returns how many it kept. */
  private bestFitScan(ctx: PlacementContext, limit: number): number {
    const { vcpus, memoryMiB } = ctx.request;
    const weights = ctx.bindingWeights ?? bindingWeights(0, 0);
    const wc = weights.vcpus;
    const wm = weights.memory;
    const wa = weights.alignment;
    const unpooledBytes = ctx.demand.unpooledDiskBytes;
    const largestMinMbps = ctx.demand.nicMinimums[0]?.mbps ?? 0;
    let size = 0;
    const n = this.hosts.length;
    for (let i = 0; i < n; i++) {
      if (this.connected[i] === 0) continue;
      const freeV = this.freeVcpus[i] ?? 0;
      const freeM = this.freeMiB[i] ?? 0;
      if (vcpus > freeV || memoryMiB > freeM) continue;
      if (unpooledBytes > 0 && unpooledBytes > (this.maxPoolFreeBytes[i] ?? 0)) continue;
      if (largestMinMbps > 0 && largestMinMbps > (this.maxNicFreeMbps[i] ?? 0)) continue;
      const capV = this.vcpuCap[i] ?? 0;
      const capM = this.memCapMiB[i] ?? 0;
      size = this.keepTop(fitKey(freeV, freeM, vcpus, memoryMiB, capV, capM, wc, wm, wa), i, size, limit);
    }
    return size;
  }

  /**
   * The same hosts as bestFitScan, without visiting every host (Fagin's
   * threshold algorithm). Within one capacity shape a host's leftover key is
   * the rounded sum of a vCPU term and a memory term, each non-decreasing in
   * that host's free amount (IEEE arithmetic rounds monotonically, so this
   * holds for the computed figures, not only the exact ones). Two walks go up
   * the shape's hosts by free vCPUs and by free memory from the first host
   * with enough of each; a host neither walk has reached has at least both
   * frontiers' free amounts, so its key is at least the key of the frontiers'
   * figures. Once that threshold exceeds the worst key kept, no unseen host
   * of the shape can enter. With an alignment part in the key (clusters where
   * both resources bind nearly alike), the threshold is lowered by its
   * weight (alignedWalkDone).
   */
  private bestFitIndexed(ctx: PlacementContext, limit: number, shapes: readonly CapacityShape[]): number {
    const { vcpus, memoryMiB } = ctx.request;
    const weights = ctx.bindingWeights ?? bindingWeights(0, 0);
    const wc = weights.vcpus;
    const wm = weights.memory;
    const wa = weights.alignment;
    const freeVcpus = this.freeVcpus;
    const freeMiB = this.freeMiB;
    const seen = this.seen;
    this.epoch = this.epoch === 0xffffffff ? 1 : this.epoch + 1;
    if (this.epoch === 1) seen.fill(0);
    const epoch = this.epoch;
    let size = 0;
    for (const shape of shapes) {
      const capV = shape.vcpuCap;
      const capM = shape.memCapMiB;
      const byV = shape.byFreeVcpus;
      const byM = shape.byFreeMiB;
      // Hosts before the first with enough vCPUs (memory) fail the vCPU (memory) check.
      let pV = firstWithAtLeast(byV, freeVcpus, vcpus);
      let pM = firstWithAtLeast(byM, freeMiB, memoryMiB);
      let walkedV = 0;
      let walkedM = 0;
      // Either walk at its end: every host with enough of that resource has been seen.
      while (pV < byV.length && pM < byM.length) {
        const hostV = byV[pV] ?? 0;
        const hostM = byM[pM] ?? 0;
        const frontierV = freeVcpus[hostV] ?? 0;
        const frontierM = freeMiB[hostM] ?? 0;
        if (size === limit) {
          const worstKey = this.topKey[size - 1] ?? 0;
          const worst = this.topIndex[size - 1] ?? 0;
          if (wa > 0) {
            if (this.alignedWalkDone(frontierV, frontierM, hostV, ctx, capV, capM, wc, wm, wa, worst, worstKey)) break;
          } else {
            const threshold = fitKey(frontierV, frontierM, vcpus, memoryMiB, capV, capM, wc, wm, 0);
            if (threshold > worstKey) break;
            // At the threshold, an unseen host enters only by its tie key. Unseen hosts with the memory
            // frontier's free memory come after it in tie order; the others have more memory than that.
            if (threshold === worstKey) {
              if (this.tieBefore(worst, hostM)) {
                const next = firstAbove(byM, freeMiB, frontierM);
                const beyond = byM[next];
                if (
                  beyond === undefined ||
                  fitKey(frontierV, freeMiB[beyond] ?? 0, vcpus, memoryMiB, capV, capM, wc, wm, 0) > worstKey
                ) {
                  break;
                }
              }
              if (this.tieBefore(worst, hostV)) {
                const next = firstAbove(byV, freeVcpus, frontierV);
                const beyond = byV[next];
                if (
                  beyond === undefined ||
                  fitKey(freeVcpus[beyond] ?? 0, frontierM, vcpus, memoryMiB, capV, capM, wc, wm, 0) > worstKey
                ) {
                  break;
                }
              }
            }
          }
        }
        // Walk each side in proportion to its weight: the heavier resource's frontier raises the threshold more.
        // With alignment, a side whose frontier is at the shape's capacity can raise nothing: walk the other.
        let i: number;
        const walkV =
          wa > 0 && (frontierM === capM || frontierV === capV) ? frontierM === capM : walkedV * wm <= walkedM * wc;
        if (walkV) {
          i = hostV;
          pV++;
          walkedV++;
        } else {
          i = hostM;
          pM++;
          walkedM++;
        }
        if (seen[i] === epoch) continue;
        seen[i] = epoch;
        size = this.considerBestFit(ctx, i, capV, capM, wc, wm, wa, size, limit);
      }
    }
    return size;
  }

  /**
   * The stopping rule when the key has an alignment part (worth at most `wa`):
   * a host neither walk has reached has at least both frontiers' free
   * amounts, so its key is at least the frontiers' leftover part less `wa`;
   * once that exceeds the worst key kept, no unseen host can enter. When both
   * frontiers are at the shape's capacity, every unseen host is empty and has
   * exactly the empty host's key: at that key an unseen host enters only by its
   * tie key, and all of them come after the vCPU frontier in tie order.
   */
  private alignedWalkDone(
    frontierV: number,
    frontierM: number,
    hostV: number,
    ctx: PlacementContext,
    capV: number,
    capM: number,
    wc: number,
    wm: number,
    wa: number,
    worst: number,
    worstKey: number,
  ): boolean {
    const { vcpus, memoryMiB } = ctx.request;
    if (frontierV === capV && frontierM === capM) {
      const key = fitKey(capV, capM, vcpus, memoryMiB, capV, capM, wc, wm, wa);
      return key > worstKey || (key === worstKey && this.tieBefore(worst, hostV));
    }
    return fitKey(frontierV, frontierM, vcpus, memoryMiB, capV, capM, wc, wm, 0) - wa > worstKey;
  }

  /** Host `i` into best-fit's top list if its quick figures fit the VM and its key ranks; returns the list's size. */
  private considerBestFit(
    ctx: PlacementContext,
    i: number,
    capV: number,
    capM: number,
    wc: number,
    wm: number,
    wa: number,
    size: number,
    limit: number,
  ): number {
    const { vcpus, memoryMiB } = ctx.request;
    const freeV = this.freeVcpus[i] ?? 0;
    const freeM = this.freeMiB[i] ?? 0;
    if (vcpus > freeV || memoryMiB > freeM) return size;
    const unpooledBytes = ctx.demand.unpooledDiskBytes;
    if (unpooledBytes > 0 && unpooledBytes > (this.maxPoolFreeBytes[i] ?? 0)) return size;
    const largestMinMbps = ctx.demand.nicMinimums[0]?.mbps ?? 0;
    if (largestMinMbps > 0 && largestMinMbps > (this.maxNicFreeMbps[i] ?? 0)) return size;
    return this.keepTop(fitKey(freeV, freeM, vcpus, memoryMiB, capV, capM, wc, wm, wa), i, size, limit);
  }

  /** Inserts host `i` into the sorted top list if it ranks within `limit`; returns the list's new size. */
  private keepTop(key: number, i: number, size: number, limit: number): number {
    const topIndex = this.topIndex;
    const topKey = this.topKey;
    if (size === limit && !this.before(key, i, topKey[size - 1] ?? 0, topIndex[size - 1] ?? 0)) return size;
    const grown = size < limit ? size + 1 : size;
    let p = grown - 1;
    while (p > 0 && this.before(key, i, topKey[p - 1] ?? 0, topIndex[p - 1] ?? 0)) {
      topKey[p] = topKey[p - 1] ?? 0;
      topIndex[p] = topIndex[p - 1] ?? 0;
      p--;
    }
    topKey[p] = key;
    topIndex[p] = i;
    return grown;
  }

  /**
   * Groups connected hosts by (vCPU capacity, usable memory) and sorts each
   * group both ways. Worth it when hosts share few shapes (clusters are
   * bought in batches); with more shapes than one per 16 hosts (and more
   * than 4) the index stays empty and searches scan.
   */
  private ensureShapes(): readonly CapacityShape[] {
    if (this.shapes) return this.shapes;
    type Group = { index: number; vcpuCap: number; memCapMiB: number; members: number[] };
    const byKey = new Map<string, Group>();
    const n = this.hosts.length;
    const shapeOf = new Int32Array(n).fill(-1);
    const groups: Group[] = [];
    for (let i = 0; i < n; i++) {
      if (this.connected[i] === 0) continue;
      const vcpuCap = this.vcpuCap[i] ?? 0;
      const memCapMiB = this.memCapMiB[i] ?? 0;
      const key = `${vcpuCap}/${memCapMiB}`;
      let group = byKey.get(key);
      if (!group) {
        group = { index: groups.length, vcpuCap, memCapMiB, members: [] };
        byKey.set(key, group);
        groups.push(group);
      }
      shapeOf[i] = group.index;
      group.members.push(i);
    }
    if (groups.length > Math.max(4, n / 16)) {
      this.shapes = [];
      return this.shapes;
    }
    const ties = this.tieKeys;
    const sorted = (members: number[], values: Float64Array) =>
      Int32Array.from([...members].sort((a, b) => (sortsBefore(values, ties, a, b) ? -1 : 1)));
    this.shapes = groups.map((g) => ({
      vcpuCap: g.vcpuCap,
      memCapMiB: g.memCapMiB,
      byFreeVcpus: sorted(g.members, this.freeVcpus),
      byFreeMiB: sorted(g.members, this.freeMiB),
    }));
    this.shapeOf = shapeOf;
    return this.shapes;
  }

  /** Whether host a comes before host b on equal keys (seeded tie key, then position). */
  private tieBefore(a: number, b: number): boolean {
    const ta = this.tieKeys[a] ?? 0;
    const tb = this.tieKeys[b] ?? 0;
    return ta !== tb ? ta < tb : a < b;
  }

  /** Best-fit order: lower leftover first, then the seeded tie key, then position. */
  private before(key: number, i: number, otherKey: number, other: number): boolean {
    if (key !== otherKey) return key < otherKey;
    const a = this.tieKeys[i] ?? 0;
    const b = this.tieKeys[other] ?? 0;
    return a !== b ? a < b : i < other;
  }

  private decide(
    ctx: PlacementContext,
    evaluation: Evaluation,
    traceMode: TraceMode,
    topCandidates: number,
    pruned: boolean,
  ): PlacementDecision {
    const { candidates } = evaluation;
    const scorers = this.profile.scorers;
    const count = candidates.length;
    const scorerCount = scorers.length;
    // Raw scores, then nova's normalisation per scorer across the candidates; in reused scratch arrays,
    // scorer s's figures at [s × count, (s + 1) × count).
    if (this.rawScratch.length < count * scorerCount) {
      this.rawScratch = new Float64Array(count * scorerCount * 2);
      this.normScratch = new Float64Array(count * scorerCount * 2);
    }
    if (this.totalScratch.length < count) this.totalScratch = new Float64Array(count * 2);
    const raws = this.rawScratch;
    const normalized = this.normScratch;
    const totals = this.totalScratch;
    for (let s = 0; s < scorerCount; s++) {
      const scorer = scorers[s]?.scorer;
      const base = s * count;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < count; c++) {
        const host = this.hosts[candidates[c] ?? 0];
        const v = host && scorer ? scorer.raw(host, ctx) : 0;
        raws[base + c] = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      for (let c = 0; c < count; c++) {
        const v = raws[base + c] ?? 0;
        normalized[base + c] = max > min ? ((v - min) / (max - min)) * 100 : 50;
      }
    }
    let lowest = 0;
    let highest = 0;
    for (const { weight } of scorers) {
      if (weight < 0) lowest += 100 * weight;
      else highest += 100 * weight;
    }
    for (let c = 0; c < count; c++) {
      let sum = 0;
      for (let s = 0; s < scorerCount; s++) sum += (normalized[s * count + c] ?? 0) * (scorers[s]?.weight ?? 0);
      totals[c] = highest > lowest ? ((sum - lowest) / (highest - lowest)) * 100 : 0;
    }
    // Candidate positions by rank: all of them for full traces, else the traced ones (at least the best).
    const tracedCount = traceMode === 'full' ? count : sliceLength(count, topCandidates);
    const ranked = this.rankCandidates(candidates, totals, Math.min(count, Math.max(1, tracedCount)));
    const trace: HostTrace[] = [];
    for (let r = 0; r < tracedCount; r++) {
      const c = ranked[r] ?? 0;
      const index = candidates[c] ?? 0;
      const host = this.hosts[index];
      const scores: ScoreTrace[] = [];
      for (let s = 0; s < scorerCount; s++) {
        const { scorer, weight } = scorers[s] as WeightedScorer;
        const norm = normalized[s * count + c] ?? 0;
        scores.push({
          scorer: scorer.name,
          raw: raws[s * count + c] ?? 0,
          normalized: norm,
          weight,
          contribution: norm * weight,
        });
      }
      trace.push({
        hostId: host?.id ?? '',
        hostName: host?.name ?? '',
        verdicts: evaluation.verdicts?.get(index) ?? this.passVerdicts,
        scores,
        total: totals[c] ?? 0,
        rank: r + 1,
      });
    }
    if (traceMode === 'full') {
      const rejected = [...evaluation.rejected].sort((a, b) =>
        compareText(this.hosts[a.index]?.name ?? '', this.hosts[b.index]?.name ?? ''),
      );
      for (const { index, verdicts } of rejected) {
        const host = this.hosts[index];
        trace.push({
          hostId: host?.id ?? '',
          hostName: host?.name ?? '',
          verdicts: verdicts ?? [],
          scores: [],
          total: null,
          rank: null,
        });
      }
    }

    const rejections = this.countRejections(evaluation.rejected, ctx);
    const bestC = ranked[0];
    const chosen = bestC === undefined ? undefined : this.hosts[candidates[bestC] ?? 0];
    if (bestC === undefined || !chosen) {
      return {
        policy: this.profile.name,
        seed: this.options.seed,
        traceMode,
        hostsTotal: this.hosts.length,
        hostsEvaluated: evaluation.evaluated,
        candidates: count,
        rejections,
        trace,
        hostId: null,
        hostName: null,
        summary: this.noFitSummary(rejections),
        assignment: null,
      };
    }
    const scope = pruned
      ? `best of ${plural(count, 'candidate', 'candidates')}, ${formatCount(evaluation.evaluated)} of ${this.hostsPhrase} checked`
      : `${formatCount(count)} of ${this.hostsPhrase} fit`;
    return {
      policy: this.profile.name,
      seed: this.options.seed,
      traceMode,
      hostsTotal: this.hosts.length,
      hostsEvaluated: evaluation.evaluated,
      candidates: count,
      rejections,
      trace,
      hostId: chosen.id,
      hostName: chosen.name,
      summary: `Placed on ${chosen.name} (score ${(totals[bestC] ?? 0).toFixed(1)} of 100; ${scope})`,
      assignment: assign(chosen, ctx.request, ctx.demand),
    };
  }

  /**
   * The first `wanted` candidate positions in rank order: higher total, then
   * the seeded tie key, then host position (a strict order, so selecting the
   * first few gives exactly a full sort's prefix).
   */
  private rankCandidates(candidates: readonly number[], totals: Float64Array, wanted: number): number[] {
    const ranked: number[] = [];
    for (let c = 0; c < candidates.length; c++) {
      if (ranked.length === wanted && !this.ranksBefore(candidates, totals, c, ranked[wanted - 1] ?? 0)) continue;
      let p = ranked.length < wanted ? ranked.length : wanted - 1;
      if (p === ranked.length) ranked.push(c);
      while (p > 0 && this.ranksBefore(candidates, totals, c, ranked[p - 1] ?? 0)) {
        ranked[p] = ranked[p - 1] ?? 0;
        p--;
      }
      ranked[p] = c;
    }
    return ranked;
  }

  /** Whether candidate c ranks before candidate d (the comparison a full sort of the candidates used). */
  private ranksBefore(candidates: readonly number[], totals: Float64Array, c: number, d: number): boolean {
    const byTotal = (totals[d] ?? 0) - (totals[c] ?? 0);
    if (byTotal) return byTotal < 0;
    const a = candidates[c] ?? 0;
    const b = candidates[d] ?? 0;
    const byTie = (this.tieKeys[a] ?? 0) - (this.tieKeys[b] ?? 0);
    return byTie ? byTie < 0 : a < b;
  }

  private countRejections(rejected: readonly RejectedHost[], ctx: PlacementContext): RejectionCount[] {
    if (rejected.length === 0) return []; // most pruned searches: their few hosts all fit
    const byKey = new Map<
      string,
      { filter: string; code: RejectCode; hosts: number; example: RejectionCount['example'] }
    >();
    for (const { index, failure } of rejected) {
      // Each code belongs to one filter, so the code alone keys the count.
      const key = failure.verdict.code;
      const entry = byKey.get(key);
      if (entry) entry.hosts += 1;
      else {
        const host = this.hosts[index];
        byKey.set(key, {
          filter: failure.filter,
          code: failure.verdict.code,
          hosts: 1,
          example: { hostId: host?.id ?? '', hostName: host?.name ?? '', reason: this.explain(host, failure, ctx) },
        });
      }
    }
    return [...byKey.values()].sort((a, b) => b.hosts - a.hosts || compareText(a.code, b.code));
  }

  /** The failure's reason, written now if the search ran without explaining. */
  private explain(host: HostSnapshot | undefined, failure: FirstFailure, ctx: PlacementContext): string {
    if (ctx.explain || !host) return failure.verdict.reason;
    const filter = this.profile.filters.find((f) => f.name === failure.filter);
    const verdict = filter?.check(host, { ...ctx, explain: true });
    return verdict && !verdict.ok ? verdict.reason : failure.verdict.reason;
  }

  private noFitSummary(rejections: readonly RejectionCount[]): string {
    if (this.hosts.length === 0) return 'No host fits: the cluster has no hosts';
    const clusterLimit = rejections.find((r) => r.code === 'CLUSTER_VM_LIMIT');
    if (clusterLimit && clusterLimit.hosts === this.hosts.length) return `No host fits: ${clusterLimit.example.reason}`;
    const parts = rejections.map(({ code, hosts }) => {
      const [one, many] = NO_FIT_PHRASE[code];
      return `${formatCount(hosts)} ${hosts === 1 ? one : many}`;
    });
    // One host: its own reason carries the numbers ("memory short by 3.1 GiB …").
    const only = rejections.length === 1 && rejections[0]?.hosts === 1 ? rejections[0] : undefined;
    return only
      ? `No host fits: ${only.example.hostName}: ${only.example.reason}`
      : `No host fits: ${parts.join(', ')}`;
  }

  private compareKey(i: number, freeMiB: number, tie: number, index: number): number {
    return (this.freeMiB[i] ?? 0) - freeMiB || (this.tieKeys[i] ?? 0) - tie || i - index;
  }

  /** First position in `order` whose key is ≥ (freeMiB, tie, index). */
  private lowerBound(order: Int32Array, freeMiB: number, tie: number, index: number, end = order.length): number {
    let lo = 0;
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareKey(order[mid] ?? 0, freeMiB, tie, index) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private ensureOrder(): Int32Array {
    if (!this.order) {
      const indexes = Array.from({ length: this.hosts.length }, (_, i) => i);
      indexes.sort((a, b) => this.compareKey(a, this.freeMiB[b] ?? 0, this.tieKeys[b] ?? 0, b));
      this.order = Int32Array.from(indexes);
    }
    return this.order;
  }

  /** Moves host `i` to its new place in the order: left after a commit, right after a release. */
  private reindex(i: number, oldFreeMiB: number, newFreeMiB: number): void {
    const order = this.order;
    if (!order) {
      this.freeMiB[i] = newFreeMiB;
      return;
    }
    const tie = this.tieKeys[i] ?? 0;
    const from = this.lowerBound(order, oldFreeMiB, tie, i);
    this.freeMiB[i] = newFreeMiB;
    if (newFreeMiB <= oldFreeMiB) {
      const to = this.lowerBound(order, newFreeMiB, tie, i, from);
      if (to < from) {
        order.copyWithin(to + 1, to, from);
        order[to] = i;
      }
      return;
    }
    // Free memory grew: the host's new place is after every key below its new one (excluding itself).
    order.copyWithin(from, from + 1);
    const to = this.lowerBound(order, newFreeMiB, tie, i, order.length - 1);
    order.copyWithin(to + 1, to, order.length - 1);
    order[to] = i;
  }
}

/** How many items `slice(0, end)` keeps of `length` (summary traces keep `topCandidates` as a slice would). */
function sliceLength(length: number, end: number): number {
  const relative = Number.isNaN(end) ? 0 : Math.trunc(end);
  return relative < 0 ? Math.max(length + relative, 0) : Math.min(relative, length);
}

/** Connected hosts of one capacity: positions by ascending (free vCPUs, position) and (free memory, position). */
interface CapacityShape {
  readonly vcpuCap: number;
  readonly memCapMiB: number;
  readonly byFreeVcpus: Int32Array;
  readonly byFreeMiB: Int32Array;
}

/**
 * Shape lists sort hosts by (free amount, seeded tie key, position): among
 * hosts with the same free amount a walk meets them in best-fit's tie order,
 * so a run of equal hosts (all the empty ones) can be cut short.
 */
function sortsBefore(values: Float64Array, ties: Uint32Array, a: number, b: number): boolean {
  const va = values[a] ?? 0;
  const vb = values[b] ?? 0;
  if (va !== vb) return va < vb;
  const ta = ties[a] ?? 0;
  const tb = ties[b] ?? 0;
  return ta !== tb ? ta < tb : a < b;
}

/** First position in order[0, end) whose free amount is at least `value`. */
function firstWithAtLeast(order: Int32Array, values: Float64Array, value: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[order[mid] ?? 0] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position in `order` whose free amount is above `value`. */
function firstAbove(order: Int32Array, values: Float64Array, value: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[order[mid] ?? 0] ?? 0) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position in order[lo, hi) not before host `i` (whose figure in `values` is the one it is sorted by). */
function positionOf(order: Int32Array, values: Float64Array, ties: Uint32Array, i: number, hi: number, lo = 0): number {
  let low = lo;
  let high = hi;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sortsBefore(values, ties, order[mid] ?? 0, i)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Moves host `i`, which sat at `from`, to its place for its new figure in
 * `values`: searching only the side it moves to, shifting only the hosts it
 * passes.
 */
function reposition(order: Int32Array, values: Float64Array, ties: Uint32Array, i: number, from: number): void {
  if (from > 0 && sortsBefore(values, ties, i, order[from - 1] ?? 0)) {
    const to = positionOf(order, values, ties, i, from);
    order.copyWithin(to + 1, to, from);
    order[to] = i;
  } else if (from < order.length - 1 && sortsBefore(values, ties, order[from + 1] ?? 0, i)) {
    const past = positionOf(order, values, ties, i, order.length, from + 1);
    order.copyWithin(from, from + 1, past);
    order[past - 1] = i;
  }
}

interface RejectedHost {
  readonly index: number;
  readonly failure: FirstFailure;
  readonly verdicts: VerdictTrace[] | null;
}

interface Evaluation {
  readonly candidates: number[];
  readonly rejected: RejectedHost[];
  /** Full traces: the candidates' verdicts (null until the first). */
  verdicts: Map<number, VerdictTrace[]> | null;
  evaluated: number;
}

function newEvaluation(): Evaluation {
  return { candidates: [], rejected: [], verdicts: null, evaluated: 0 };
}

/** Where one VM should go on this snapshot, and why; nothing is reserved. */
export function place(cluster: ClusterSnapshot, request: PlacementRequest, options: PlaceOptions): PlacementDecision {
  return new PlacementSession(cluster, options).place(request);
}

/**
 * The snapshot with the VM's reservation on `hostId` added (vCPUs, memory,
 * VM count, pool bytes, NIC minimums, groups). Throws HOST_REJECTS_VM when
 * the host does not pass the profile's filters: a reservation never
 * over-commits.
 */
export function applyPlacement(
  cluster: ClusterSnapshot,
  request: PlacementRequest,
  hostId: string,
  options: Pick<PlaceOptions, 'profile'> = {},
): ClusterSnapshot {
  const session = new PlacementSession(cluster, { seed: 0, ...options });
  session.commit(request, hostId);
  return session.snapshot();
}

/** Places the VMs in the given order, each seeing the reservations of those before; the input snapshot is untouched. */
export function placeBatch(
  cluster: ClusterSnapshot,
  requests: readonly PlacementRequest[],
  options: PlaceOptions,
): PlacementDecision[] {
  const session = new PlacementSession(cluster, options);
  return requests.map((request) => {
    const decision = session.place(request);
    if (decision.hostId !== null) session.commit(request, decision.hostId);
    return decision;
  });
}
