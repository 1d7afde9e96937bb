import { describe, expect, it } from 'vitest';
import { judgeSamples, MAX_CLOCK_SKEW_MS, type SampleFacts } from './sample-plausibility';
import type { VmSample } from './sample-protocol.schema';

const NOW = new Date('2026-11-20T12:00:30Z');
const VM = '11111111-1111-4111-8111-111111111111';
const OTHER_VM = '22222222-2222-4222-8222-222222222222';

/** A 2-vCPU, 4 GiB VM created on 1 November on a 2,000 MHz host registered in October. */
const facts = (over: Partial<SampleFacts> = {}): SampleFacts => ({
  host: { registeredAt: new Date('2026-10-01T00:00:00Z'), cpuMhz: 2000 },
  vms: new Map([[VM, { createdAt: new Date('2026-11-01T00:00:00Z'), vcpus: 2, maximumMemoryMiB: 4096 }]]),
  overlaps: [],
  ...over,
});

const sample = (at: string, over: Partial<VmSample> = {}): VmSample => ({
  vmId: VM,
  at,
  intervalSeconds: 60,
  cpuAvgMhz: 1000,
  memoryAvgMiB: 4096,
  memoryMinMiB: 4096,
  memoryMaxMiB: 4096,
  diskAllocatedGiB: 50,
  diskReadBytes: 1_000,
  diskWriteBytes: 1_000,
  networkInInternetBytes: 1_000,
  networkOutInternetBytes: 1_000,
  networkInDatacenterBytes: 1_000,
  networkOutDatacenterBytes: 1_000,
  ...over,
});

const codes = (samples: VmSample[], f = facts()) => judgeSamples(samples, f, NOW).map((r) => [r.index, r.code]);

describe('judgeSamples', () => {
  it('takes what a real host sends: aligned minutes of a VM within its size, up to now', () => {
    const ok = [
      sample('2026-11-20T11:59:00Z'),
      sample('2026-11-20T12:00:00Z', { cpuAvgMhz: 4000 }),
      // The first interval after the VM's creation may have begun before it.
      sample('2026-11-01T00:01:00Z'),
      sample('2026-11-02T00:00:00Z', {
        intervalSeconds: 3600,
        networkAcls: [{ acl: 'x', inBytes: 2000, outBytes: 0 }],
      }),
    ];
    expect(codes(ok)).toEqual([]);
  });

  it.each([
    ['a day ahead', sample('2026-11-21T12:00:00Z'), 'SAMPLE_IN_FUTURE'],
    ['in 2027', sample('2027-01-15T00:00:00Z'), 'SAMPLE_IN_FUTURE'],
    ['in 2200', sample('2200-01-01T00:00:00Z'), 'SAMPLE_IN_FUTURE'],
    ['off the minute', sample('2026-11-20T11:59:30Z'), 'SAMPLE_NOT_ALIGNED'],
    ['an hour ending at a minute', sample('2026-11-20T11:01:00Z', { intervalSeconds: 3600 }), 'SAMPLE_NOT_ALIGNED'],
    ['before the host registered', sample('2026-09-30T00:00:00Z'), 'SAMPLE_BEFORE_HOST'],
    ['in 2000', sample('2000-01-01T00:00:00Z'), 'SAMPLE_BEFORE_HOST'],
    ['before the VM was created', sample('2026-10-31T23:00:00Z'), 'SAMPLE_BEFORE_VM'],
    [
      'more memory than the VM has',
      sample('2026-11-20T12:00:00Z', { memoryAvgMiB: 8192, memoryMinMiB: 8192, memoryMaxMiB: 8192 }),
      'SAMPLE_MEMORY_ABOVE_VM',
    ],
    ['more CPU than 2 vCPUs × 2,000 MHz', sample('2026-11-20T12:00:00Z', { cpuAvgMhz: 4000.5 }), 'SAMPLE_CPU_ABOVE_VM'],
    [
      'disk reads of 2^53 bytes',
      sample('2026-11-20T12:00:00Z', { diskReadBytes: 2 ** 53 - 1 }),
      'SAMPLE_DISK_IMPLAUSIBLE',
    ],
    [
      'network bytes past 1 Tbit/s',
      sample('2026-11-20T12:00:00Z', { networkOutInternetBytes: 60 * 125e9 + 1 }),
      'SAMPLE_NETWORK_IMPLAUSIBLE',
    ],
    [
      'a metered ACL above the traffic it is part of',
      sample('2026-11-20T12:00:00Z', { networkAcls: [{ acl: 'backup', inBytes: 2001, outBytes: 0 }] }),
      'SAMPLE_NETWORK_IMPLAUSIBLE',
    ],
  ])('refuses a sample %s', (_what, s, code) => {
    expect(codes([sample('2026-11-20T11:58:00Z'), s])).toEqual([[1, code]]);
  });

  it('forgives a host clock a few minutes ahead, not more', () => {
    const ahead = (ms: number) => new Date(Math.floor((NOW.getTime() + ms) / 60_000) * 60_000).toISOString();
    expect(codes([sample(ahead(MAX_CLOCK_SKEW_MS))])).toEqual([]);
    expect(codes([sample(ahead(MAX_CLOCK_SKEW_MS + 60_000))])).toEqual([[0, 'SAMPLE_IN_FUTURE']]);
  });

  it('refuses a sample overlapping a stored one of the VM, not a resent copy (not listed)', () => {
    const f = facts({ overlaps: [{ index: 0, at: new Date('2026-11-20T11:30:00Z'), intervalSeconds: 60 }] });
    expect(codes([sample('2026-11-20T12:00:00Z', { intervalSeconds: 3600 })], f)).toEqual([[0, 'SAMPLE_OVERLAPS']]);
  });

  it('refuses three one-hour samples a minute apart, and overlapping spans within a batch', () => {
    const hours = ['2026-11-20T11:00:00Z', '2026-11-20T11:01:00Z', '2026-11-20T11:02:00Z'].map((at) =>
      sample(at, { intervalSeconds: 3600 }),
    );
    // The first is aligned (11:00); the other two are not.
    expect(codes(hours)).toEqual([
      [1, 'SAMPLE_NOT_ALIGNED'],
      [2, 'SAMPLE_NOT_ALIGNED'],
    ]);
    // Aligned each to its own interval, yet overlapping: an hour ending at 12:00 and a minute inside it.
    const mixed = [sample('2026-11-20T12:00:00Z', { intervalSeconds: 3600 }), sample('2026-11-20T11:30:00Z')];
    expect(codes(mixed)).toEqual([[0, 'SAMPLE_OVERLAPS']]);
  });

  it('takes the same sample twice in a batch (a resend) and back-to-back intervals', () => {
    const s = sample('2026-11-20T11:00:00Z');
    expect(codes([s, s, sample('2026-11-20T11:01:00Z'), sample('2026-11-20T11:02:00Z')])).toEqual([]);
  });

  it('judges samples of VMs not on the host by the clock and figures only (the write ignores them)', () => {
    const foreign = { vmId: OTHER_VM };
    expect(codes([sample('2026-10-31T23:00:00Z', { ...foreign, cpuAvgMhz: 1e6 })])).toEqual([]);
    expect(codes([sample('2027-10-31T23:00:00Z', foreign)])).toEqual([[0, 'SAMPLE_IN_FUTURE']]);
  });

  it('says why with the numbers', () => {
    const [refusal] = judgeSamples([sample('2026-11-20T12:00:00Z', { cpuAvgMhz: 5000 })], facts(), NOW);
    expect(refusal).toMatchObject({ index: 0, vmId: VM, at: '2026-11-20T12:00:00Z', code: 'SAMPLE_CPU_ABOVE_VM' });
    expect(refusal?.message).toContain('2 vCPU × 2000 MHz = 4000 MHz');
  });
});
