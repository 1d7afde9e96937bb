/**
 * HA admission control (docs/high-availability.md), like vCenter's: with it on,
 * a new VM or a start is refused when afterwards the cluster could no longer
 * restart its HA VMs after the failures it promises to tolerate. Two policies:
 *
 * - `host-failures` (default, tolerate 1): for every set of that many
 *   connected hosts, their running HA VMs are re-placed on the survivors by
 *   the placement engine (priority first, then the biggest); one that fits
 *   nowhere refuses the change. The same question as N+1, answered for the
 *   cluster as it would be after the change.
 * - `reserved-percentage`: running VMs' vCPUs and memory stay within
 *   (100 − reserved) % of the connected hosts' capacity (vCPUs at the
 *   overcommit ratio, memory less the parent partition's reserve).
 *
 * Only running VMs restart after a failure, so only they need room; a stopped
 * VM still holds its reservation on its host (placement keeps it so that it can
 * always start there), so survivors' room is what placement says.
 */
import { applyPlacement, PlacementSession } from '../placement/place';
import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot, HaPriority, HostSnapshot, PlacementRequest } from '../placement/snapshot';
import { usableMemoryMiB, vcpuCapacity } from '../placement/snapshot';
import type { VmOnHost } from '../placement/what-if';
import type { HaRepository } from './ha-repository';
import { type AdmissionPolicy, type HaSettings, readHaSettings } from './ha-settings';

export interface AdmissionRefusal {
  /** The limit that refuses: the policy and its figure. */
  readonly policy: AdmissionPolicy;
  readonly limit: number;
  readonly message: string;
}

/** Host-failure sets checked at most; beyond, only sets of the hosts with the most running HA memory. */
const MAX_FAILURE_SETS = 500;

const RANK: Record<HaPriority, number> = { high: 0, medium: 1, low: 2, off: 3 };

/** A VM that would restart after its host failed: HA priority other than off, and running (or about to). */
function restarts(vm: VmOnHost): boolean {
  return vm.request.haPriority !== 'off' && vm.live !== false;
}

function restartOrder(a: VmOnHost, b: VmOnHost): number {
  const x = a.request;
  const y = b.request;
  return (
    RANK[x.haPriority] - RANK[y.haPriority] ||
    y.memoryMiB - x.memoryMiB ||
    y.vcpus - x.vcpus ||
    (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)
  );
}

function combinations<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of combinations(items.slice(i + 1), k - 1)) out.push([item, ...rest]);
  });
  return out;
}

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The first of `lost`'s restarting VMs that fits nowhere on the survivors, with placement's reason; null: all fit. */
function firstUnplaced(cluster: ClusterSnapshot, vms: readonly VmOnHost[], lost: readonly HostSnapshot[]) {
  const lostIds = new Set(lost.map((h) => h.id));
  const moving = vms.filter((vm) => lostIds.has(vm.currentHostId) && restarts(vm)).sort(restartOrder);
  if (!moving.length) return null;
  const onLost = vms.filter((vm) => lostIds.has(vm.currentHostId)).length;
  const survivors: ClusterSnapshot = {
    ...cluster,
    vmCount: Math.max(0, cluster.vmCount - onLost),
    hosts: cluster.hosts.filter((h) => !lostIds.has(h.id)),
  };
  const session = new PlacementSession(survivors, { seed: 1, trace: 'summary', candidateLimit: 4, topCandidates: 0 });
  let unplaced = 0;
  let first: { name: string; summary: string } | null = null;
  for (const { request } of moving) {
    const decision = session.place(request);
    if (decision.hostId) session.commit(request, decision.hostId);
    else {
      unplaced++;
      first ??= { name: request.name, summary: decision.summary };
    }
  }
  return first ? { ...first, unplaced, of: moving.length } : null;
}

function hostFailuresRefusal(k: number, cluster: ClusterSnapshot, vms: readonly VmOnHost[]): AdmissionRefusal | null {
  const connected = cluster.hosts.filter((h) => h.state === 'connected');
  const head = `HA admission control (tolerate ${plural(k, 'host failure')})`;
  const restarting = vms.filter((vm) => restarts(vm) && connected.some((h) => h.id === vm.currentHostId));
  if (!restarting.length) return null;
  if (connected.length <= k) {
    return {
      policy: 'host-failures',
      limit: k,
      message: `${head}: the cluster has ${plural(connected.length, 'connected host')}, so after ${plural(k, 'failure')} no host would be left to restart its ${plural(restarting.length, 'running HA VM')}`,
    };
  }
  // The hosts whose loss hurts most first: the most running HA memory to re-place.
  const load = new Map<string, number>();
  for (const vm of restarting) load.set(vm.currentHostId, (load.get(vm.currentHostId) ?? 0) + vm.request.memoryMiB);
  let candidates = [...connected].sort(
    (a, b) => (load.get(b.id) ?? 0) - (load.get(a.id) ?? 0) || (a.name < b.name ? -1 : 1),
  );
  while (candidates.length > k && choose(candidates.length, k) > MAX_FAILURE_SETS) candidates = candidates.slice(0, -1);
  for (const lost of combinations(candidates, k)) {
    const miss = firstUnplaced(cluster, vms, lost);
    if (!miss) continue;
    const names = lost.map((h) => h.name).join(' and ');
    return {
      policy: 'host-failures',
      limit: k,
      message:
        `${head}: if ${names} failed, ${miss.unplaced} of ${plural(miss.of, 'running HA VM')} on ${k === 1 ? 'it' : 'them'} ` +
        `could not restart elsewhere (${miss.name}: ${miss.summary})`,
    };
  }
  return null;
}

function reservedPercentageRefusal(
  percent: number,
  cluster: ClusterSnapshot,
  vms: readonly VmOnHost[],
): AdmissionRefusal | null {
  const connected = cluster.hosts.filter((h) => h.state === 'connected');
  const capMiB = connected.reduce((s, h) => s + usableMemoryMiB(h), 0);
  const capVcpus = connected.reduce((s, h) => s + vcpuCapacity(h, cluster.cpuOvercommitRatio), 0);
  const running = vms.filter((vm) => vm.live !== false);
  const usedMiB = running.reduce((s, vm) => s + vm.request.memoryMiB, 0);
  const usedVcpus = running.reduce((s, vm) => s + vm.request.vcpus, 0);
  const share = (100 - percent) / 100;
  const head = `HA admission control (keep ${percent} % of the cluster's capacity free for failover)`;
  const pct = (used: number, cap: number) => (cap > 0 ? Math.round((used / cap) * 100) : 100);
  if (usedMiB > capMiB * share) {
    return {
      policy: 'reserved-percentage',
      limit: percent,
      message: `${head}: running VMs would use ${pct(usedMiB, capMiB)} % of its memory (${usedMiB} of ${capMiB} MiB; at most ${100 - percent} %)`,
    };
  }
  if (usedVcpus > capVcpus * share) {
    return {
      policy: 'reserved-percentage',
      limit: percent,
      message: `${head}: running VMs would use ${pct(usedVcpus, capVcpus)} % of its vCPUs (${usedVcpus} of ${capVcpus}; at most ${100 - percent} %)`,
    };
  }
  return null;
}

/**
 * Would the cluster, as given (the change already in it), break its HA admission policy? null: admitted
 * (or admission control is off, or HA is).
 */
export function admissionRefusal(
  settings: HaSettings,
  cluster: ClusterSnapshot,
  vms: readonly VmOnHost[],
): AdmissionRefusal | null {
  if (!settings.enabled || !settings.admissionControl) return null;
  return settings.admissionPolicy === 'reserved-percentage'
    ? reservedPercentageRefusal(settings.reservedCapacityPercent, cluster, vms)
    : hostFailuresRefusal(settings.hostFailuresToTolerate, cluster, vms);
}

/** A change to admit: new VMs (with where placement put them), or a stopped VM to start. */
export type AdmissionChange =
  | { kind: 'create'; vms: readonly { request: PlacementRequest; hostId: string; live: boolean }[] }
  | { kind: 'start'; vmId: string };

export interface HaAdmissionDeps {
  /** Where the clusters' HA settings are read (outside the caller's transaction: a setting is not locked). */
  ha: Pick<HaRepository, 'clusterSettings'>;
}

/** Admission control for compute's use cases: reads the cluster through the caller's (locked) placement store. */
export class HaAdmission {
  constructor(private readonly deps: HaAdmissionDeps) {}

  /**
   * `snapshot` is the cluster before the change, as the caller read it under the cluster's lock (read
   * here when not given).
   */
  async refusal(
    placement: PlacementStore,
    clusterId: string,
    change: AdmissionChange,
    snapshot?: ClusterSnapshot,
  ): Promise<AdmissionRefusal | null> {
    const stored = (await this.deps.ha.clusterSettings()).find((c) => c.id === clusterId);
    const settings = readHaSettings(stored?.haSettings);
    if (!settings.enabled || !settings.admissionControl) return null;
    let cluster = snapshot ?? (await placement.clusterSnapshot(clusterId));
    let vms = await placement.vmsInCluster(clusterId);
    if (change.kind === 'create') {
      for (const vm of change.vms) {
        cluster = applyPlacement(cluster, vm.request, vm.hostId);
        vms = [...vms, { request: vm.request, currentHostId: vm.hostId, live: vm.live }];
      }
    } else {
      vms = vms.map((vm) => (vm.request.vmId === change.vmId ? { ...vm, live: true } : vm));
    }
    return admissionRefusal(settings, cluster, vms);
  }
}
