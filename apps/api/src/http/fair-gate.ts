/**
 * At most `limit` holders at once across all keys (a tenant each), at most
 * `perKeyLimit` of them of one key, so one tenant never holds every slot;
 * callers wait in a queue per key and a freed slot goes to the keys in turn
 * (round robin), so a light tenant waits for one slot to free, not behind a
 * heavy tenant's whole backlog as in one FIFO. Past `maxWaitingPerKey` a key's
 * caller is refused at once (null): the caller answers 429.
 */
export class FairGate {
  private active = 0;
  private readonly activeOf = new Map<string, number>();
  /** Keys with someone waiting, in turn order; each key's waiters in arrival order. */
  private readonly queues = new Map<string, (() => void)[]>();

  constructor(private readonly limits: { limit: number; perKeyLimit: number; maxWaitingPerKey: number }) {}

  /** Resolves with a release function once inside, or null when `key`'s queue is full. */
  async tryEnter(key: string): Promise<(() => void) | null> {
    const queue = this.queues.get(key);
    if (queue === undefined && this.canEnter(key)) {
      this.take(key);
    } else {
      if ((queue?.length ?? 0) >= this.limits.maxWaitingPerKey) return null;
      // The slot is taken for us by `dispatch` before we are woken.
      await new Promise<void>((resolve) => {
        const own = this.queues.get(key);
        if (own) own.push(resolve);
        else this.queues.set(key, [resolve]);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      const left = (this.activeOf.get(key) ?? 1) - 1;
      if (left > 0) this.activeOf.set(key, left);
      else this.activeOf.delete(key);
      this.dispatch();
    };
  }

  private canEnter(key: string): boolean {
    return this.active < this.limits.limit && (this.activeOf.get(key) ?? 0) < this.limits.perKeyLimit;
  }

  private take(key: string) {
    this.active += 1;
    this.activeOf.set(key, (this.activeOf.get(key) ?? 0) + 1);
  }

  /** Hands free slots to waiting keys in turn; a served key goes to the back of the turn order. */
  private dispatch() {
    let progressed = true;
    while (progressed && this.active < this.limits.limit) {
      progressed = false;
      for (const [key, queue] of this.queues) {
        if (!this.canEnter(key)) continue;
        const next = queue.shift();
        this.queues.delete(key);
        if (queue.length) this.queues.set(key, queue);
        if (next === undefined) continue;
        this.take(key);
        next();
        progressed = true;
        break;
      }
    }
  }

  get load() {
    let waiting = 0;
    for (const queue of this.queues.values()) waiting += queue.length;
    return { active: this.active, waiting };
  }
}
