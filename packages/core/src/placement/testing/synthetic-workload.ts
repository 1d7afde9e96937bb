/**
 * Synthetic workloads with arrivals and departures, for packing benchmarks and
 * tests: a seeded stream of VMs arriving (Poisson) and leaving (a mix of
 * short-lived and long-lived VMs, so holes open everywhere), in three shapes:
 *
 *   cpu-bound     many vCPUs per GiB: hosts run out of vCPUs first;
 *   memory-bound  many GiB per vCPU: hosts run out of memory first;
 *   mixed         a third of each plus a third balanced: which resource binds
 *                 depends on the host, and complementary VMs can share one.
 *
 * The cluster is homogeneous so the lower bound at each instant is exact
 * arithmetic: max over resources of ceil(total demand / per-host capacity).
 */
import { GIB } from '../../shared/units';
import { PlacementSession } from '../place';
import { packProfile } from '../profiles';
import { seededRandom } from '../seeded-order';
import type { ClusterSnapshot, HostSnapshot, PlacementRequest } from '../snapshot';

export type WorkloadShape = 'cpu-bound' | 'memory-bound' | 'mixed';

export interface WorkloadOptions {
  readonly shape: WorkloadShape;
  readonly seed: number;
  readonly hosts: number;
  /** Mean VMs alive at once in the steady state. */
  readonly population: number;
  /** Arrivals in all (default 3 × population). */
  readonly arrivals?: number;
  /** Host shape (default 32 logical processors at 4:1, 512 GiB usable): packing must not be tuned to one. */
  readonly host?: { readonly logicalProcessors: number; readonly memoryGiB: number; readonly overcommit?: number };
  /** Multiplies every VM's vCPUs (and so its memory): 2 makes VMs twice as large against the hosts (default 1). */
  readonly sizeFactor?: number;
  /** Mixed only: the shares of CPU-heavy, memory-heavy and balanced VMs (default a third each). */
  readonly mix?: readonly [cpu: number, memory: number, balanced: number];
}

export type WorkloadEvent =
  | { readonly at: number; readonly type: 'arrive'; readonly vm: number; readonly request: PlacementRequest }
  | { readonly at: number; readonly type: 'depart'; readonly vm: number };

export interface Workload {
  readonly shape: WorkloadShape;
  readonly cluster: ClusterSnapshot;
  readonly events: readonly WorkloadEvent[];
  readonly hostCapacity: { readonly vcpus: number; readonly memoryMiB: number };
  /** Averages start at this time (the first fifth of arrivals fills the cluster). */
  readonly warmUntil: number;
  /** Averages stop at the last arrival (after it the cluster only drains). */
  readonly until: number;
}

const HOST_LPS = 32;
const OVERCOMMIT = 4;
const HOST_USABLE_GIB = 512;
const RESERVED_MIB = 2048;

function shapeOf(
  shape: WorkloadShape,
  random: () => number,
  mix: readonly [number, number, number],
): { vcpus: number; memoryMiB: number } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const cpu = () => {
    const vcpus = pick([2, 4, 8, 8, 16]);
    return { vcpus, memoryMiB: vcpus * pick([512, 1024, 1024, 2048]) };
  };
  const memory = () => {
    const vcpus = pick([1, 2, 2, 4]);
    return { vcpus, memoryMiB: vcpus * pick([8, 16, 16, 32]) * 1024 };
  };
  const balanced = () => {
    const vcpus = pick([1, 2, 4, 8]);
    return { vcpus, memoryMiB: vcpus * pick([2, 4, 4, 8]) * 1024 };
  };
  if (shape === 'cpu-bound') return cpu();
  if (shape === 'memory-bound') return memory();
  const total = mix[0] + mix[1] + mix[2];
  const r = random();
  return r < mix[0] / total ? cpu() : r < (mix[0] + mix[1]) / total ? memory() : balanced();
}

export function syntheticWorkload(options: WorkloadOptions): Workload {
  const random = seededRandom(options.seed);
  const arrivals = options.arrivals ?? options.population * 3;
  const lps = options.host?.logicalProcessors ?? HOST_LPS;
  const usableGiB = options.host?.memoryGiB ?? HOST_USABLE_GIB;
  const overcommit = options.host?.overcommit ?? OVERCOMMIT;
  const factor = options.sizeFactor ?? 1;
  const mix = options.mix ?? [1, 1, 1];
  const events: WorkloadEvent[] = [];
  let at = 0;
  for (let vm = 0; vm < arrivals; vm++) {
    at += -Math.log(1 - random()); // one arrival per unit of time on average
    const shape = shapeOf(options.shape, random, mix);
    const vcpus = shape.vcpus * factor;
    const memoryMiB = shape.memoryMiB * factor;
    // Lifetimes: 80 % short (mean population / 4), 20 % long (mean 4 × population); mean = population.
    const mean = random() < 0.2 ? options.population * 4 : options.population / 4;
    const life = -Math.log(1 - random()) * mean;
    const request: PlacementRequest = {
      vmId: `vm-${vm}`,
      name: `vm-${vm}`,
      tenantId: `t${vm % 20}`,
      vcpus,
      memoryMiB,
      disks: [{ sizeBytes: 40 * GIB }],
      nics: [{}],
      groups: [],
      haPriority: 'off',
    };
    events.push({ at, type: 'arrive', vm, request });
    events.push({ at: at + life, type: 'depart', vm });
  }
  // Stable: a departure at the same instant as an arrival stays after it (never before its own arrival).
  events.sort((a, b) => a.at - b.at);
  const hosts: HostSnapshot[] = Array.from({ length: options.hosts }, (_, i) => ({
    id: `host-${i}`,
    name: `hv-${String(i).padStart(4, '0')}`,
    clusterId: 'synthetic',
    state: 'connected',
    logicalProcessors: lps,
    memoryMiB: usableGiB * 1024 + RESERVED_MIB,
    numaNodes: 2,
    reservedMemoryMiB: RESERVED_MIB,
    allocated: { vcpus: 0, memoryMiB: 0, vmCount: 0 },
    storagePools: [{ name: 'pool', capacityBytes: 1024 ** 4 * 64, allocatedBytes: 0 }],
    nics: [{ name: 'nic0', linkSpeedMbps: 25_000, reservedMinMbps: 0 }],
    dedicatedTenantId: null,
    groups: {},
  }));
  const warmIndex = events.findIndex((e) => e.type === 'arrive' && e.vm >= Math.floor(arrivals / 5));
  return {
    shape: options.shape,
    cluster: {
      id: 'synthetic',
      name: `synthetic ${options.shape}`,
      maxVms: 10_000_000,
      vmCount: 0,
      cpuOvercommitRatio: overcommit,
      policy: 'pack',
      hosts,
    },
    events,
    hostCapacity: { vcpus: lps * overcommit, memoryMiB: usableGiB * 1024 },
    warmUntil: events[Math.max(0, warmIndex)]?.at ?? 0,
    until: at,
  };
}

/** The engine as the packing comparisons run it: pack, summary traces, 8 candidates, the best one kept. */
export function packSession(w: Workload, candidateLimit = 8): PlacementSession {
  return new PlacementSession(w.cluster, {
    seed: 1,
    profile: packProfile,
    trace: 'summary',
    candidateLimit,
    topCandidates: 1,
  });
}

/** The lower bound on hosts at an instant: max over resources of ceil(total demand / per-host capacity). */
export function lowerBound(w: Workload, vcpus: number, memoryMiB: number): number {
  return Math.max(
    Math.ceil(vcpus / w.hostCapacity.vcpus - 1e-9),
    Math.ceil(memoryMiB / w.hostCapacity.memoryMiB - 1e-9),
  );
}

/**
 * Time-averaged hosts in use and lower bound over a replay: feed it every
 * event's time and the state after it. Hosts in use = hosts with a VM.
 */
export class TimeAverage {
  private last = 0;
  private usedArea = 0;
  private boundArea = 0;
  private used = 0;
  private bound = 0;

  constructor(
    private readonly from: number,
    private readonly until = Number.POSITIVE_INFINITY,
  ) {
    this.last = from;
  }

  /** The state that holds from `at` on. */
  step(at0: number, hostsInUse: number, lowerBound: number): void {
    const at = Math.min(at0, this.until);
    if (at > this.from) {
      const dt = at - Math.max(this.last, this.from);
      if (dt > 0) {
        this.usedArea += this.used * dt;
        this.boundArea += this.bound * dt;
      }
      this.last = at;
    }
    this.used = hostsInUse;
    this.bound = lowerBound;
  }

  /** Time-averaged hosts in use / time-averaged lower bound. */
  ratio(): number {
    return this.boundArea > 0 ? this.usedArea / this.boundArea : Number.NaN;
  }

  averageHostsInUse(): number {
    const span = this.last - this.from;
    return span > 0 ? this.usedArea / span : 0;
  }
}
