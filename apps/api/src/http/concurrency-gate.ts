/** A place in line, held while its request's body is read; entering trades it for a slot. */
export interface GatePlace {
  /** Waits for a slot (in arrival order) and resolves with its release function. */
  enter(): Promise<() => void>;
  /** Gives the place up without entering (the body never came, or was refused). */
  leave(): void;
}

/**
 * At most `limit` holders at once; up to `maxWaiting` more queue in arrival
 * order, and past that the gate says no (the caller answers "busy, retry
 * later"). Used to bound sample ingest: `limit` batches are written at once,
 * and at most `limit + maxWaiting` requests are past the door at all.
 *
 * A request takes a place (`tryReserve`) before its body is read and a slot
 * (`enter`) only once the body is in: a client that trickles its body holds
 * a place until the body deadline, never a writer's slot, so it delays no
 * one (issue 9: eight 1-byte/s uploads used to stall every host's samples).
 * Memory stays bounded by the places: at most `limit + maxWaiting` bodies
 * of at most SAMPLES_MAX_BODY_BYTES each.
 */
export class ConcurrencyGate {
  private active = 0;
  /** Places held by requests still reading their body. */
  private reading = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
  ) {}

  /** A place in line, or null when `limit + maxWaiting` requests already hold one. */
  tryReserve(): GatePlace | null {
    if (this.active + this.reading + this.waiting.length >= this.limit + this.maxWaiting) return null;
    this.reading += 1;
    let held = true;
    const giveUp = () => {
      if (!held) return false;
      held = false;
      this.reading -= 1;
      return true;
    };
    return {
      enter: async () => {
        if (!giveUp()) throw new Error('This place in line was already used');
        return this.enter();
      },
      leave: () => {
        giveUp();
      },
    };
  }

  /** A place and a slot at once: resolves once inside, or null when the line is full. */
  async tryEnter(): Promise<(() => void) | null> {
    const place = this.tryReserve();
    return place ? place.enter() : null;
  }

  private async enter(): Promise<() => void> {
    if (this.active >= this.limit) {
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
    return { active: this.active, reading: this.reading, waiting: this.waiting.length };
  }
}
