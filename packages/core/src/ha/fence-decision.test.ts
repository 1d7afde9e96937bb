import { describe, expect, it } from 'vitest';
import type { BmcPowerOffOutcome } from './bmc';
import { bmcAttemptDue, decideFence, type FenceFacts } from './fence-decision';

const OFF: BmcPowerOffOutcome = { ok: true, at: '2026-12-04T18:00:05.000Z', alreadyOff: false };
const REFUSED: BmcPowerOffOutcome = {
  ok: false,
  kind: 'refused',
  reason: 'the BMC at http://bmc refused the credentials (HTTP 401)',
};

/** A host silent for 5 s of a 30 s lease, with the power-off isolation response. */
function facts(overrides: Partial<FenceFacts>): FenceFacts {
  return {
    method: 'lease',
    hostName: 'hv-07',
    removed: false,
    selfFenced: false,
    back: false,
    silentMs: 5000,
    fencingTimeoutMs: 30_000,
    leaseFences: true,
    bmc: null,
    ...overrides,
  };
}

describe('decideFence', () => {
  it.each<[string, Partial<FenceFacts>, string]>([
    ['lease: silent less than the lease', {}, 'wait'],
    ['lease: the lease ran out', { silentMs: 30_000 }, 'fenced'],
    ['lease: the host is back first', { back: true, silentMs: 40_000 }, 'cancelled'],
    ['lease: self-fencing is not trusted', { selfFenced: true }, 'wait'],
    ['self-confirm: the host confirmed', { method: 'self-confirm', selfFenced: true }, 'fenced'],
    ['self-confirm: silent, lease not over', { method: 'self-confirm' }, 'wait'],
    ['bmc: powered off, before the lease', { method: 'bmc', bmc: OFF }, 'fenced'],
    ['bmc: powered off wins over a racing heartbeat', { method: 'bmc', bmc: OFF, back: true }, 'fenced'],
    ['bmc: powered off, even with keep-running', { method: 'bmc', bmc: OFF, leaseFences: false }, 'fenced'],
    ['bmc: refused, lease not over', { method: 'bmc', bmc: REFUSED }, 'wait'],
    ['bmc: refused, lease over: fallback', { method: 'bmc', bmc: REFUSED, silentMs: 31_000 }, 'fenced'],
    [
      'bmc: refused with keep-running: the lease proves nothing',
      { method: 'bmc', bmc: REFUSED, silentMs: 600_000, leaseFences: false },
      'wait',
    ],
    ['bmc: a powered-off result is ignored by another method', { method: 'lease', bmc: OFF }, 'wait'],
    ['any: the host was removed', { method: 'bmc', removed: true }, 'fenced'],
  ])('%s → %s', (_name, overrides, kind) => {
    expect(decideFence(facts(overrides)).kind).toBe(kind);
  });

  it('says how the host was fenced, for the timeline', () => {
    expect(decideFence(facts({ method: 'bmc', bmc: OFF }))).toEqual({
      kind: 'fenced',
      via: 'Powered off through the BMC at 2026-12-04T18:00:05.000Z',
    });
    const fallback = decideFence(facts({ method: 'bmc', bmc: REFUSED, silentMs: 30_000 }));
    expect(fallback.kind === 'fenced' && fallback.via).toContain('Lease expired');
    // Said in seconds, as the settings are set: not "for 30000 ms".
    expect(fallback.kind === 'fenced' && fallback.via).toContain('for 30 s, so it has applied');
    expect(fallback.kind === 'fenced' && fallback.via).toContain('the BMC power-off failed: lease fallback');
  });
});

describe('bmcAttemptDue', () => {
  it('tries at once, again only while it fails and after the retry interval, never for other methods', () => {
    expect(bmcAttemptDue('bmc', null, 0, 5)).toBe(true);
    expect(bmcAttemptDue('bmc', REFUSED, 4, 5)).toBe(false);
    expect(bmcAttemptDue('bmc', REFUSED, 5, 5)).toBe(true);
    expect(bmcAttemptDue('bmc', OFF, 50, 5)).toBe(false);
    expect(bmcAttemptDue('lease', null, 0, 5)).toBe(false);
    expect(bmcAttemptDue('self-confirm', null, 0, 5)).toBe(false);
  });
});
