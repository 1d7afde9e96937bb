import type { InvoiceService } from '@fabric/core/chargeback/invoice-service';
import type { MeteringService } from '@fabric/core/metering/metering-service';

/**
 * Metering housekeeping in every API process: sample partitions created
 * ahead, old ones dropped, pending hourly rollups computed, and month closes
 * that a process died in the middle of finished. Each step is idempotent;
 * rollups are claimed with SKIP LOCKED and closes by lease, so processes
 * share it.
 */
export function startMeteringHousekeeping(options: {
  metering: MeteringService;
  invoices?: InvoiceService;
  intervalMs: number;
  log: (line: string) => void;
}): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = options.metering
      .housekeeping()
      .then(() => options.invoices?.resumeAbandonedCloses())
      .then((resumed) => {
        if (resumed?.length)
          options.log(`finished closing ${resumed.join(', ')} (left unfinished by a stopped process)`);
      })
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
