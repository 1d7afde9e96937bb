/**
 * The two plugin kinds of the placement pipeline (STYLE.md rule 3, after the
 * kube-scheduler framework): a Filter says whether a host can take the VM at
 * all, with the numbers when it cannot; a Scorer gives a raw preference that
 * place.ts normalises to 0–100 across the candidates and multiplies by the
 * profile's weight (nova weights.py). Plugins are pure functions of the host
 * and the context, so any decision can be replayed.
 */
import type { HostSnapshot, PlacementRequest } from './snapshot';

export type RejectCode =
  | 'HOST_MAINTENANCE'
  | 'HOST_SUSPECT'
  | 'HOST_FAILED'
  | 'TENANT_DEDICATED'
  | 'REPLICA_HOST'
  | 'REPLICA_CLUSTER'
  | 'CLUSTER_VM_LIMIT'
  | 'HOST_VM_LIMIT'
  | 'VCPUS_EXCEED_LPS'
  | 'CPU_SHORT'
  | 'MEMORY_SHORT'
  | 'STORAGE_POOL_MISSING'
  | 'STORAGE_SHORT'
  | 'NIC_MISSING'
  | 'NIC_BANDWIDTH_SHORT'
  | 'AFFINITY_ELSEWHERE'
  | 'ANTI_AFFINITY_CONFLICT';

export type FilterVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: RejectCode;
      /** For people: "memory short by 3.1 GiB (needs 16 GiB, 12.9 GiB free)". */
      readonly reason: string;
      /** The figures behind the reason, in the units their names carry. */
      readonly numbers: Readonly<Record<string, number>>;
    };

/** Shared so the hot path allocates nothing for a passing check. */
export const PASS: FilterVerdict = Object.freeze({ ok: true });

export type Rejection = Extract<FilterVerdict, { ok: false }>;

/**
 * `reason` is a function so a search that only counts rejections (summary
 * traces, most hosts failing) does not format thousands of strings: with
 * `explain` false the reason stays empty, and place.ts asks again, explaining,
 * for the one example it shows per cause.
 */
export function reject(
  explain: boolean,
  code: RejectCode,
  reason: () => string,
  numbers: Record<string, number>,
): Rejection {
  return { ok: false, code, reason: explain ? reason() : '', numbers };
}

/** What the request asks of a host, derived once per decision rather than once per host. */
export interface Demand {
  /** Bytes per named pool, summed over the disks that name it. */
  readonly diskBytesByPool: ReadonlyMap<string, number>;
  /** Bytes of the disks that name no pool; they go together on one pool. */
  readonly unpooledDiskBytes: number;
  /** Positive minimum reservations, largest first (the greedy NIC assignment's order), with the request NIC index. */
  readonly nicMinimums: readonly { readonly index: number; readonly mbps: number }[];
  readonly hardAffinity: readonly string[];
  readonly hardAntiAffinity: readonly string[];
  readonly softAffinity: readonly string[];
  readonly softAntiAffinity: readonly string[];
}

export interface PlacementContext {
  readonly cluster: {
    readonly id: string;
    readonly maxVms: number;
    readonly vmCount: number;
    readonly cpuOvercommitRatio: number;
  };
  readonly request: PlacementRequest;
  readonly demand: Demand;
  /** VMs per group across the cluster: hard affinity follows a group only once it exists somewhere. */
  readonly groupVmCounts: ReadonlyMap<string, number>;
  /** Free memory summed over connected hosts (what survivors could absorb). */
  readonly clusterFreeMemoryMiB: number;
  /** Build human reasons for rejections (false while a summary search only counts them). */
  readonly explain: boolean;
  /**
   * How tightly each resource binds across the cluster (scorers/binding-fit.ts);
   * absent: even weights.
   */
  readonly bindingWeights?: { readonly vcpus: number; readonly memory: number; readonly alignment: number };
}

export interface Filter {
  /** Stable kebab-case name; it is stored in decision traces. */
  readonly name: string;
  check(host: HostSnapshot, ctx: PlacementContext): FilterVerdict;
}

export interface Scorer {
  readonly name: string;
  /** Higher is preferred before weighting; a negative profile weight turns the preference around. */
  raw(host: HostSnapshot, ctx: PlacementContext): number;
}
