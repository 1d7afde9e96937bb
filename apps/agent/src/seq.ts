/**
 * The sequence number of authenticated messages: strictly increasing per host,
 * across restarts. The rule is max(previous + 1, unix ms): the clock makes it
 * survive a lost state file, the previous value (persisted) makes it survive a
 * clock that steps back.
 */
export interface SeqPersistence {
  loadLastSeq(): Promise<number>;
  saveLastSeq(lastSeq: number): Promise<void>;
}

/** How far past the previous seq to jump after the API called ours a replay. */
export const REPLAY_BUMP = 1000;

export class SeqCounter {
  private last = 0;

  private constructor(
    private readonly persistence: SeqPersistence,
    private readonly now: () => number,
  ) {}

  static async load(persistence: SeqPersistence, now: () => number): Promise<SeqCounter> {
    const counter = new SeqCounter(persistence, now);
    counter.last = await persistence.loadLastSeq();
    return counter;
  }

  /** The seq for the next message, recorded before it is sent so a crash mid-send cannot reuse it. */
  async next(): Promise<number> {
    this.last = Math.max(this.last + 1, this.now());
    await this.persistence.saveLastSeq(this.last);
    return this.last;
  }

  /**
   * After a REPLAYED answer: the API has seen a seq at or above ours (another
   * process with our credential, or a clock far behind). Jump well past both.
   */
  bumpAfterReplay(): void {
    this.last = Math.max(this.last + REPLAY_BUMP, this.now() + 1);
  }

  get lastSeq(): number {
    return this.last;
  }
}
