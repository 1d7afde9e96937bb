/**
 * The agent's copy of the page-level pre-copy simulation (the control plane
 * predicts with packages/core/src/mobility/migration-model.ts; the agent may
 * import only protocol schemas from core, so the few lines it runs live here):
 * the guest's writes land on random pages of its working set at a rate that
 * wanders, and each pass sends what the last one left dirty.
 */
const PAGE_BYTES = 4096;
const MIB = 1024 * 1024;
const LINK_EFFICIENCY = 0.9;
const SETUP_SECONDS = 0.4;
const SWITCHOVER_MS = 30;

export interface MigrationPolicy {
  readonly maxBlackoutMs: number;
  readonly maxPasses: number;
}

export interface MigrationInput {
  readonly memoryMiB: number;
  readonly workingSetMiB: number;
  readonly dirtyMiBps: number;
  readonly linkMbps: number;
  readonly concurrent: number;
  readonly deviceStateMiB?: number;
}

export interface PassPrediction {
  readonly pass: number;
  readonly mib: number;
  readonly seconds: number;
}

function linkShareMiBps(linkMbps: number, concurrent: number): number {
  return (linkMbps * 1e6 * LINK_EFFICIENCY) / 8 / MIB / Math.max(1, concurrent);
}

/** A seeded PRNG stream in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
  policy: MigrationPolicy,
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
