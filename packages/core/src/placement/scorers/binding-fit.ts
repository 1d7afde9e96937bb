import type { PlacementContext, Scorer } from '../plugin';
import { type HostSnapshot, usableMemoryMiB, vcpuCapacity } from '../snapshot';

/**
 * Best fit on the resource that binds. Each host's room after the VM is
 * measured per resource as a fraction of that host's capacity (vCPUs at the
 * overcommit ratio, usable memory), and the fractions are weighted by how
 * tightly each resource binds across the cluster: weight_k ∝ utilisation_k⁶⁴,
 * so a cluster whose CPU is 60 % used and memory 55 % packs by CPU
 * (≈ 260 : 1), a memory-bound one by memory, and only one where both are
 * within a percent or two by both: best fit on the binding resource, the
 * other a tie-break. (Exponents 2–32 were measured too: the more the second
 * resource weighs, the more VMs of one shape crowd the same hosts and strand
 * the other resource; bench/migration.bench.ts.) A memory-led best fit leaves CPU-bound clusters with
 * hosts full of vCPUs and half their memory idle; this follows whichever
 * resource runs out first. Lower leftover is better, so raw is its negative
 * (weight positive in the pack profile).
 */
export const BINDING_EXPONENT = 64;

export interface BindingWeights {
  readonly vcpus: number;
  readonly memory: number;
}

/** Weights from cluster-wide utilisation (0–1 each); an idle cluster weighs both alike. */
export function bindingWeights(vcpuUtilisation: number, memoryUtilisation: number): BindingWeights {
  // A small floor keeps an idle cluster (both 0) at even weights instead of 0/0.
  const c = (Math.max(0, vcpuUtilisation) + 1e-3) ** BINDING_EXPONENT;
  const m = (Math.max(0, memoryUtilisation) + 1e-3) ** BINDING_EXPONENT;
  return { vcpus: c / (c + m), memory: m / (c + m) };
}

/**
 * Leftovers are compared in steps of 1/256 of a host: hosts within a step tie,
 * and ties go to the seeded host order, so the same hosts keep being filled
 * first (first fit's strength when VMs also leave: the hosts late in the
 * order drain and empty) instead of the choice wandering over hosts that
 * differ by a few MiB.
 */
export const LEFTOVER_STEPS = 256;

/** Weighted leftover fraction after the VM: 0 = the host is exactly full on what binds. */
export function bindingLeftover(
  freeVcpus: number,
  vcpuCap: number,
  freeMiB: number,
  memoryCapMiB: number,
  vcpus: number,
  memoryMiB: number,
  weights: BindingWeights,
): number {
  const c = vcpuCap > 0 ? (freeVcpus - vcpus) / vcpuCap : 0;
  const m = memoryCapMiB > 0 ? (freeMiB - memoryMiB) / memoryCapMiB : 0;
  return Math.round((weights.vcpus * c + weights.memory * m) * LEFTOVER_STEPS) / LEFTOVER_STEPS;
}

const EVEN: BindingWeights = { vcpus: 0.5, memory: 0.5 };

export function hostLeftover(host: HostSnapshot, ctx: PlacementContext): number {
  const vcpuCap = vcpuCapacity(host, ctx.cluster.cpuOvercommitRatio);
  const memCap = usableMemoryMiB(host);
  return bindingLeftover(
    vcpuCap - host.allocated.vcpus,
    vcpuCap,
    memCap - host.allocated.memoryMiB,
    memCap,
    ctx.request.vcpus,
    ctx.request.memoryMiB,
    ctx.bindingWeights ?? EVEN,
  );
}

export const bindingFitScorer: Scorer = {
  name: 'binding-fit',
  raw(host, ctx) {
    return -hostLeftover(host, ctx);
  },
};
