/**
 * The pre-copy protocol's figures and its page-level simulation, shared by the
 * control plane (migration-model.ts predicts with them; the benchmark compares
 * prediction and simulation) and the agent (its simulated hypervisor runs
 * simulatePreCopy to "observe" a migration). Pure and import-free apart from
 * the seeded PRNG, so the agent may import it (biome.json allows it).
 */
import { seededRandom } from '../placement/seeded-order';

export { seededRandom };

export const PAGE_BYTES = 4096;
const MIB = 1024 * 1024;

/** Usable fraction of a link for migration traffic (TCP, framing). */
export const LINK_EFFICIENCY = 0.9;
/** Fixed time for the setup (skeleton VM, memory reserved) and the switch-over after the blackout. */
export const SETUP_SECONDS = 0.4;
export const SWITCHOVER_MS = 30;

/** The limits pre-copy runs under. */
export interface PreCopyLimits {
  /** Longest pause the VM may have (the final copy). Default 500 ms. */
  readonly maxBlackoutMs: number;
  /** Pre-copy passes at most (the first, full one included). Default 10. */
  readonly maxPasses: number;
}

export interface MigrationInput {
  readonly memoryMiB: number;
  /** Writable working set, MiB (≤ memory). */
  readonly workingSetMiB: number;
  /** Page writes per second the guest does, in MiB/s (4 KiB pages × rate). */
  readonly dirtyMiBps: number;
  /** The migration network's speed, Mbps. */
  readonly linkMbps: number;
  /** Migrations sharing the link at once, this one included (≥ 1). */
  readonly concurrent: number;
  /** CPU and device state sent during the blackout. Default 8 MiB. */
  readonly deviceStateMiB?: number;
}

export interface PassPrediction {
  readonly pass: number;
  readonly mib: number;
  readonly seconds: number;
}

export function linkShareMiBps(linkMbps: number, concurrent: number): number {
  return (linkMbps * 1e6 * LINK_EFFICIENCY) / 8 / MIB / Math.max(1, concurrent);
}

export interface SimulatedMigration {
  readonly passes: readonly PassPrediction[];
  readonly precopySeconds: number;
  readonly blackoutMs: number;
  readonly totalSeconds: number;
  readonly sentMiB: number;
  readonly converged: boolean;
}

/**
 * A page-level run of the same protocol with noise: the guest's rate wanders
 * (±`jitter`, redrawn every 100 ms of simulated time) and its writes land on
 * random pages of the working set (re-dirtying a page already dirty costs
 * nothing). `concurrentAt(t)` says how many migrations share the link at
 * simulated time t (others start and end). What an agent "observes".
 */
export function simulatePreCopy(
  input: MigrationInput,
  policy: PreCopyLimits,
  random: () => number,
  options: { jitter?: number; concurrentAt?: (seconds: number) => number; dirtyCapMiBps?: number } = {},
): SimulatedMigration {
  const jitter = options.jitter ?? 0.3;
  const device = input.deviceStateMiB ?? 8;
  const wsPages = Math.max(1, Math.round((Math.min(input.workingSetMiB, input.memoryMiB) * MIB) / PAGE_BYTES));
  const dirty = new Uint8Array(wsPages);
  let dirtyCount = 0;
  const rateCap = options.dirtyCapMiBps ?? Number.POSITIVE_INFINITY;
  const step = 0.1;
  let clock = SETUP_SECONDS;
  let toSendMiB = input.memoryMiB;
  const passes: PassPrediction[] = [];
  let converged = false;
  const bandwidthAt = (t: number) => linkShareMiBps(input.linkMbps, options.concurrentAt?.(t) ?? input.concurrent);
  for (let pass = 0; pass < policy.maxPasses; pass++) {
    // Send `toSendMiB` while the guest keeps writing.
    const started = clock;
    dirty.fill(0);
    dirtyCount = 0;
    let left = toSendMiB;
    while (left > 1e-9) {
      const bw = bandwidthAt(clock);
      const dt = Math.min(step, left / bw);
      left -= bw * dt;
      const rate = Math.min(rateCap, input.dirtyMiBps * (1 + jitter * (2 * random() - 1)));
      let writes = (rate * dt * MIB) / PAGE_BYTES;
      // Whole writes, the fraction by chance.
      let n = Math.floor(writes);
      writes -= n;
      if (random() < writes) n += 1;
      for (let k = 0; k < n; k++) {
        const page = Math.floor(random() * wsPages);
        if (dirty[page] === 0) {
          dirty[page] = 1;
          dirtyCount += 1;
        }
      }
      clock += dt;
    }
    passes.push({ pass, mib: toSendMiB, seconds: clock - started });
    const next = (dirtyCount * PAGE_BYTES) / MIB;
    toSendMiB = next;
    if (((next + device) / bandwidthAt(clock)) * 1000 + SWITCHOVER_MS <= policy.maxBlackoutMs) {
      converged = true;
      break;
    }
    if (pass > 0 && next >= (passes[pass]?.mib ?? 0) * 0.95) break;
  }
  const blackoutMs = ((toSendMiB + device) / bandwidthAt(clock)) * 1000 + SWITCHOVER_MS;
  const precopySeconds = passes.reduce((s, p) => s + p.seconds, 0);
  return {
    passes,
    precopySeconds,
    blackoutMs,
    totalSeconds: SETUP_SECONDS + precopySeconds + blackoutMs / 1000,
    sentMiB: passes.reduce((s, p) => s + p.mib, 0) + toSendMiB + device,
    converged,
  };
}
