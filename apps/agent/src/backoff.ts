/**
 * Exponential backoff with jitter for talking to an API that is down.
 *
 * The delay doubles from `initialMs` up to `maxMs`; each delay is then spread by
 * ±`jitterRatio` so that hundreds of agents that lost the API at the same moment
 * do not all come back in the same millisecond (the thundering herd that
 * full-synchronised retries cause after a control-plane restart).
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt; 2 doubles. */
  factor: number;
  /** 0.2 spreads each delay over [0.8, 1.2] × the base, still capped at maxMs. */
  jitterRatio: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitterRatio: 0.2 };

/** The undisturbed delay before retry `attempt` (1-based). */
export function baseDelayMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.max(0, attempt - 1);
  // Math.min before the power would still overflow for huge attempts; cap the exponent instead.
  const capped = Math.min(exponent, 64);
  return Math.min(options.maxMs, options.initialMs * options.factor ** capped);
}

/** The delay before retry `attempt` (1-based), jittered with `random` in [0, 1). */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = baseDelayMs(attempt, options);
  const spread = 1 - options.jitterRatio + 2 * options.jitterRatio * random();
  return Math.round(Math.min(options.maxMs, Math.max(0, base * spread)));
}

/** Counts consecutive failures; `reset()` after a success starts over at `initialMs`. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records one more failure and returns how long to wait before the next try. */
  next(): { attempt: number; delayMs: number } {
    this.failures += 1;
    return { attempt: this.failures, delayMs: backoffDelayMs(this.failures, this.options, this.random) };
  }

  get attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
