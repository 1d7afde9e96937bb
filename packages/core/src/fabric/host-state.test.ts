import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type HostState,
  missedHeartbeats,
  nextStateFromSilence,
  DEFAULT_HEARTBEAT_POLICY as policy,
  stateAfterMaintenance,
  stateOnHeartbeat,
  validateHeartbeatPolicy,
} from './host-state';

const t0 = new Date('2026-01-01T00:00:00Z');
const after = (ms: number) => new Date(t0.getTime() + ms);

describe('nextStateFromSilence (10 s heartbeats, suspect after 3 missed, failed after 6)', () => {
  it.each<[HostState, number, HostState | null]>([
    ['connected', 0, null],
    ['connected', 29_999, null],
    ['connected', 30_000, 'suspect'],
    ['connected', 59_999, 'suspect'],
    ['connected', 60_000, 'failed'],
    ['suspect', 30_000, null],
    ['suspect', 59_999, null],
    ['suspect', 60_000, 'failed'],
    ['failed', 600_000, null],
    ['maintenance', 600_000, null],
  ])('%s, silent for %i ms → %s', (state, silentMs, expected) => {
    expect(nextStateFromSilence(state, t0, after(silentMs), policy)).toBe(expected);
  });

  it('never moves a host toward better health, whatever the timing', () => {
    const rank: Record<HostState, number> = { connected: 0, suspect: 1, failed: 2, maintenance: -1 };
    fc.assert(
      fc.property(
        fc.constantFrom<HostState>('connected', 'suspect', 'failed', 'maintenance'),
        fc.integer({ min: -60_000, max: 10_000_000 }),
        (state, silentMs) => {
          const next = nextStateFromSilence(state, t0, after(silentMs), policy);
          return next === null || (state !== 'maintenance' && rank[next] > rank[state]);
        },
      ),
    );
  });
});

describe('heartbeats and maintenance', () => {
  it('a heartbeat brings suspect and failed hosts back, and leaves the others', () => {
    expect(stateOnHeartbeat('suspect')).toBe('connected');
    expect(stateOnHeartbeat('failed')).toBe('connected');
    expect(stateOnHeartbeat('connected')).toBeNull();
    expect(stateOnHeartbeat('maintenance')).toBeNull();
  });

  it('leaving maintenance lands in the state the silence says', () => {
    expect(stateAfterMaintenance(t0, after(5_000), policy)).toBe('connected');
    expect(stateAfterMaintenance(t0, after(45_000), policy)).toBe('suspect');
    expect(stateAfterMaintenance(t0, after(3_600_000), policy)).toBe('failed');
  });

  it('counts whole missed intervals and never a negative number (clock skew)', () => {
    expect(missedHeartbeats(t0, after(-5_000), policy)).toBe(0);
    expect(missedHeartbeats(t0, after(25_000), policy)).toBe(2);
  });
});

describe('validateHeartbeatPolicy', () => {
  it('accepts the defaults and refuses nonsense with a reason', () => {
    expect(validateHeartbeatPolicy(policy)).toBeNull();
    expect(validateHeartbeatPolicy({ ...policy, heartbeatIntervalMs: 10 })).toMatch(/at least 100/);
    expect(validateHeartbeatPolicy({ ...policy, suspectAfterMissed: 0 })).toMatch(/suspect/);
    expect(validateHeartbeatPolicy({ ...policy, failedAfterMissed: 3 })).toMatch(/more missed heartbeats/);
  });
});
