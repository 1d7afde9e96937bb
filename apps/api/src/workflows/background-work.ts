import type { Services } from '../composition';
import { monitorTickSeconds } from '../env';

/**
 * The API's background work, as scheduled workflows with one owner each:
 * every tick runs once across all API processes (its workflow id is the
 * schedule's name and time), so a rollup or a host's state change is never
 * done twice, and a process that stops hands the next tick to the others.
 *
 * - host monitor: hosts that missed heartbeats turn suspect, then failed; it
 *   decides only from stored timestamps, so a missed tick loses nothing.
 * - metering housekeeping: sample partitions ahead, old ones dropped, pending
 *   hourly and daily rollups (idempotent: recomputed whole from the level below).
 * - rebalancing: each cluster not 'off' whose interval has passed runs a round (its
 *   slot is unique per cluster, so a round is written and applied once).
 */
export function scheduleBackgroundWork(
  services: Pick<Services, 'workflows' | 'fabric' | 'metering' | 'ha' | 'rebalance'>,
  options: { monitorIntervalMs: number; log: (line: string) => void },
): void {
  services.workflows.schedule({
    name: 'host-monitor',
    everySeconds: monitorTickSeconds(options.monitorIntervalMs),
    run: async () => {
      const changes = await services.fabric.monitorTick();
      for (const c of changes) options.log(`host ${c.name}: ${c.from} → ${c.to}`);
    },
  });
  // High availability: a host silent for its cluster's detection timeout opens a failure event (ha-service.ts).
  services.workflows.schedule({
    name: 'ha-monitor',
    everySeconds: 1,
    run: async () => {
      for (const id of await services.ha.monitorTick()) options.log(`ha: failure event ${id} opened`);
    },
  });
  // Dynamic optimization: a look every minute; each cluster's own interval decides whether a round is due.
  services.workflows.schedule({
    name: 'rebalance',
    everySeconds: 60,
    run: async () => {
      for (const r of await services.rebalance.tick()) {
        const started = r.applied.filter((a) => a.ok).length;
        options.log(`rebalance ${r.clusterId}: ${r.round.summary}${started ? ` (${started} migrations started)` : ''}`);
      }
    },
  });
  services.workflows.schedule({
    name: 'metering-housekeeping',
    everySeconds: 30,
    run: async () => {
      await services.metering.housekeeping();
    },
  });
}
