import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { vmSampleSchema } from '@fabric/core/metering/sample-protocol.schema';
import { afterEach, describe, expect, it } from 'vitest';
import { GIB, quietContext, vmDisk, vmSpec } from '../../testing/vm-fixtures';
import type { HostVm, VmPowerState } from '../driver';
import { resolveProfilePath } from './profile';
import { SimulatedDriver } from './simulated-driver';
import { simulateVmSample, vmLoadProfile } from './vm-load';

const HOST_MHZ = 2400;
const SEED = 7;
/** A Monday. */
const MONDAY = Date.UTC(2024, 2, 4);
const MINUTE = 60_000;

/** Deterministic VM ids (UUID-shaped), so a test's population is the same every run. */
function vmId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function vm(n: number, state: VmPowerState = 'running', overrides: Parameters<typeof vmSpec>[0] = {}): HostVm {
  const spec = vmSpec({
    vmId: vmId(n),
    vcpus: 4,
    nics: [
      {
        name: 'nic0',
        macAddress: '00:15:5D:00:00:01',
        network: 'tenant',
        minimumBandwidthMbps: null,
        minimumBandwidthWeight: null,
        maximumBandwidthMbps: 1000,
      },
    ],
    ...overrides,
  });
  return { vmId: spec.vmId, name: spec.name, state, spec };
}

const dynamicMemory = {
  memory: { dynamic: true, startupMiB: 2048, minimumMiB: 1024, maximumMiB: 8192, bufferPercent: 20, weight: 5000 },
};

function sample(v: HostVm, endMs: number, intervalSeconds = 60) {
  return simulateVmSample({ seed: SEED, vm: v, hostMhz: HOST_MHZ, intervalEnd: new Date(endMs), intervalSeconds });
}

/** Average CPU share of a VM over the minutes [fromHour, toHour) of MONDAY, sampled every 10 min. */
function averageCpuShare(v: HostVm, fromHour: number, toHour: number): number {
  let sum = 0;
  let n = 0;
  for (let t = MONDAY + fromHour * 60 * MINUTE; t < MONDAY + toHour * 60 * MINUTE; t += 10 * MINUTE) {
    sum += sample(v, t + MINUTE).cpuAvgMhz / (v.spec.vcpus * HOST_MHZ);
    n += 1;
  }
  return sum / n;
}

describe('simulated VM load', () => {
  it('is deterministic for (seed, VM, interval) and pinned to exact values', () => {
    const v = vm(1, 'running', dynamicMemory);
    const end = MONDAY + 10 * 60 * MINUTE;
    expect(sample(v, end)).toEqual(sample(v, end));
    expect(sample(v, end)).toMatchInlineSnapshot(`
      {
        "at": "2024-03-04T10:00:00.000Z",
        "cpuAvgMhz": 1059.8,
        "diskAllocatedGiB": 40,
        "diskReadBytes": 44392042,
        "diskWriteBytes": 301320766,
        "intervalSeconds": 60,
        "memoryAvgMiB": 3691,
        "memoryMaxMiB": 3826,
        "memoryMinMiB": 3634,
        "networkInDatacenterBytes": 9684834,
        "networkInInternetBytes": 0,
        "networkOutDatacenterBytes": 11872972,
        "networkOutInternetBytes": 0,
        "vmId": "00000000-0000-4000-8000-000000000001",
      }
    `);
    // Another seed, interval or VM gives other figures.
    const otherSeed = simulateVmSample({
      seed: SEED + 1,
      vm: v,
      hostMhz: HOST_MHZ,
      intervalEnd: new Date(end),
      intervalSeconds: 60,
    });
    expect(otherSeed.cpuAvgMhz).not.toBe(sample(v, end).cpuAvgMhz);
    expect(sample(v, end + MINUTE).cpuAvgMhz).not.toBe(sample(v, end).cpuAvgMhz);
  });

  it('keeps every figure within the contract and the VM (a week of 15-minute intervals, 60 VMs)', () => {
    // Problems are collected and checked once: 40,000 samples × a dozen expects would be slow.
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok && problems.length < 10) problems.push(what);
    };
    // A 1 Gb/s port moves at most 125 MB/s each way.
    const cap = (1000 * 1_000_000 * 900) / 8;
    for (let n = 0; n < 60; n += 1) {
      const v = vm(n, 'running', n % 2 === 0 ? dynamicMemory : {});
      const memory = v.spec.memory;
      for (let t = MONDAY; t < MONDAY + 7 * 24 * 60 * MINUTE; t += 15 * MINUTE) {
        const s = sample(v, t, 900);
        const where = `VM ${n} at ${new Date(t).toISOString()}: ${JSON.stringify(s)}`;
        check(vmSampleSchema.safeParse(s).success, `schema, ${where}`);
        check(s.cpuAvgMhz > 0 && s.cpuAvgMhz <= v.spec.vcpus * HOST_MHZ, `cpu, ${where}`);
        check(s.memoryMinMiB <= s.memoryAvgMiB && s.memoryAvgMiB <= s.memoryMaxMiB, `memory order, ${where}`);
        if (memory.dynamic) {
          check(s.memoryMinMiB >= memory.minimumMiB && s.memoryMaxMiB <= memory.maximumMiB, `dynamic, ${where}`);
        } else {
          check(s.memoryMinMiB === 2048 && s.memoryAvgMiB === 2048 && s.memoryMaxMiB === 2048, `static, ${where}`);
        }
        check(s.diskAllocatedGiB === 40, `disk, ${where}`);
        check(s.networkInInternetBytes + s.networkInDatacenterBytes <= cap, `network in, ${where}`);
        check(s.networkOutInternetBytes + s.networkOutDatacenterBytes <= cap, `network out, ${where}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has idle VMs at 2–5 % CPU and business VMs that peak in business hours', () => {
    const population = Array.from({ length: 80 }, (_, n) => vm(n));
    const kinds = population.map((v) => vmLoadProfile(SEED, v.vmId).kind);
    expect(kinds.filter((k) => k === 'idle').length).toBeGreaterThan(8);
    expect(kinds.filter((k) => k === 'business').length).toBeGreaterThan(30);
    expect(kinds.filter((k) => k === 'batch').length).toBeGreaterThan(4);

    for (const v of population) {
      const profile = vmLoadProfile(SEED, v.vmId);
      if (profile.kind === 'idle') {
        const day = averageCpuShare(v, 0, 24);
        expect(day).toBeGreaterThanOrEqual(0.02);
        expect(day).toBeLessThanOrEqual(0.05);
      }
      if (profile.kind === 'business') {
        // The VM's 11:00–15:00 and 00:00–04:00 local time, in UTC.
        const noon = averageCpuShare(v, 11 - profile.utcOffsetHours, 15 - profile.utcOffsetHours);
        const night = averageCpuShare(v, 24 - profile.utcOffsetHours, 28 - profile.utcOffsetHours);
        expect(noon).toBeGreaterThan(2 * night);
      }
    }
  });

  it('has bursts: network traffic comes in lumps', () => {
    const v = vm(3, 'running');
    const bytes: number[] = [];
    for (let t = MONDAY; t < MONDAY + 24 * 60 * MINUTE; t += MINUTE) bytes.push(sample(v, t).networkOutDatacenterBytes);
    const sorted = [...bytes].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const top = sorted.at(-1) ?? 0;
    expect(median).toBeGreaterThan(0);
    expect(top).toBeGreaterThan(5 * median);
  });

  it('gives an off or saved VM no CPU, memory or traffic but its disks; a paused one keeps its memory', () => {
    const end = MONDAY + 12 * 60 * MINUTE;
    const disks = { disks: [vmDisk(), vmDisk({ name: 'data.vhdx', kind: 'dynamic', sizeBytes: 100 * GIB })] };
    for (const state of ['off', 'saved'] as const) {
      expect(sample(vm(5, state, disks), end)).toEqual({
        vmId: vmId(5),
        at: new Date(end).toISOString(),
        intervalSeconds: 60,
        cpuAvgMhz: 0,
        memoryAvgMiB: 0,
        memoryMinMiB: 0,
        memoryMaxMiB: 0,
        diskAllocatedGiB: 140,
        diskReadBytes: 0,
        diskWriteBytes: 0,
        networkInInternetBytes: 0,
        networkOutInternetBytes: 0,
        networkInDatacenterBytes: 0,
        networkOutDatacenterBytes: 0,
      });
    }
    const paused = sample(vm(5, 'paused', disks), end);
    expect(paused).toMatchObject({ cpuAvgMhz: 0, memoryAvgMiB: 2048, diskReadBytes: 0, networkOutDatacenterBytes: 0 });
  });
});

describe('SimulatedDriver.sampleVms', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('samples every VM the host has, in every state, at the interval end', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-sample-'));
    const profilePath = path.join(dir, 'host.json');
    await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
    const driver = new SimulatedDriver({ profilePath, stateDir: dir, speed: 1000 });
    const on = await driver.createVm(vmSpec({ vmId: vmId(1) }), quietContext());
    await driver.startVm(on.vmId, quietContext());
    await driver.createVm(vmSpec({ vmId: vmId(2) }), quietContext());

    const end = new Date(MONDAY + 10 * 60 * MINUTE);
    const samples = await driver.sampleVms(end, 60);
    expect(samples.map((s) => [s.vmId, s.at]).sort()).toEqual([
      [vmId(1), end.toISOString()],
      [vmId(2), end.toISOString()],
    ]);
    const byId = new Map(samples.map((s) => [s.vmId, s]));
    expect(byId.get(vmId(1))?.cpuAvgMhz).toBeGreaterThan(0);
    expect(byId.get(vmId(2))).toMatchObject({ cpuAvgMhz: 0, memoryAvgMiB: 0, diskAllocatedGiB: 40 });
    // The profile's seed and the VM decide: a second driver on the same state gives the same figures.
    const again = await new SimulatedDriver({ profilePath, stateDir: dir }).sampleVms(end, 60);
    expect(again).toEqual(samples);
  });
});

describe('simulated metered ACLs', () => {
  const ACLS = ['backup', 'storage'];
  const hour = (v: HostVm) =>
    Array.from({ length: 60 }, (_, i) =>
      simulateVmSample({
        seed: SEED,
        vm: v,
        hostMhz: HOST_MHZ,
        intervalEnd: new Date(MONDAY + 10 * 60 * MINUTE + (i + 1) * MINUTE),
        intervalSeconds: 60,
        acls: ACLS,
      }),
    );

  it('adds one entry per ACL, valid, within the datacenter bytes, without changing the fixed counters', () => {
    for (let n = 1; n <= 20; n += 1) {
      for (const s of hour(vm(n))) {
        expect(vmSampleSchema.safeParse(s).success).toBe(true);
        expect(s.networkAcls?.map((a) => a.acl)).toEqual(ACLS);
        for (const a of s.networkAcls ?? []) {
          expect(a.inBytes).toBeLessThanOrEqual(s.networkInDatacenterBytes);
          expect(a.outBytes).toBeLessThanOrEqual(s.networkOutDatacenterBytes);
        }
        const { networkAcls: _, ...fixed } = s;
        expect(fixed).toEqual(sample(vm(n), Date.parse(s.at)));
      }
    }
  });

  it('is reproducible from the seed, and believable: some VMs use a class, some never do', () => {
    expect(hour(vm(3))).toEqual(hour(vm(3)));
    const totals = Array.from({ length: 20 }, (_, n) =>
      hour(vm(n + 1)).reduce((sum, s) => sum + (s.networkAcls?.[1]?.outBytes ?? 0), 0),
    );
    expect(totals.some((t) => t === 0)).toBe(true);
    expect(totals.some((t) => t > 0)).toBe(true);
  });

  it('leaves networkAcls out when the API lists none, exactly as before', () => {
    const s = simulateVmSample({
      seed: SEED,
      vm: vm(1),
      hostMhz: HOST_MHZ,
      intervalEnd: new Date(MONDAY + MINUTE),
      intervalSeconds: 60,
      acls: [],
    });
    expect('networkAcls' in s).toBe(false);
  });
});
