/**
 * The placement session as it was before the hot path was optimised (commit
 * 9981cb5's place.ts, unchanged but for its name and imports): a plain scan
 * over every host's quick figures per decision, filters and scorers through
 * the plugin interface, explanations built as it goes. Kept only as the test
 * oracle of session.differential.test.ts: the optimised session must choose
 * the same host (or refuse) with the same explanation on every decision.
 * Its best-fit key is the shared fitKey (scorers/binding-fit.ts): a change of
 * the key is checked here against the index's stopping rules, not frozen.
 */
import { formatCount, plural } from '../format';
import type { HostTrace, PlacementDecision, PlaceOptions, RejectionCount, TraceMode, VerdictTrace } from '../place';
import { NO_FIT_PHRASE } from '../place';
import { PlacementError } from '../placement.errors';
import type { PlacementContext, RejectCode, Rejection } from '../plugin';
import { type PlacementProfile, profileFor } from '../profiles';
import type { Assignment } from '../reservation';
import { bindingLeftover, bindingWeights, fitKey } from '../scorers/binding-fit';
import { tieKey } from '../seeded-order';
import {
  type ClusterSnapshot,
  freeMemoryMiB,
  type HostSnapshot,
  type PlacementRequest,
  usableMemoryMiB,
  vcpuCapacity,
} from '../snapshot';
import { assign, demandOf, releaseFromHost, reserveOnHost } from './reference-reservation';

interface FirstFailure {
  readonly filter: string;
  readonly verdict: Rejection;
}

function validateRequest(request: PlacementRequest): void {
  const bad = (what: string) => {
    throw new PlacementError('INVALID_REQUEST', `VM '${request.name}': ${what}`);
  };
  if (!Number.isInteger(request.vcpus) || request.vcpus < 1) bad('vCPUs must be a whole number of at least 1');
  if (!(request.memoryMiB > 0)) bad('memory must be positive');
  if (request.disks.some((d) => !(d.sizeBytes >= 0))) bad('disk sizes must not be negative');
  if (request.nics.some((n) => n.minBandwidthMbps !== undefined && !(n.minBandwidthMbps >= 0))) {
    bad('minimum bandwidth must not be negative');
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A working copy of one cluster. Hosts stay immutable objects; a commit
 * replaces one. Alongside, an index of host positions ordered by (free
 * memory, seeded tie key) lets a pruned search start at the first host with
 * enough memory: every host before it fails the memory filter anyway.
 */
export class ReferencePlacementSession {
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
  /** Host positions by ascending (free memory, tie key, position); built on first pruned search. */
  private order: Int32Array | null = null;
  private vmCount: number;
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
    return this.decide(ctx, evaluation, traceMode, topCandidates, limit < this.hosts.length && traceMode === 'summary');
  }

  /**
   * Adds the VM's reservation on `hostId`. Checks the host passes every
   * filter first, so a working copy can never be over-committed whatever
   * the caller does.
   */
  commit(request: PlacementRequest, hostId: string): Assignment {
    validateRequest(request);
    const i = this.indexById.get(hostId);
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
    for (const group of new Set(request.groups.map((g) => g.name))) {
      const count = (this.groupVmCounts.get(group) ?? 0) + sign;
      if (count > 0) this.groupVmCounts.set(group, count);
      else this.groupVmCounts.delete(group);
    }
    const oldFreeMiB = this.freeMiB[i] ?? 0;
    const newFreeMiB = freeMemoryMiB(next);
    if (host.state === 'connected') {
      this.clusterFreeMiB -= Math.max(0, oldFreeMiB) - Math.max(0, newFreeMiB);
      this.allocVcpus += sign * request.vcpus;
      this.allocMiB += sign * request.memoryMiB;
    }
    this.reindex(i, oldFreeMiB, newFreeMiB);
    this.updateQuickFree(i, next);
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
      demand: demandOf(request),
      groupVmCounts: this.groupVmCounts,
      clusterFreeMemoryMiB: this.clusterFreeMiB,
      explain,
      bindingWeights: this.weights(),
    };
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
   * Pack's pruned search: one pass over the hosts' quick figures (state,
   * free vCPUs, memory, pool bytes, NIC bandwidth), keeping the `limit` hosts
   * with the least best-fit key (scorers/binding-fit.ts; ties by the seeded key);
   * only those run the filters. The order depends on the VM's shape, so no
   * standing index serves it; the pass is a few comparisons per host. If none
   * of them passes every filter, the whole cluster is evaluated (exact refusal).
   */
  private evaluateBestFit(ctx: PlacementContext, limit: number): Evaluation {
    const { vcpus, memoryMiB } = ctx.request;
    const weights = ctx.bindingWeights ?? bindingWeights(0, 0);
    const wc = weights.vcpus;
    const wm = weights.memory;
    const wa = weights.alignment;
    const unpooledBytes = ctx.demand.unpooledDiskBytes;
    const largestMinMbps = ctx.demand.nicMinimums[0]?.mbps ?? 0;
    if (this.topIndex.length < limit) {
      this.topIndex = new Int32Array(limit);
      this.topKey = new Float64Array(limit);
    }
    const topIndex = this.topIndex;
    const topKey = this.topKey;
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
      const key = fitKey(freeV, freeM, vcpus, memoryMiB, capV, capM, wc, wm, wa);
      if (size === limit && !this.before(key, i, topKey[size - 1] ?? 0, topIndex[size - 1] ?? 0)) continue;
      let p = size < limit ? size++ : size - 1;
      while (p > 0 && this.before(key, i, topKey[p - 1] ?? 0, topIndex[p - 1] ?? 0)) {
        topKey[p] = topKey[p - 1] ?? 0;
        topIndex[p] = topIndex[p - 1] ?? 0;
        p--;
      }
      topKey[p] = key;
      topIndex[p] = i;
    }
    const evaluation = newEvaluation();
    for (let p = 0; p < size; p++) {
      const i = topIndex[p] ?? 0;
      const host = this.hosts[i];
      if (!host) continue;
      evaluation.evaluated += 1;
      const failure = this.firstFailure(host, ctx);
      if (failure) evaluation.rejected.push({ index: i, failure, verdicts: null });
      else evaluation.candidates.push(i);
    }
    return evaluation.candidates.length === 0 ? this.evaluateAll(ctx, false) : evaluation;
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
    // Raw scores, then nova's normalisation per scorer across the candidates.
    const raws = scorers.map(({ scorer }) =>
      candidates.map((i) => {
        const host = this.hosts[i];
        return host ? scorer.raw(host, ctx) : 0;
      }),
    );
    const normalized = raws.map((values) => {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return values.map((v) => (max > min ? ((v - min) / (max - min)) * 100 : 50));
    });
    let lowest = 0;
    let highest = 0;
    for (const { weight } of scorers) {
      if (weight < 0) lowest += 100 * weight;
      else highest += 100 * weight;
    }
    const totals = candidates.map((_, c) => {
      let sum = 0;
      scorers.forEach(({ weight }, s) => {
        sum += (normalized[s]?.[c] ?? 0) * weight;
      });
      return highest > lowest ? ((sum - lowest) / (highest - lowest)) * 100 : 0;
    });
    const ranked = candidates
      .map((index, c) => ({ index, c, total: totals[c] ?? 0 }))
      .sort(
        (a, b) => b.total - a.total || (this.tieKeys[a.index] ?? 0) - (this.tieKeys[b.index] ?? 0) || a.index - b.index,
      );

    const traced = traceMode === 'full' ? ranked : ranked.slice(0, topCandidates);
    const trace: HostTrace[] = traced.map(({ index, c, total }, r) => {
      const host = this.hosts[index];
      return {
        hostId: host?.id ?? '',
        hostName: host?.name ?? '',
        verdicts: evaluation.verdicts.get(index) ?? this.passVerdicts,
        scores: scorers.map(({ scorer, weight }, s) => {
          const norm = normalized[s]?.[c] ?? 0;
          return { scorer: scorer.name, raw: raws[s]?.[c] ?? 0, normalized: norm, weight, contribution: norm * weight };
        }),
        total,
        rank: r + 1,
      };
    });
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
    const best = ranked[0];
    const chosen = best ? this.hosts[best.index] : undefined;
    const base = {
      policy: this.profile.name,
      seed: this.options.seed,
      traceMode,
      hostsTotal: this.hosts.length,
      hostsEvaluated: evaluation.evaluated,
      candidates: candidates.length,
      rejections,
      trace,
    };
    if (!best || !chosen) {
      return { ...base, hostId: null, hostName: null, summary: this.noFitSummary(rejections), assignment: null };
    }
    const scope = pruned
      ? `best of ${plural(candidates.length, 'candidate', 'candidates')}, ${formatCount(evaluation.evaluated)} of ${plural(this.hosts.length, 'host', 'hosts')} checked`
      : `${formatCount(candidates.length)} of ${plural(this.hosts.length, 'host', 'hosts')} fit`;
    return {
      ...base,
      hostId: chosen.id,
      hostName: chosen.name,
      summary: `Placed on ${chosen.name} (score ${best.total.toFixed(1)} of 100; ${scope})`,
      assignment: assign(chosen, ctx.request, ctx.demand),
    };
  }

  private countRejections(rejected: readonly RejectedHost[], ctx: PlacementContext): RejectionCount[] {
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

interface RejectedHost {
  readonly index: number;
  readonly failure: FirstFailure;
  readonly verdicts: VerdictTrace[] | null;
}

interface Evaluation {
  readonly candidates: number[];
  readonly rejected: RejectedHost[];
  /** Full traces: the candidates' verdicts. */
  readonly verdicts: Map<number, VerdictTrace[]>;
  evaluated: number;
}

function newEvaluation(): Evaluation {
  return { candidates: [], rejected: [], verdicts: new Map(), evaluated: 0 };
}
