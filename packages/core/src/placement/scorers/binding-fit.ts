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
 * resource runs out first.
 *
 * When both resources bind nearly alike across the cluster (the less used at
 * 70–80 % or more of the other's utilisation), best fit on one of them alone
 * lets hosts fill up on the other: CPU-heavy VMs land on hosts already short
 * of CPU and strand their memory. There the key also leans towards hosts
 * whose free vector points the way the VM's demand does (Tetris's alignment:
 * the cosine of the two, in fractions of the host), so complementary VMs
 * share hosts. When one resource clearly binds, alignment weighs nothing and
 * the key is best fit alone (measured: alignment there only moves ties, and
 * the seeded order breaks ties better; bench/migration.bench.ts).
 *
 * Memory-bound clusters are therefore packed by best fit on memory, host for
 * host, and that is kept on purpose: nothing measured beats it. On the
 * synthetic memory-bound workloads hosts in use exceed the lower bound by
 * 1.4–1.9 hosts time-averaged at 100, 300 and 1,000 hosts alike (half a host
 * of it the bound's rounding): memory sizes there divide the host, where best
 * fit packs perfectly without departures, so all that is left are the holes
 * departures open, and where the next departure comes from is independent of
 * anything placement sees. Tried as the key or on its ties (300 hosts, 2 to
 * 14 seeds each; ratio to the lower bound, best fit 1.0075–1.0104):
 *   - sum of squares over 8 GiB free-memory levels (Csirik et al.): 0.016–
 *     0.020 worse (0.011 at 1,000 hosts); Stolyar's Greedy, Σ N^(1+α) over
 *     levels, full hosts counted: 0.05 (α 0.1) to 0.36 (α 1) worse;
 *   - residents' ages on ties, without lifetime predictions (LAVA's
 *     observation that a VM that has run long will run long): oldest or
 *     youngest resident, mean age, latest arrival, a 1/age hazard, even the
 *     generator's own hazard at each age: up to ±0.0012 per seed, either way,
 *     within 0.0001 of best fit on average (0.00006 at 1,000 hosts); with ages
 *     ranking hosts within 1/32–1/8 of a host: 0.0004–0.02 worse;
 *   - knowing every VM's departure (not available): ties to the host whose
 *     next departure is furthest gain 0.0001–0.0014, 0.0005 on average (less
 *     than a tenth of a host); separating short- from long-lived VMs loses
 *     0.014–0.025 (two pools, two sets of holes);
 *   - avoiding leftovers under 16–64 GiB: 0.001–0.012 worse; big and small
 *     VMs on separate hosts (Harmonic): 0.006–0.008 worse; ties by free
 *     vCPUs or VM count: ±0.0006, either way.
 *
 * Lower keys are better, so the scorer's raw is the key's negative (weight
 * positive in the pack profile).
 */
export const BINDING_EXPONENT = 64;

/** The alignment term's weight at full strength: 0.05 of a host's leftover (about 13 leftover steps of 1/256). */
export const ALIGNMENT_WEIGHT = 0.05;

export interface BindingWeights {
  readonly vcpus: number;
  readonly memory: number;
  /** How much the alignment term weighs in the key (0 when one resource clearly binds). */
  readonly alignment: number;
}

/** Weights from cluster-wide utilisation (0–1 each); an idle cluster weighs both alike. */
export function bindingWeights(vcpuUtilisation: number, memoryUtilisation: number): BindingWeights {
  // A small floor keeps an idle cluster (both 0) at even weights instead of 0/0.
  const uc = Math.max(0, vcpuUtilisation) + 1e-3;
  const um = Math.max(0, memoryUtilisation) + 1e-3;
  const c = uc ** BINDING_EXPONENT;
  const m = um ** BINDING_EXPONENT;
  // 0 below a ratio of 0.7 between the two utilisations, full from 0.8, linear between.
  const ratio = Math.min(uc, um) / Math.max(uc, um);
  const alignment = ALIGNMENT_WEIGHT * Math.min(1, Math.max(0, (ratio - 0.7) / 0.1));
  return { vcpus: c / (c + m), memory: m / (c + m), alignment };
}

/**
 * Leftovers are compared in steps of 1/1024 of a host: hosts within a step tie,
 * and ties go to the seeded host order, so the same hosts keep being filled
 * first (first fit's strength when VMs also leave: the hosts late in the
 * order drain and empty) instead of the choice wandering over hosts that
 * differ by a few MiB. (Steps of 1/256, 2 GiB of a 512 GiB host, merged
 * leftovers of small VMs that differ and lost to plain best fit on mixed
 * workloads; exact leftovers lost too.)
 */
export const LEFTOVER_STEPS = 1024;

/**
 * Best fit's key of a host with these free figures (one expression, shared by
 * the scorer, the session's index and its oracle, so all compute it alike):
 * the weighted leftover after the VM in steps, less the alignment term. The
 * leftover part never decreases as free vCPUs or memory grow and the
 * alignment part lies in [0, alignment weight], which the index's stopping
 * rule relies on.
 */
export function fitKey(
  freeV: number,
  freeM: number,
  vcpus: number,
  memoryMiB: number,
  capV: number,
  capM: number,
  wc: number,
  wm: number,
  wa: number,
): number {
  const leftover =
    Math.round(
      ((capV > 0 ? (wc * (freeV - vcpus)) / capV : 0) + (capM > 0 ? (wm * (freeM - memoryMiB)) / capM : 0)) *
        LEFTOVER_STEPS,
    ) / LEFTOVER_STEPS;
  return wa > 0 ? leftover - wa * alignment(freeV, freeM, vcpus, memoryMiB, capV, capM) : leftover;
}

/** Cosine of the VM's demand and the host's free vector (each over the host's capacity), in [0, 1]. */
function alignment(freeV: number, freeM: number, vcpus: number, memoryMiB: number, capV: number, capM: number): number {
  const fv = capV > 0 ? Math.max(0, freeV) / capV : 0;
  const fm = capM > 0 ? Math.max(0, freeM) / capM : 0;
  const dv = capV > 0 ? vcpus / capV : 0;
  const dm = capM > 0 ? memoryMiB / capM : 0;
  const norms = Math.sqrt((fv * fv + fm * fm) * (dv * dv + dm * dm));
  return norms > 0 ? Math.min(1, (fv * dv + fm * dm) / norms) : 0;
}

/** Weighted leftover fraction after the VM, without alignment: 0 = the host is exactly full on what binds. */
export function bindingLeftover(
  freeVcpus: number,
  vcpuCap: number,
  freeMiB: number,
  memoryCapMiB: number,
  vcpus: number,
  memoryMiB: number,
  weights: BindingWeights,
): number {
  return fitKey(freeVcpus, freeMiB, vcpus, memoryMiB, vcpuCap, memoryCapMiB, weights.vcpus, weights.memory, 0);
}

const EVEN: BindingWeights = { vcpus: 0.5, memory: 0.5, alignment: 0 };

/** The host's best-fit key for the context's VM (lower is better). */
export function hostFitKey(host: HostSnapshot, ctx: PlacementContext): number {
  const vcpuCap = vcpuCapacity(host, ctx.cluster.cpuOvercommitRatio);
  const memCap = usableMemoryMiB(host);
  const weights = ctx.bindingWeights ?? EVEN;
  return fitKey(
    vcpuCap - host.allocated.vcpus,
    memCap - host.allocated.memoryMiB,
    ctx.request.vcpus,
    ctx.request.memoryMiB,
    vcpuCap,
    memCap,
    weights.vcpus,
    weights.memory,
    weights.alignment,
  );
}

export const bindingFitScorer: Scorer = {
  name: 'binding-fit',
  raw(host, ctx) {
    return -hostFitKey(host, ctx);
  },
};
