import type { ReplicationService } from '@fabric/core/replication/replication-service';

/**
 * The replication scheduler, health pass and sweep of this API process: a timer,
 * not a DBOS scheduled workflow, because each tick starts workflows (one per
 * due cycle) and DBOS starts none from inside a step. Several API processes
 * may tick at once: a cycle's workflow id is (relationship, generation, seq),
 * so the second start of a cycle runs nothing, and the seq/due-time written
 * after it is the same value from either process. Both passes read only what
 * is due (indexes on next_due_at and health_due_at).
 */
export function startReplicationLoops(options: {
  replication: ReplicationService;
  cycleTickMs: number;
  healthTickMs: number;
  /** How often the sweep runs after the one at start (ReplicationService.sweep); default a minute. */
  sweepMs?: number;
  log: (line: string) => void;
}): { stop: () => Promise<void> } {
  let stopped = false;
  const running = new Set<Promise<unknown>>();
  const loop = (name: string, everyMs: number, fn: () => Promise<unknown>, firstMs = everyMs) => {
    let timer: NodeJS.Timeout | null = null;
    const tick = async () => {
      if (stopped) return;
      const p = fn().catch((error: unknown) =>
        options.log(`replication ${name}: ${error instanceof Error ? error.message : String(error)}`),
      );
      running.add(p);
      await p;
      running.delete(p);
      if (!stopped) timer = setTimeout(tick, everyMs);
    };
    timer = setTimeout(tick, firstMs);
    return () => {
      if (timer) clearTimeout(timer);
    };
  };
  const stops = [
    loop('cycles', options.cycleTickMs, () => options.replication.tickCycles()),
    loop('health', options.healthTickMs, () => options.replication.tickHealth()),
    // What a crash left half-done (a deleted VM's replica never removed): at start, then every sweepMs.
    loop('sweep', options.sweepMs ?? 60_000, () => options.replication.sweep(), 0),
  ];
  return {
    async stop() {
      stopped = true;
      for (const s of stops) s();
      await Promise.allSettled([...running]);
    },
  };
}
