import { describe, expect, it } from 'vitest';
import type { GroupMembership, HaPriority } from '../snapshot';
import { aContext, aHost, aRequest } from '../testing/builders';
import { ALIGNMENT_WEIGHT, bindingWeights, fitKey } from './binding-fit';
import { cpuHeadroomScorer } from './cpu-headroom';
import { haHeadroomScorer } from './ha-headroom';
import { memoryHeadroomScorer } from './memory-headroom';
import { numaFitScorer } from './numa-fit';
import { softAffinityScorer } from './soft-affinity';

const GiB = 1024;
const withAllocated = (memoryMiB: number, vcpus = 0) =>
  aHost({
    id: 'h',
    memoryMiB: 66 * GiB,
    reservedMemoryMiB: 2 * GiB,
    logicalProcessors: 16,
    allocated: { vcpus, memoryMiB, vmCount: 1 },
  });

describe('memory-headroom scorer: free fraction of usable memory after the VM', () => {
  it.each<[allocatedMiB: number, requestMiB: number, raw: number]>([
    [0, 16 * GiB, 0.75],
    [32 * GiB, 16 * GiB, 0.25],
    [48 * GiB, 16 * GiB, 0],
  ])('%i allocated + %i → %f', (allocated, request, raw) => {
    expect(memoryHeadroomScorer.raw(withAllocated(allocated), aContext(aRequest({ memoryMiB: request })))).toBeCloseTo(
      raw,
    );
  });
});

describe('cpu-headroom scorer: free fraction of vCPU capacity after the VM', () => {
  it.each<[allocated: number, vcpus: number, ratio: number, raw: number]>([
    [0, 16, 4, 0.75],
    [48, 16, 4, 0],
    [0, 8, 1, 0.5],
  ])('%i allocated + %i at %f:1 → %f', (allocated, vcpus, ratio, raw) => {
    const ctx = aContext(aRequest({ vcpus }), { cpuOvercommitRatio: ratio });
    expect(cpuHeadroomScorer.raw(withAllocated(0, allocated), ctx)).toBeCloseTo(raw);
  });
});

describe('soft-affinity scorer', () => {
  const g = (name: string, kind: GroupMembership['kind'], hard = false): GroupMembership => ({ name, kind, hard });
  it.each<[name: string, onHost: Record<string, number>, groups: GroupMembership[], raw: number]>([
    ['no groups', { web: 2 }, [], 0],
    ['soft affinity present', { db: 3 }, [g('db', 'affinity')], 1],
    ['soft affinity absent', {}, [g('db', 'affinity')], 0],
    ['soft anti-affinity counts neighbours', { web: 2 }, [g('web', 'anti-affinity')], -2],
    [
      'hard groups do not score (they filter)',
      { web: 2, db: 1 },
      [g('web', 'anti-affinity', true), g('db', 'affinity', true)],
      0,
    ],
    ['both kinds add up', { db: 1, web: 1 }, [g('db', 'affinity'), g('web', 'anti-affinity')], 0],
  ])('%s → %i', (_name, groups, memberships, raw) => {
    expect(softAffinityScorer.raw(aHost({ id: 'h', groups }), aContext(aRequest({ groups: memberships })))).toBe(raw);
  });
});

describe('numa-fit scorer: memory fits in one node (free memory split evenly)', () => {
  it.each<[nodes: number, allocatedMiB: number, requestMiB: number, raw: number]>([
    [2, 0, 32 * GiB, 1], // 64 GiB usable, 32 GiB per node
    [2, 0, 32 * GiB + 1, 0],
    [2, 32 * GiB, 16 * GiB, 1], // 32 GiB free, 16 per node
    [2, 32 * GiB, 17 * GiB, 0],
    [1, 0, 64 * GiB, 1],
    [4, 0, 17 * GiB, 0],
  ])('%i nodes, %i allocated, VM of %i MiB → %i', (numaNodes, allocated, request, raw) => {
    const host = { ...withAllocated(allocated), numaNodes };
    expect(numaFitScorer.raw(host, aContext(aRequest({ memoryMiB: request })))).toBe(raw);
  });
});

describe('ha-headroom scorer: load over what the other hosts could absorb', () => {
  it.each<[priority: HaPriority, allocatedMiB: number, raw: number]>([
    ['off', 32 * GiB, 0],
    // host: 64 GiB usable, 32 allocated, 32 free; cluster free 132 GiB → survivors 100 GiB; load 32 + 8 = 40 GiB
    ['high', 32 * GiB, -0.4],
    // host: 0 allocated, 64 free → survivors 68; load 8
    ['medium', 0, -8 / 68],
  ])('%s with %i allocated → %f', (haPriority, allocated, raw) => {
    const ctx = aContext(aRequest({ memoryMiB: 8 * GiB, haPriority }), { clusterFreeMemoryMiB: 132 * GiB });
    expect(haHeadroomScorer.raw(withAllocated(allocated), ctx)).toBeCloseTo(raw);
  });

  it('prefers the less loaded of two hosts', () => {
    const ctx = aContext(aRequest({ haPriority: 'high' }), { clusterFreeMemoryMiB: 100 * GiB });
    expect(haHeadroomScorer.raw(withAllocated(8 * GiB), ctx)).toBeGreaterThan(
      haHeadroomScorer.raw(withAllocated(40 * GiB), ctx),
    );
  });
});

describe('binding-fit key: best fit on what binds, leaning to aligned hosts when both resources bind alike', () => {
  it.each<[vcpuUse: number, memoryUse: number, alignment: number]>([
    [0.6, 0.3, 0], // memory at half CPU's utilisation: CPU clearly binds, best fit alone
    [0.3, 0.6, 0],
    [0.6, 0.45, ALIGNMENT_WEIGHT / 2], // ratio 0.75: half way between 0.7 and 0.8
    [0.55, 0.6, ALIGNMENT_WEIGHT],
    [0, 0, ALIGNMENT_WEIGHT], // idle: both alike
  ])('utilisation %f CPU, %f memory → alignment weight %f', (c, m, alignment) => {
    expect(bindingWeights(c, m).alignment).toBeCloseTo(alignment, 3); // utilisations carry a 0.001 floor
  });

  // Hosts of 128 vCPUs and 512 GiB; both have 100 GiB free, one with 100 vCPUs free and one with 20.
  const key = (freeV: number, weights: ReturnType<typeof bindingWeights>) =>
    fitKey(freeV, 100 * GiB, 16, 8 * GiB, 128, 512 * GiB, weights.vcpus, weights.memory, weights.alignment);

  it('a CPU-heavy VM in a cluster where both bind goes where CPU is free, not where it would strand memory', () => {
    const weights = bindingWeights(0.55, 0.6); // memory binds, by a little
    expect(key(100, weights)).toBeLessThan(key(20, weights));
  });

  it('where memory clearly binds, the two hosts tie on memory (the seeded order decides)', () => {
    const weights = bindingWeights(0.3, 0.6);
    expect(key(100, weights)).toBe(key(20, weights));
  });
});
