/**
 * How long a live migration takes and how long the VM stands still, before it
 * starts (the whitepaper's "Migrate virtual machines without downtime": memory
 * pre-copy in passes, each sending the pages dirtied during the last, then a
 * final copy with the CPU and device state while the VM is paused).
 *
 * Pages are 4 KiB. A running VM writes pages of its writable working set at a
 * rate; a page written twice during a pass is sent once, so the pages dirtied
 * in t seconds are W·(1 − e^(−r·t/W)) (W working-set pages, r page writes/s):
 * a busy VM cannot dirty more than its working set, which is why pre-copy
 * converges at all. Migrations sharing a link share its bandwidth evenly.
 *
 * Pure arithmetic: the same function predicts (from the VM's measured load)
 * and, with a noisy page-level simulation beside it (simulatePreCopy), lets
 * the agent's simulated migration and the benchmark compare.
 */

import {
  linkShareMiBps,
  type MigrationInput,
  type PassPrediction,
  type PreCopyLimits,
  SETUP_SECONDS,
  SWITCHOVER_MS,
} from './precopy-sim';

// The pre-copy protocol's constants, inputs and page-level simulation live in precopy-sim.ts, which the
// agent runs too: one copy, so what the agent "observes" and what this predicts cannot drift apart.
export * from './precopy-sim';

export interface MigrationPolicy extends PreCopyLimits {
  /**
   * A migration that would not converge: 'refuse' it with the reason, or
   * 'cap' the guest's dirtying (auto-converge: the guest is slowed to a
   * share of the link) and say so.
   */
  readonly nonConverging: 'refuse' | 'cap';
}

export const DEFAULT_MIGRATION_POLICY: MigrationPolicy = { maxBlackoutMs: 500, maxPasses: 10, nonConverging: 'cap' };

export interface MigrationPrediction {
  readonly verdict: 'ok' | 'capped' | 'refused';
  /** Why capped or refused, for people; null when ok. */
  readonly reason: string | null;
  /** Pre-copy passes (the final copy not included). */
  readonly passes: readonly PassPrediction[];
  readonly precopySeconds: number;
  /** The final copy: the VM is paused. */
  readonly blackoutMs: number;
  /** Pre-copy plus blackout plus setup and cleanup. */
  readonly totalSeconds: number;
  readonly sentMiB: number;
  /** This migration's share of the link, MiB/s. */
  readonly bandwidthMiBps: number;
  /** The guest's dirty rate the prediction used (lower than asked when capped), MiB/s. */
  readonly dirtyMiBps: number;
}

/** Under 'cap', the guest may dirty at most this share of the migration's bandwidth. */
export const CAP_SHARE = 0.3;

/** Unique MiB dirtied in `seconds` at `dirtyMiBps` over a working set of `workingSetMiB`. */
export function dirtiedMiB(workingSetMiB: number, dirtyMiBps: number, seconds: number): number {
  if (workingSetMiB <= 0 || dirtyMiBps <= 0) return 0;
  return workingSetMiB * (1 - Math.exp((-dirtyMiBps * seconds) / workingSetMiB));
}

function passesFor(input: MigrationInput, dirtyMiBps: number, policy: MigrationPolicy, bandwidth: number) {
  const device = input.deviceStateMiB ?? 8;
  const passes: PassPrediction[] = [];
  let toSend = input.memoryMiB;
  let converged = false;
  for (let pass = 0; pass < policy.maxPasses; pass++) {
    const seconds = toSend / bandwidth;
    passes.push({ pass, mib: toSend, seconds });
    const next = dirtiedMiB(Math.min(input.workingSetMiB, input.memoryMiB), dirtyMiBps, seconds);
    toSend = next;
    if (((next + device) / bandwidth) * 1000 + SWITCHOVER_MS <= policy.maxBlackoutMs) {
      converged = true;
      break;
    }
    // Not shrinking: another pass only sends the same pages again.
    if (pass > 0 && next >= (passes[pass]?.mib ?? 0) * 0.95) break;
  }
  const blackoutMs = ((toSend + device) / bandwidth) * 1000 + SWITCHOVER_MS;
  return { passes, converged, blackoutMs, finalMiB: toSend + device };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function predictMigration(
  input: MigrationInput,
  policy: MigrationPolicy = DEFAULT_MIGRATION_POLICY,
): MigrationPrediction {
  const bandwidth = linkShareMiBps(input.linkMbps, input.concurrent);
  const build = (dirty: number, verdict: MigrationPrediction['verdict'], reason: string | null) => {
    const r = passesFor(input, dirty, policy, bandwidth);
    const precopySeconds = r.passes.reduce((s, p) => s + p.seconds, 0);
    return {
      result: {
        verdict,
        reason,
        passes: r.passes,
        precopySeconds,
        blackoutMs: r.blackoutMs,
        totalSeconds: SETUP_SECONDS + precopySeconds + r.blackoutMs / 1000,
        sentMiB: r.passes.reduce((s, p) => s + p.mib, 0) + r.finalMiB,
        bandwidthMiBps: bandwidth,
        dirtyMiBps: dirty,
      } satisfies MigrationPrediction,
      converged: r.converged,
    };
  };
  const first = build(input.dirtyMiBps, 'ok', null);
  if (first.converged) return first.result;
  const why = `the VM dirties ${fmt(input.dirtyMiBps)} MiB/s of a ${fmt(input.workingSetMiB)} MiB working set and its share of the link moves ${fmt(bandwidth)} MiB/s (${fmt(input.linkMbps)} Mbps shared by ${input.concurrent}): after ${first.result.passes.length} passes the pause would be ${fmt(first.result.blackoutMs)} ms, over the ${fmt(policy.maxBlackoutMs)} ms limit`;
  if (policy.nonConverging === 'refuse') {
    return { ...first.result, verdict: 'refused', reason: `would not converge: ${why}` };
  }
  const capped = build(Math.min(input.dirtyMiBps, bandwidth * CAP_SHARE), 'capped', null);
  if (!capped.converged) {
    return {
      ...capped.result,
      verdict: 'refused',
      reason: `would not converge even with the guest slowed to ${fmt(bandwidth * CAP_SHARE)} MiB/s: ${why}`,
    };
  }
  return {
    ...capped.result,
    reason: `guest slowed to ${fmt(bandwidth * CAP_SHARE)} MiB/s of writes during the move (${Math.round(CAP_SHARE * 100)} % of its link share) so it converges: ${why}`,
  };
}

/**
 * The guest's dirty rate and writable working set from what Fabric measures:
 * its CPU share (0–1 of its vCPUs) and memory. A busy vCPU writes about
 * 40 MiB/s of distinct-page traffic (a mid-range figure for server loads);
 * the working set is a quarter of memory, at least 256 MiB.
 */
export const DIRTY_MIBPS_PER_BUSY_VCPU = 40;

export function guestDirtying(
  vcpus: number,
  memoryMiB: number,
  cpuShare: number,
): { dirtyMiBps: number; workingSetMiB: number } {
  const share = Math.min(1, Math.max(0, cpuShare));
  return {
    dirtyMiBps: vcpus * share * DIRTY_MIBPS_PER_BUSY_VCPU,
    workingSetMiB: Math.min(memoryMiB, Math.max(256, memoryMiB / 4)),
  };
}

/**
 * Several migrations sharing one link, started together: each is predicted at
 * the full sharing, then the link is shared as processor sharing (those that
 * finish free their share for the rest), and each one's final copy is timed
 * at the sharing in effect when it ends. Returns the predictions in input order.
 */
export function predictSharedLink(
  inputs: readonly Omit<MigrationInput, 'concurrent'>[],
  policy: MigrationPolicy = DEFAULT_MIGRATION_POLICY,
): MigrationPrediction[] {
  const n = inputs.length;
  if (n === 0) return [];
  const alone = inputs.map((input) => predictMigration({ ...input, concurrent: n }, policy));
  const linkMbps = Math.min(...inputs.map((i) => i.linkMbps));
  const total = linkShareMiBps(linkMbps, 1);
  const order = alone.map((p, i) => ({ i, mib: p.sentMiB })).sort((a, b) => a.mib - b.mib);
  const out: MigrationPrediction[] = new Array(n);
  let clock = 0;
  let sentEach = 0;
  order.forEach(({ i, mib }, k) => {
    const running = n - k;
    clock += ((mib - sentEach) * running) / total;
    sentEach = mib;
    const p = alone[i] as MigrationPrediction;
    const input = inputs[i] as Omit<MigrationInput, 'concurrent'>;
    const atEnd = predictMigration({ ...input, concurrent: running }, policy);
    out[i] = { ...p, blackoutMs: atEnd.blackoutMs, totalSeconds: SETUP_SECONDS + clock };
  });
  return out;
}
