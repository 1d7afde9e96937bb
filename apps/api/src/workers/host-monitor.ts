import type { FabricService } from '@fabric/core/fabric/fabric-service';

/**
 * Runs the host monitor every `intervalMs` in this process. Every API process
 * runs one; the pass itself takes a Postgres lock, so passes never overlap
 * and nothing is decided twice. State lives only in Postgres: a restarted
 * process picks up where the last pass left.
 */
export function startHostMonitor(options: { fabric: FabricService; intervalMs: number; log: (line: string) => void }): {
  stop(): Promise<void>;
} {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = options.fabric
      .monitorTick()
      .then((changes) => {
        for (const c of changes) options.log(`host ${c.name}: ${c.from} → ${c.to}`);
      })
      .catch((error: unknown) => options.log(`host monitor pass failed: ${String(error)}`))
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
