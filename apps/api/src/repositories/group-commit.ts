/**
 * Group commit: callers submit one item each and await its own result, while
 * the items are written together, one statement for all that arrived while
 * the previous write was running. An idle queue writes a lone item at once
 * (no added latency); under load, batches grow by themselves with the rate,
 * so the number of round trips stays about constant while throughput rises.
 *
 * Items with the same `key` never share a batch nor run in two batches at
 * once (a later one waits for the next), so a statement that applies a batch
 * with `UPDATE … FROM unnest(…)` sees each row at most once, and one key's
 * items are written in the order they were submitted.
 */
export class GroupCommit<I, O> {
  private queue: { item: I; resolve: (out: O) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  /** Keys of the items being written now. */
  private readonly busyKeys = new Set<string>();

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: {
      /** Items with equal keys go in different batches; none: any items may share one. */
      key?: (item: I) => string;
      /** At most this many items in one statement. */
      maxBatch: number;
      /** Statements running at once (each holds a database connection). */
      maxInFlight: number;
    },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      const keys = this.options.key ? batch.map((entry) => this.options.key?.(entry.item) ?? '') : [];
      for (const k of keys) this.busyKeys.add(k);
      this.inFlight++;
      this.write(batch.map((entry) => entry.item))
        .then(
          (results) => {
            batch.forEach((entry, i) => {
              entry.resolve(results[i] as O);
            });
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .finally(() => {
          for (const k of keys) this.busyKeys.delete(k);
          this.inFlight--;
          this.drain();
        });
    }
  }

  /** The oldest items, up to maxBatch, skipping (and keeping, in order) those whose key is taken or being written. */
  private take() {
    const { key, maxBatch } = this.options;
    if (!key) return this.queue.splice(0, maxBatch);
    const batch: typeof this.queue = [];
    const rest: typeof this.queue = [];
    const keys = new Set<string>();
    for (const entry of this.queue) {
      const k = key(entry.item);
      if (batch.length < maxBatch && !keys.has(k) && !this.busyKeys.has(k)) {
        keys.add(k);
        batch.push(entry);
      } else {
        rest.push(entry);
      }
    }
    this.queue = rest;
    return batch;
  }
}
