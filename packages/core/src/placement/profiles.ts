/**
 * A profile is the ordered filter list and the weighted scorers of one
 * placement policy. The filters run in this order, cheapest and most often
 * decisive first (nomad scheduler/feasible/stack.go keeps the same order
 * rationale): a host in maintenance or at a limit is rejected with two
 * comparisons before any storage or NIC assignment is tried.
 */
import { affinityFilter } from './filters/affinity';
import { antiAffinityFilter } from './filters/anti-affinity';
import { cpuFilter } from './filters/cpu';
import { hostStateFilter } from './filters/host-state';
import { memoryFilter } from './filters/memory';
import { nicQosFilter } from './filters/nic-qos';
import { replicaSeparationFilter } from './filters/replica-separation';
import { storageFilter } from './filters/storage';
import { tenantDedicationFilter } from './filters/tenant-dedication';
import { vmLimitsFilter } from './filters/vm-limits';
import type { Filter, Scorer } from './plugin';
import { bindingFitScorer } from './scorers/binding-fit';
import { cpuHeadroomScorer } from './scorers/cpu-headroom';
import { haHeadroomScorer } from './scorers/ha-headroom';
import { memoryHeadroomScorer } from './scorers/memory-headroom';
import { numaFitScorer } from './scorers/numa-fit';
import { softAffinityScorer } from './scorers/soft-affinity';
import type { PlacementPolicy } from './snapshot';

export interface WeightedScorer {
  readonly scorer: Scorer;
  /** Multiplies the 0–100 normalised score; negative turns the preference around (nova weights.py). */
  readonly weight: number;
}

export interface PlacementProfile {
  readonly name: PlacementPolicy;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  /**
   * When a candidate limit prunes the search (large clusters, nomad's limit
   * iterator), candidates are drawn in this order of free memory: fullest
   * first, emptiest first for balancing; 'best-fit' takes the hosts the
   * binding-fit scorer ranks best, found through the session's per-shape
   * lists of hosts by free vCPUs and free memory (the order depends on the
   * VM, so a search walks both lists until no host left can rank).
   */
  readonly candidateOrder: 'fullest-first' | 'emptiest-first' | 'best-fit';
}

export const FILTERS: readonly Filter[] = [
  hostStateFilter, // one comparison; rules out maintenance / suspect / failed hosts
  tenantDedicationFilter, // one comparison
  replicaSeparationFilter, // two comparisons, none for a VM without a replica
  vmLimitsFilter, // two comparisons
  memoryFilter, // the resource most often short (memory never overcommits)
  cpuFilter,
  antiAffinityFilter, // a lookup per hard group
  affinityFilter,
  storageFilter, // walks the pools
  nicQosFilter, // simulates the greedy NIC assignment: last
];

export const balanceProfile: PlacementProfile = {
  name: 'balance',
  filters: FILTERS,
  scorers: [
    { scorer: memoryHeadroomScorer, weight: 1 },
    { scorer: cpuHeadroomScorer, weight: 1 },
    // Soft groups are what the user asked for: at 3 they outweigh all the resource scorers together
    // (normalised, those sum to at most 275), so "soft" means "never refuses", not "rarely honoured".
    { scorer: softAffinityScorer, weight: 3 },
    { scorer: numaFitScorer, weight: 0.5 },
    // Light: balancing already spreads load; this only breaks near-ties toward the easiest loss.
    { scorer: haHeadroomScorer, weight: 0.25 },
  ],
  candidateOrder: 'emptiest-first',
};

export const packProfile: PlacementProfile = {
  name: 'pack',
  filters: FILTERS,
  scorers: [
    // Best fit on whichever resource binds across the cluster (CPU, memory or both), not memory-led.
    { scorer: bindingFitScorer, weight: 2 },
    // As in balance: above the packing scorer (at most 200).
    { scorer: softAffinityScorer, weight: 3 },
    // No NUMA fit: it prefers hosts with room per node, i.e. emptier ones, and cost packing 0.5–1 % of
    // hosts on the synthetic workloads (bench/migration.bench.ts). Packing trades that locality away.
    // No HA headroom: spreading HA load would undo packing; the N+1 check says whether packing went too far.
  ],
  candidateOrder: 'best-fit',
};

export function profileFor(policy: PlacementPolicy): PlacementProfile {
  return policy === 'pack' ? packProfile : balanceProfile;
}
