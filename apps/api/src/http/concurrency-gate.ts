/**
 * At most `limit` holders at once; up to `maxWaiting` more queue in arrival
 * order, and past that `tryEnter` says no (the caller answers "busy, retry
 * later"). Used to bound what sample ingest holds in memory: a waiting
 * request's body is not read until it enters, so nothing accumulates however
 * many agents send at once.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
  ) {}

  /** Resolves with a release function once inside, or null when the queue is full. */
  async tryEnter(): Promise<(() => void) | null> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.maxWaiting) return null;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line (active stays the same).
      if (next) next();
      else this.active -= 1;
    };
  }

  get load() {
    return { active: this.active, waiting: this.waiting.length };
  }
}
