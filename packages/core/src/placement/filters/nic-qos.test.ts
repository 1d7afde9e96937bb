import { describe, expect, it } from 'vitest';
import type { HostNicSnapshot } from '../snapshot';
import { aContext, aHost, aRequest } from '../testing/builders';
import { nicQosFilter } from './nic-qos';

const nic = (name: string, linkSpeedMbps: number, reservedMinMbps: number): HostNicSnapshot => ({
  name,
  linkSpeedMbps,
  reservedMinMbps,
});

describe('nic-qos filter', () => {
  it.each<[name: string, nics: HostNicSnapshot[], minimums: (number | undefined)[], code: string | null]>([
    ['no minimum asked', [], [undefined, undefined], null],
    ['weights only (0) are not admission-controlled', [nic('a', 1000, 1000)], [0], null],
    ['fits on the free NIC', [nic('a', 10_000, 9_000), nic('b', 10_000, 0)], [5_000], null],
    ['exactly the link speed', [nic('a', 10_000, 4_000)], [6_000], null],
    ['one Mbps over', [nic('a', 10_000, 4_000)], [6_001], 'NIC_BANDWIDTH_SHORT'],
    ['two reservations spread over two NICs', [nic('a', 10_000, 4_000), nic('b', 10_000, 4_000)], [6_000, 6_000], null],
    [
      'two reservations that only fit split, both too big together',
      [nic('a', 10_000, 5_000)],
      [3_000, 3_000],
      'NIC_BANDWIDTH_SHORT',
    ],
    ['a minimum on a host without NICs', [], [100], 'NIC_MISSING'],
  ])('%s → %s', (_name, nics, minimums, code) => {
    const request = aRequest({ nics: minimums.map((m) => (m === undefined ? {} : { minBandwidthMbps: m })) });
    const verdict = nicQosFilter.check(aHost({ id: 'h', nics }), aContext(request));
    expect(verdict.ok ? null : verdict.code).toBe(code);
  });
});
