import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectiveQos, pinToUplinks, type QosFlow, shareBandwidth, shareHost } from './qos';

/** Relative slack for float sums (the allocator works in exact Mbps, not rounded). */
const EPS = 1e-6;

/** A NIC's vNICs: offered load, optional cap, optional weight, optional absolute minimum. */
const flowsArb = fc.array(
  fc.record({
    offeredMbps: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 40_000, noNaN: true })),
    maximumMbps: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: undefined }),
    weight: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    minimumMbps: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 12 },
);

function toFlows(raw: { offeredMbps: number; maximumMbps?: number; weight?: number; minimumMbps?: number }[]) {
  // A minimum above the port's maximum is refused by the API (QOS_MINIMUM_ABOVE_MAXIMUM): never generated.
  return raw.map(
    (r, i): QosFlow => ({
      nicId: `nic-${i}`,
      ...r,
      minimumMbps:
        r.minimumMbps !== undefined && r.maximumMbps !== undefined
          ? Math.min(r.minimumMbps, r.maximumMbps)
          : r.minimumMbps,
    }),
  );
}

describe('weighted max-min sharing of a host NIC', () => {
  it('never gives a vNIC more than it offers or its maximum, and never more than the NIC in all', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 25_000 }), flowsArb, (capacity, raw) => {
        const flows = toFlows(raw);
        const shares = shareBandwidth(capacity, flows);
        const total = shares.reduce((s, x) => s + x.achievedMbps, 0);
        expect(total).toBeLessThanOrEqual(capacity * (1 + EPS) + EPS);
        shares.forEach((s, i) => {
          const f = flows[i] as QosFlow;
          expect(s.achievedMbps).toBeGreaterThanOrEqual(0);
          expect(s.achievedMbps).toBeLessThanOrEqual(f.offeredMbps);
          if (f.maximumMbps !== undefined) expect(s.achievedMbps).toBeLessThanOrEqual(f.maximumMbps);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('gives every vNIC min(offered, its minimum) when the minimums fit the NIC, whatever the others offer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 25_000 }), flowsArb, (capacity, raw) => {
        const flows = toFlows(raw);
        fc.pre(flows.reduce((s, f) => s + (f.minimumMbps ?? 0), 0) <= capacity);
        shareBandwidth(capacity, flows).forEach((s, i) => {
          const f = flows[i] as QosFlow;
          const guaranteed = Math.min(f.offeredMbps, f.minimumMbps ?? 0);
          expect(s.achievedMbps).toBeGreaterThanOrEqual(guaranteed * (1 - EPS) - EPS);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('is work-conserving: the NIC is full, or every vNIC has all it wants (up to its maximum)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 25_000 }), flowsArb, (capacity, raw) => {
        const flows = toFlows(raw);
        const shares = shareBandwidth(capacity, flows);
        const total = shares.reduce((s, x) => s + x.achievedMbps, 0);
        const wanted = flows.reduce(
          (s, f) => s + Math.min(f.offeredMbps, f.maximumMbps ?? Number.POSITIVE_INFINITY),
          0,
        );
        expect(total).toBeCloseTo(Math.min(capacity, wanted), 3);
        // Only a vNIC that got less than it wanted may say it was limited by its share.
        shares.forEach((s, i) => {
          const f = flows[i] as QosFlow;
          const want = Math.min(f.offeredMbps, f.maximumMbps ?? Number.POSITIVE_INFINITY);
          if (s.limitedBy !== 'share') expect(s.achievedMbps).toBeCloseTo(want, 6);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('is fair by weight above the floors: a contended vNIC never gets less per weight than one that got more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 25_000 }), flowsArb, (capacity, raw) => {
        const flows = toFlows(raw).map((f) => ({ ...f, minimumMbps: undefined }));
        const shares = shareBandwidth(capacity, flows);
        const level = (i: number) => (shares[i]?.achievedMbps ?? 0) / (flows[i]?.weight ?? 1);
        shares.forEach((s, i) => {
          if (s.limitedBy !== 'share') return;
          for (let j = 0; j < shares.length; j++) expect(level(i)).toBeGreaterThanOrEqual(level(j) * (1 - EPS) - EPS);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a noisy neighbour cannot push a VM below its minimum nor itself above its maximum (1 GbE)', () => {
    const shares = shareBandwidth(1_000, [
      { nicId: 'noisy', offeredMbps: 5_000, maximumMbps: 700 },
      { nicId: 'quiet', offeredMbps: 900, minimumMbps: 400 },
    ]);
    expect(shares).toEqual([
      { nicId: 'noisy', achievedMbps: 500, limitedBy: 'share' },
      { nicId: 'quiet', achievedMbps: 500, limitedBy: 'share' },
    ]);
    // Weighted: the quiet VM's weight 3 gives it three quarters above the floors.
    const weighted = shareBandwidth(1_000, [
      { nicId: 'noisy', offeredMbps: 5_000, maximumMbps: 700 },
      { nicId: 'quiet', offeredMbps: 900, weight: 3 },
    ]);
    expect(weighted.map((s) => s.achievedMbps)).toEqual([250, 750]);
    // Alone, the noisy one is held at its maximum.
    expect(shareBandwidth(1_000, [{ nicId: 'noisy', offeredMbps: 5_000, maximumMbps: 700 }])).toEqual([
      { nicId: 'noisy', achievedMbps: 700, limitedBy: 'maximum' },
    ]);
    // A floor above the equal share holds: 800 guaranteed of 1,000.
    const floor = shareBandwidth(1_000, [
      { nicId: 'noisy', offeredMbps: 5_000 },
      { nicId: 'quiet', offeredMbps: 900, minimumMbps: 800 },
    ]);
    expect(floor.map((s) => s.achievedMbps)).toEqual([200, 800]);
  });
});

describe('pinning vNICs to host NICs', () => {
  const uplinks = [
    { name: 'eth0', linkSpeedMbps: 10_000 },
    { name: 'eth1', linkSpeedMbps: 10_000 },
    { name: 'down', linkSpeedMbps: 0 },
  ];

  it('spreads minimums most-free-first and the rest by count, never on a NIC without link', () => {
    const pins = pinToUplinks(uplinks, [
      { nicId: 'a', minimumMbps: 6_000 },
      { nicId: 'b', minimumMbps: 5_000 },
      { nicId: 'c', minimumMbps: 3_000 },
      { nicId: 'd' },
      { nicId: 'e' },
    ]);
    expect(Object.fromEntries([...pins].map(([id, u]) => [id, u.name]))).toEqual({
      a: 'eth0',
      b: 'eth1',
      c: 'eth1',
      d: 'eth0',
      e: 'eth0',
    });
    expect(pinToUplinks([{ name: 'down', linkSpeedMbps: 0 }], [{ nicId: 'a' }]).size).toBe(0);
  });

  it('shares each host NIC on its own; a host with no NIC up limits vNICs by their maximum only', () => {
    const shares = shareHost(
      [{ name: 'eth0', linkSpeedMbps: 1_000 }],
      [
        { nicId: 'x', offeredMbps: 2_000 },
        { nicId: 'y', offeredMbps: 2_000 },
      ],
    );
    expect(shares.map((s) => [s.nicId, s.achievedMbps, s.uplink])).toEqual([
      ['x', 500, 'eth0'],
      ['y', 500, 'eth0'],
    ]);
    expect(shareHost([], [{ nicId: 'x', offeredMbps: 2_000, maximumMbps: 300 }])[0]).toMatchObject({
      achievedMbps: 300,
      limitedBy: 'maximum',
      uplink: null,
    });
  });
});

describe('effective QoS of a vNIC', () => {
  it('takes the admitted minimum, the port weight over the NIC weight, and the lower maximum', () => {
    const nic = { minimumBandwidthMbps: 200, minimumBandwidthWeight: null, maximumBandwidthMbps: 2_000 };
    expect(effectiveQos(nic, { maximumBandwidthMbps: 800, minimumBandwidthWeight: 5 })).toEqual({
      minimumMbps: 200,
      weight: 5,
      maximumMbps: 800,
    });
    expect(effectiveQos({ ...nic, minimumBandwidthMbps: null, maximumBandwidthMbps: null }, {})).toBeUndefined();
  });
});
