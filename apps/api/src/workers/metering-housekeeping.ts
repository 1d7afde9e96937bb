import type { MeteringService } from '@fabric/core/metering/metering-service';

/**
 * Metering housekeeping in every API process: sample partitions created
 * ahead, old ones dropped, pending hourly rollups computed. Each step is
 * idempotent and rollups are claimed with SKIP LOCKED, so processes share it.
 */
export function startMeteringHousekeeping(options: {
  metering: MeteringService;
  intervalMs: number;
  log: (line: string) => void;
}): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = options.metering
      .housekeeping()
      .then(() => undefined)
      .catch((error: unknown) => options.log(`metering housekeeping failed (will retry): ${String(error)}`))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
