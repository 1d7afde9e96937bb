/**
 * Host health, decided from heartbeats. A host that misses `suspectAfterMissed`
 * heartbeats in a row is suspect; after `failedAfterMissed` it is failed. A
 * heartbeat brings a suspect or failed host back to connected. Maintenance is
 * set by an admin and is never changed by heartbeats or their absence.
 */
export const HOST_STATES = ['connected', 'suspect', 'failed', 'maintenance'] as const;
export type HostState = (typeof HOST_STATES)[number];

export interface HeartbeatPolicy {
  heartbeatIntervalMs: number;
  suspectAfterMissed: number;
  failedAfterMissed: number;
}

export const DEFAULT_HEARTBEAT_POLICY: HeartbeatPolicy = {
  heartbeatIntervalMs: 10_000,
  suspectAfterMissed: 3,
  failedAfterMissed: 6,
};

export function validateHeartbeatPolicy(policy: HeartbeatPolicy): string | null {
  if (!Number.isInteger(policy.heartbeatIntervalMs) || policy.heartbeatIntervalMs < 100) {
    return 'heartbeat interval must be a whole number of milliseconds, at least 100';
  }
  if (!Number.isInteger(policy.suspectAfterMissed) || policy.suspectAfterMissed < 1) {
    return 'suspect threshold must be at least 1 missed heartbeat';
  }
  if (!Number.isInteger(policy.failedAfterMissed) || policy.failedAfterMissed <= policy.suspectAfterMissed) {
    return 'failed threshold must be more missed heartbeats than the suspect threshold';
  }
  return null;
}

/** Whole heartbeat intervals elapsed since the last heartbeat (or registration). */
export function missedHeartbeats(lastSeenAt: Date, now: Date, policy: HeartbeatPolicy): number {
  const elapsed = now.getTime() - lastSeenAt.getTime();
  return elapsed <= 0 ? 0 : Math.floor(elapsed / policy.heartbeatIntervalMs);
}

/**
 * The state the monitor moves a host to, or null to leave it. Only moves
 * toward worse health: recovery happens when a heartbeat arrives
 * (`stateOnHeartbeat`), never because time passed.
 */
export function nextStateFromSilence(
  current: HostState,
  lastSeenAt: Date,
  now: Date,
  policy: HeartbeatPolicy,
): HostState | null {
  if (current === 'maintenance' || current === 'failed') return null;
  const missed = missedHeartbeats(lastSeenAt, now, policy);
  if (missed >= policy.failedAfterMissed) return 'failed';
  if (missed >= policy.suspectAfterMissed && current === 'connected') return 'suspect';
  return null;
}

/** The state after a heartbeat arrives, or null when it stays. */
export function stateOnHeartbeat(current: HostState): HostState | null {
  return current === 'suspect' || current === 'failed' ? 'connected' : null;
}

/** The state a host takes when an admin ends its maintenance. */
export function stateAfterMaintenance(lastSeenAt: Date, now: Date, policy: HeartbeatPolicy): HostState {
  const missed = missedHeartbeats(lastSeenAt, now, policy);
  if (missed >= policy.failedAfterMissed) return 'failed';
  if (missed >= policy.suspectAfterMissed) return 'suspect';
  return 'connected';
}

/**
 * The oldest last-heartbeat time at which a host in `state` is still fine, so
 * the monitor can select only hosts that need a change with one indexed query.
 */
export function silenceCutoff(now: Date, missed: number, policy: HeartbeatPolicy): Date {
  return new Date(now.getTime() - missed * policy.heartbeatIntervalMs);
}
