import { formatSeconds } from '../shared/units';
import type { BmcPowerOffOutcome } from './bmc';
import type { FenceMethod } from './ha-settings';

/**
 * Is a failed host known not to run its VMs any more, so they may restart elsewhere? The rule of
 * docs/high-availability.md, in the order it is applied:
 * 1. the host was removed: nothing of it runs;
 * 2. fence method bmc and its BMC confirmed PowerState Off: powered off, whatever its OS does
 *    (before "back": a heartbeat that raced the power-off cannot bring the VMs back);
 * 3. fence method self-confirm and the host recorded its isolation response after its last heartbeat;
 * 4. the host is heard from again before it was fenced: the event is cancelled, its VMs stay there;
 * 5. the lease ran out (no heartbeat for the fencing timeout): it has applied its isolation response.
 *    Also the fallback of bmc when the power-off failed, and of self-confirm while the host is silent.
 *    Not with the isolation response keep-running: a cut-off host then keeps its VMs running past its
 *    lease, so only its BMC can fence it, and a failed power-off is tried again rather than trusted.
 * Otherwise wait.
 */
export type FenceDecision = { kind: 'fenced'; via: string } | { kind: 'cancelled'; why: string } | { kind: 'wait' };

export interface FenceFacts {
  method: FenceMethod;
  hostName: string;
  removed: boolean;
  /** The host recorded applying its isolation response after the event's last heartbeat. */
  selfFenced: boolean;
  /** A heartbeat arrived after the event's last heartbeat. */
  back: boolean;
  /** Since the event's last heartbeat. */
  silentMs: number;
  fencingTimeoutMs: number;
  /** The host's isolation response powers off or shuts down its VMs (not keep-running): its lease means fenced. */
  leaseFences: boolean;
  /** The BMC power-off's outcome (fence method bmc); null when none was tried. */
  bmc: BmcPowerOffOutcome | null;
}

export function decideFence(f: FenceFacts): FenceDecision {
  if (f.removed) return { kind: 'fenced', via: 'The host was removed' };
  if (f.method === 'bmc' && f.bmc?.ok) {
    return {
      kind: 'fenced',
      via: f.bmc.alreadyOff
        ? `${f.hostName}'s BMC reports it powered off (PowerState Off at ${f.bmc.at})`
        : `Powered off through the BMC at ${f.bmc.at}`,
    };
  }
  if (f.method === 'self-confirm' && f.selfFenced) {
    return { kind: 'fenced', via: `${f.hostName} confirmed it applied its isolation response (self-fenced)` };
  }
  if (f.back) {
    return { kind: 'cancelled', why: `${f.hostName} is heard from again before it was fenced: its VMs stay there` };
  }
  if (f.silentMs >= f.fencingTimeoutMs && f.leaseFences) {
    const fallback = f.method === 'bmc' && f.bmc && !f.bmc.ok ? ' (the BMC power-off failed: lease fallback)' : '';
    return {
      kind: 'fenced',
      via: `Lease expired: no heartbeat from ${f.hostName} for ${formatSeconds(f.fencingTimeoutMs)}, so it has applied its isolation response${fallback}`,
    };
  }
  return { kind: 'wait' };
}

/** With fence method bmc: try the power-off now? First at once, then again every `retryEvery` checks while it fails. */
export function bmcAttemptDue(
  method: FenceMethod,
  last: BmcPowerOffOutcome | null,
  checksSinceAttempt: number,
  retryEvery: number,
): boolean {
  if (method !== 'bmc') return false;
  if (!last) return true;
  return !last.ok && checksSinceAttempt >= retryEvery;
}
