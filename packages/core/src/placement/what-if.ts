/**
 * What-if questions answered by the same engine as real placement, on a
 * working copy (nothing is committed): "evacuate this host" and "can the
 * cluster lose a host?" (N+1). Both re-place a host's VMs one at a time on
 * the other hosts, each seeing the reservations of those placed before it.
 */
import { type PlacementDecision, PlacementSession, type PlaceOptions } from './place';
import { PlacementError } from './placement.errors';
import type { ClusterSnapshot, HaPriority, HostSnapshot, PlacementRequest } from './snapshot';

export interface VmOnHost {
  readonly request: PlacementRequest;
  readonly currentHostId: string;
  /**
   * Running or about to (creating, starting, running, paused, stopping): what HA restarts after its
   * host fails. Absent: taken as live.
   */
  readonly live?: boolean;
}

export interface PlannedMove {
  readonly vmId?: string;
  readonly name: string;
  readonly haPriority: HaPriority;
  /** null: the VM cannot move; `summary` says why. */
  readonly toHostId: string | null;
  readonly toHostName: string | null;
  readonly summary: string;
  readonly decision: PlacementDecision;
}

export interface EvacuationPlan {
  readonly hostId: string;
  readonly hostName: string;
  /** Every VM has somewhere to go. */
  readonly ok: boolean;
  /** In the order they were planned: HA priority high first, then the biggest first. */
  readonly moves: readonly PlannedMove[];
  readonly unmovable: number;
}

export interface HostLossResult {
  readonly hostId: string;
  readonly hostName: string;
  readonly ok: boolean;
  /** HA VMs re-placed on the survivors. */
  readonly placed: number;
  readonly unplaced: readonly { readonly vmId?: string; readonly name: string; readonly summary: string }[];
}

export interface NPlusOneResult extends HostLossResult {
  /** The worst host's result is spread above; every host checked is here, worst first. */
  readonly perHost: readonly HostLossResult[];
}

/** What-if placements default to summary traces: a plan of hundreds of VMs need not carry every host's verdicts. */
export type WhatIfOptions = PlaceOptions & {
  /** nPlusOne: check the loss of every connected host (default), or only of the one with the most allocated memory. */
  readonly hosts?: 'all' | 'largest';
};

/** Candidates scored per re-placement in nPlusOne unless the caller says otherwise. */
const N_PLUS_ONE_CANDIDATES = 4;

const PRIORITY_RANK: Record<HaPriority, number> = { high: 0, medium: 1, low: 2, off: 3 };

/**
 * The order VMs are re-placed in: HA priority first (what matters most gets
 * the room), then the biggest first (first-fit decreasing leaves fewer
 * stranded), then by name so the plan replays.
 */
function moveOrder(a: VmOnHost, b: VmOnHost): number {
  const x = a.request;
  const y = b.request;
  return (
    PRIORITY_RANK[x.haPriority] - PRIORITY_RANK[y.haPriority] ||
    y.memoryMiB - x.memoryMiB ||
    y.vcpus - x.vcpus ||
    (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)
  );
}

/**
 * The cluster as it would be without `host`: its VMs are no longer counted
 * (they are the ones being re-placed) and its groups leave with it, since
 * the snapshot's group counts are per host.
 */
function without(cluster: ClusterSnapshot, host: HostSnapshot, movingVms: number): ClusterSnapshot {
  return {
    ...cluster,
    vmCount: Math.max(0, cluster.vmCount - movingVms),
    hosts: cluster.hosts.filter((h) => h.id !== host.id),
  };
}

function replan(cluster: ClusterSnapshot, vms: readonly VmOnHost[], options: PlaceOptions): PlannedMove[] {
  const session = new PlacementSession(cluster, { trace: 'summary', ...options });
  return [...vms].sort(moveOrder).map(({ request }) => {
    const decision = session.place(request);
    if (decision.hostId !== null) session.commit(request, decision.hostId);
    return {
      ...(request.vmId === undefined ? {} : { vmId: request.vmId }),
      name: request.name,
      haPriority: request.haPriority,
      toHostId: decision.hostId,
      toHostName: decision.hostName,
      summary: decision.summary,
      decision,
    };
  });
}

function findHost(cluster: ClusterSnapshot, hostId: string): HostSnapshot {
  const host = cluster.hosts.find((h) => h.id === hostId);
  if (!host) throw new PlacementError('HOST_NOT_FOUND', `no host ${hostId} in cluster ${cluster.name}`);
  return host;
}

/** Where each VM on `hostId` would go if the host were emptied for maintenance, or why it cannot move. */
export function evacuationPlan(
  cluster: ClusterSnapshot,
  hostId: string,
  vms: readonly VmOnHost[],
  options: PlaceOptions,
): EvacuationPlan {
  const host = findHost(cluster, hostId);
  const onHost = vms.filter((vm) => vm.currentHostId === hostId);
  const moves = replan(without(cluster, host, onHost.length), onHost, options);
  const unmovable = moves.filter((m) => m.toHostId === null).length;
  return { hostId: host.id, hostName: host.name, ok: unmovable === 0, moves, unmovable };
}

function hostLoss(cluster: ClusterSnapshot, host: HostSnapshot, vms: readonly VmOnHost[], options: PlaceOptions) {
  // Only HA VMs restart elsewhere after a failure; HA-off VMs stay down and still count against the cluster limit.
  const haVms = vms.filter((vm) => vm.currentHostId === host.id && vm.request.haPriority !== 'off');
  // N+1 asks whether each VM fits, not which host is best: score a few candidates (the pruned search is
  // exact about feasibility) and keep no candidate traces, so checking all 64 losses stays fast.
  const moves = replan(without(cluster, host, haVms.length), haVms, {
    candidateLimit: N_PLUS_ONE_CANDIDATES,
    ...options,
    topCandidates: 0,
  });
  const unplaced = moves
    .filter((m) => m.toHostId === null)
    .map((m) => ({ ...(m.vmId === undefined ? {} : { vmId: m.vmId }), name: m.name, summary: m.summary }));
  return {
    hostId: host.id,
    hostName: host.name,
    ok: unplaced.length === 0,
    placed: moves.length - unplaced.length,
    unplaced,
  };
}

/**
 * "Can the cluster lose a host?" For each connected host (or only the one
 * with the most allocated memory), its HA VMs are re-placed on the
 * survivors. The answer is the worst host: the most VMs left without a
 * host, then the most allocated memory. Greedy re-placement can miss a
 * packing that would fit; it never claims a fit that breaks a filter.
 */
export function nPlusOne(cluster: ClusterSnapshot, vms: readonly VmOnHost[], options: WhatIfOptions): NPlusOneResult {
  const connected = cluster.hosts.filter((h) => h.state === 'connected');
  const byLoad = [...connected].sort(
    (a, b) => b.allocated.memoryMiB - a.allocated.memoryMiB || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const checked = options.hosts === 'largest' ? byLoad.slice(0, 1) : byLoad;
  const perHost = checked
    .map((host) => ({ host, result: hostLoss(cluster, host, vms, options) }))
    .sort(
      (a, b) =>
        b.result.unplaced.length - a.result.unplaced.length ||
        b.host.allocated.memoryMiB - a.host.allocated.memoryMiB ||
        (a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0),
    )
    .map(({ result }) => result);
  const worst = perHost[0];
  if (!worst) return { hostId: '', hostName: '', ok: true, placed: 0, unplaced: [], perHost };
  return { ...worst, perHost };
}
