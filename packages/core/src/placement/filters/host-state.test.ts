import { describe, expect, it } from 'vitest';
import type { HostState } from '../snapshot';
import { aContext, aHost, aRequest } from '../testing/builders';
import { hostStateFilter } from './host-state';

describe('host-state filter', () => {
  it.each<[HostState, string | null]>([
    ['connected', null],
    ['maintenance', 'HOST_MAINTENANCE'],
    ['suspect', 'HOST_SUSPECT'],
    ['failed', 'HOST_FAILED'],
  ])('%s → %s', (state, code) => {
    const verdict = hostStateFilter.check(aHost({ id: 'h', state }), aContext(aRequest()));
    expect(verdict.ok ? null : verdict.code).toBe(code);
  });
});
