import { type Clock, systemClock } from '../shared/clock';

/**
 * How many refusals of unauthenticated callers (a bad agent credential, a
 * throttled or unreadable sign-in) are written to the audit log one by one.
 * Every such refusal costs a stranger nothing, so without a budget anyone
 * could grow the append-only audit table without limit. Within a minute, a
 * source gets `perSourcePerMinute` rows and all sources together
 * `perMinute`; the rest are counted, and the count is written on the
 * source's next row (`details.unlogged`: refusals not written since its
 * previous row). Per process: N API processes write at most N times as many.
 */
export interface RefusalBudgetPolicy {
  perSourcePerMinute: number;
  perMinute: number;
  /** Sources remembered at once (memory stays bounded); the least recent is forgotten first. */
  maxSources: number;
}

export const DEFAULT_REFUSAL_BUDGET: RefusalBudgetPolicy = {
  perSourcePerMinute: 10,
  perMinute: 100,
  maxSources: 10_000,
};

interface SourceState {
  minute: number;
  written: number;
  unlogged: number;
}

export type RefusalVerdict = { write: true; unlogged: number } | { write: false };

export class RefusalBudget {
  private readonly sources = new Map<string, SourceState>();
  private minute = -1;
  private writtenThisMinute = 0;

  constructor(
    private readonly deps: { clock: Clock; policy: RefusalBudgetPolicy } = {
      clock: systemClock,
      policy: DEFAULT_REFUSAL_BUDGET,
    },
  ) {}

  private get policy() {
    return this.deps.policy;
  }

  /** Whether this refusal from `source` is written; if so, how many before it were not. */
  admit(source: string): RefusalVerdict {
    const minute = Math.floor(this.deps.clock.now().getTime() / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.writtenThisMinute = 0;
    }
    const state = this.sources.get(source) ?? { minute, written: 0, unlogged: 0 };
    if (state.minute !== minute) {
      state.minute = minute;
      state.written = 0;
    }
    // Re-inserted so that the map's order is least recently seen first.
    this.sources.delete(source);
    this.sources.set(source, state);
    if (this.sources.size > this.policy.maxSources) {
      const oldest = this.sources.keys().next();
      if (!oldest.done) this.sources.delete(oldest.value);
    }
    if (state.written >= this.policy.perSourcePerMinute || this.writtenThisMinute >= this.policy.perMinute) {
      state.unlogged++;
      return { write: false };
    }
    state.written++;
    this.writtenThisMinute++;
    const unlogged = state.unlogged;
    state.unlogged = 0;
    return { write: true, unlogged };
  }
}
