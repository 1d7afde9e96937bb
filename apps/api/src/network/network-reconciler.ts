import type { EventEmitter } from 'node:events';
import type { NetworkService } from '@fabric/core/network/network-service';

/**
 * Keeps every host's compiled network policy current: a VM created, deleted,
 * started or moved (a 'vm' event from any API process) or any change at all
 * (a periodic pass, level-triggered) recompiles; only hosts whose policy
 * changed get a new version. Passes never overlap in a process; across
 * processes the compile lock serialises them.
 */
export function startNetworkReconciler(deps: {
  network: NetworkService;
  events: EventEmitter;
  intervalMs: number;
  log: (line: string) => void;
}) {
  let running = false;
  let again = false;
  let stopped = false;
  const pass = async (trigger: string) => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const out = await deps.network.reconcile(trigger);
      if (out.changedHosts.length)
        deps.log(
          `network policy: ${out.changedHosts.length} host(s) changed (${trigger}); isolation ${out.isolationOk ? 'proved' : 'VIOLATED'}`,
        );
    } catch (error) {
      if (!stopped) deps.log(`network reconcile failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running = false;
      if (again && !stopped) {
        again = false;
        void pass('coalesced');
      }
    }
  };
  const onVm = () => void pass('vm change');
  deps.events.on('vm', onVm);
  const timer = setInterval(() => void pass('periodic'), deps.intervalMs);
  timer.unref();
  void pass('start');
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      deps.events.off('vm', onVm);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
