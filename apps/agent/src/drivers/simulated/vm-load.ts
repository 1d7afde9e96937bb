import type { NicBandwidthSample, VmSample } from '@fabric/core/metering/sample-protocol.schema';
import { shareBandwidth } from '@fabric/core/network/network-protocol.schema';
import type { HostVm } from '../driver';
import { fnv1a, mulberry32 } from './random';

/**
 * Believable Measure-VM figures for a simulated VM, computed from nothing but
 * (seed, VM, interval): no state, so a sample can be recomputed exactly (tests
 * pin values) and an agent restart does not change a VM's history.
 *
 * Each VM gets a character from its id and the seed (not the host, so a VM that
 * moves keeps its character):
 * - `idle` (about 1 in 4): 2–5 % CPU around the clock, a little traffic;
 * - `business`: a daily cycle peaking in business hours (09:00–17:00 in the
 *   VM's time zone, lower at weekends), quiet at night;
 * - `batch`: quiet by day, busy in a nightly window.
 * On top: noise per interval, and bursts (a few % of 5-minute windows run the
 * VM hot and multiply its disk and network traffic).
 */
export type VmLoadKind = 'idle' | 'business' | 'batch';

export interface VmLoadProfile {
  kind: VmLoadKind;
  /** CPU share (0–1 of the VM's vCPUs) when nothing is going on. */
  baseCpu: number;
  /** CPU share added at the top of the daily cycle. */
  peakCpu: number;
  /** Hours added to UTC for the VM's working day (−8 … +9). */
  utcOffsetHours: number;
  /** Chance that a 5-minute window is a burst. */
  burstChance: number;
  /** Serves the internet (a web front end) rather than only the datacenter. */
  internetFacing: boolean;
  /** Typical network bytes per second at full load, datacenter class. */
  datacenterBytesPerSecond: number;
  /** Typical disk bytes per second at full load. */
  diskBytesPerSecond: number;
}

const GIB = 1024 ** 3;
const BURST_WINDOW_MS = 5 * 60_000;
/** Without a bandwidth cap, a VM's NIC is a 10 GbE port. */
const DEFAULT_NIC_MBPS = 10_000;

/** The VM's character: the same for a (seed, vmId) on every host and every run. */
export function vmLoadProfile(seed: number, vmId: string): VmLoadProfile {
  const random = mulberry32(fnv1a(`vm-load/${vmId}`) ^ seed);
  const pick = random();
  const kind: VmLoadKind = pick < 0.25 ? 'idle' : pick < 0.8 ? 'business' : 'batch';
  const utcOffsetHours = Math.floor(random() * 18) - 8;
  const internetFacing = random() < 0.4;
  if (kind === 'idle') {
    return {
      kind,
      baseCpu: 0.025 + 0.01 * random(),
      peakCpu: 0.005 * random(),
      utcOffsetHours,
      burstChance: 0.005,
      internetFacing,
      datacenterBytesPerSecond: 2_000 + 8_000 * random(),
      diskBytesPerSecond: 20_000 + 80_000 * random(),
    };
  }
  return {
    kind,
    baseCpu: 0.05 + 0.1 * random(),
    peakCpu: 0.3 + 0.45 * random(),
    utcOffsetHours,
    burstChance: 0.02 + 0.04 * random(),
    internetFacing,
    datacenterBytesPerSecond: 200_000 + 4_800_000 * random(),
    diskBytesPerSecond: 1_000_000 + 19_000_000 * random(),
  };
}

/** 0–1: how much of its daily peak the VM is doing at `at` (its local time). */
export function dailyCycle(profile: VmLoadProfile, at: Date): number {
  const local = new Date(at.getTime() + profile.utcOffsetHours * 3_600_000);
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
  const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
  if (profile.kind === 'batch') {
    // 01:00–05:00 every night, ramping in and out over an hour.
    return smoothWindow(hour, 1, 5, 1);
  }
  // 09:00–17:00, ramping from 07:30 and down to 19:00; a quarter of that at weekends.
  return smoothWindow(hour, 9, 17, 1.5) * (weekend ? 0.25 : 1);
}

/** 1 inside [start, end), easing to 0 over `ramp` hours on either side (cosine). */
function smoothWindow(hour: number, start: number, end: number, ramp: number): number {
  if (hour >= start && hour < end) return 1;
  const distance = hour < start ? Math.min(start - hour, hour + 24 - end) : Math.min(hour - end, start + 24 - hour);
  if (distance >= ramp) return 0;
  return 0.5 * (1 + Math.cos((Math.PI * distance) / ramp));
}

export interface SampleVmInput {
  seed: number;
  vm: HostVm;
  /** The host's CPU clock; a vCPU runs at most this fast. */
  hostMhz: number;
  /** End of the interval (aligned by the caller). */
  intervalEnd: Date;
  intervalSeconds: number;
  /** Metered port ACLs the API asked for (heartbeat answer); none: the sample has no `networkAcls`, as before. */
  acls?: readonly string[];
  /**
   * The guest's network load, Mbps (both directions), instead of its character's: a test's noisy neighbour
   * (the profile's `simulation.offeredMbps`). The split between classes and directions stays the VM's own.
   */
  offeredMbps?: number | undefined;
  /**
   * What the host's switch gave each vNIC this interval (simulated-switch.ts): the VM's bytes are scaled from
   * offered to achieved and the sample lists each vNIC's figures. Without it the VM is alone on its vNICs'
   * 10 GbE ports with its own maximums, and the sample lists none (as before QoS was enforced).
   */
  switched?: readonly NicBandwidthSample[];
}

/** A vNIC's share of the VM's offered traffic: the VM's load spread evenly over its adapters. */
export function offeredMbpsPerNic(input: SampleVmInput): number {
  return perNicMbps(input, offeredTraffic(input));
}

function perNicMbps(input: SampleVmInput, traffic: NetworkClasses | null): number {
  const nics = input.vm.spec.nics.length;
  if (nics === 0 || !traffic) return 0;
  const bytes =
    traffic.networkInInternetBytes +
    traffic.networkOutInternetBytes +
    traffic.networkInDatacenterBytes +
    traffic.networkOutDatacenterBytes;
  return (bytes * 8) / input.intervalSeconds / 1_000_000 / nics;
}

/**
 * One VM's sample for one interval. An off or saved VM uses no CPU or memory
 * and moves no bytes, but its disks stay allocated; a paused VM holds its
 * memory and does nothing else.
 */
export function simulateVmSample(input: SampleVmInput): VmSample {
  const sample = simulateFixedClasses(input);
  const { acls, seed, vm, intervalEnd, intervalSeconds } = input;
  if (!acls?.length) return sample;
  return {
    ...sample,
    networkAcls: acls.map((acl) => simulateAcl(seed, vm.vmId, acl, intervalEnd, intervalSeconds, sample)),
  };
}

/**
 * Bytes of one metered ACL: a share of the VM's datacenter traffic (the
 * classes a provider meters are internal: storage arrays, backup, another
 * site), fixed per VM and class from the seed, so some VMs talk to a class a
 * lot, some a little and about a third not at all; it varies by ±30 % per
 * interval. A stream of its own, so the fixed counters are the same
 * figures whether or not ACLs are metered.
 */
function simulateAcl(
  seed: number,
  vmId: string,
  acl: string,
  intervalEnd: Date,
  intervalSeconds: number,
  sample: VmSample,
): { acl: string; inBytes: number; outBytes: number } {
  const shareRandom = mulberry32(fnv1a(`vm-acl-share/${vmId}/${acl}`) ^ seed);
  const share = shareRandom() < 0.35 ? 0 : 0.02 + 0.33 * shareRandom();
  const random = mulberry32(fnv1a(`vm-acl/${vmId}/${acl}/${intervalEnd.getTime()}/${intervalSeconds}`) ^ seed);
  const part = (bytes: number) => Math.min(bytes, Math.round(bytes * share * (0.7 + 0.6 * random())));
  return { acl, inBytes: part(sample.networkInDatacenterBytes), outBytes: part(sample.networkOutDatacenterBytes) };
}

function simulateFixedClasses(input: SampleVmInput): VmSample {
  const { seed, vm, hostMhz, intervalEnd, intervalSeconds } = input;
  const endMs = intervalEnd.getTime();
  const diskAllocatedGiB = round(vm.spec.disks.reduce((sum, disk) => sum + disk.sizeBytes, 0) / GIB, 6);
  const base: VmSample = {
    vmId: vm.vmId,
    at: intervalEnd.toISOString(),
    intervalSeconds,
    cpuAvgMhz: 0,
    memoryAvgMiB: 0,
    memoryMinMiB: 0,
    memoryMaxMiB: 0,
    diskAllocatedGiB,
    diskReadBytes: 0,
    diskWriteBytes: 0,
    networkInInternetBytes: 0,
    networkOutInternetBytes: 0,
    networkInDatacenterBytes: 0,
    networkOutDatacenterBytes: 0,
  };
  if (vm.state === 'off' || vm.state === 'saved') return base;

  const profile = vmLoadProfile(seed, vm.vmId);
  // Sampled at the middle of the interval, so a 1 h interval is not judged by its last minute.
  const middle = new Date(endMs - (intervalSeconds * 1000) / 2);
  const random = mulberry32(fnv1a(`vm-sample/${vm.vmId}/${endMs}/${intervalSeconds}`) ^ seed);
  const burstRandom = mulberry32(fnv1a(`vm-burst/${vm.vmId}/${Math.floor(middle.getTime() / BURST_WINDOW_MS)}`) ^ seed);
  const burst = burstRandom() < profile.burstChance;
  const burstHeat = burst ? 0.5 + 0.5 * burstRandom() : 0;

  const cycle = dailyCycle(profile, middle);
  // Noise scaled to the level: ±20 % of it, never below zero.
  const noise = 1 + 0.4 * (random() - 0.5);
  let cpuShare = (profile.baseCpu + profile.peakCpu * cycle) * noise;
  if (burst) cpuShare = Math.max(cpuShare, burstHeat);
  const memory = memorySample(vm, cpuShare, random);
  if (vm.state === 'paused') return { ...base, ...memory };

  const maxMhz = vm.spec.vcpus * hostMhz;
  cpuShare = Math.min(1, Math.max(0, cpuShare));
  const cpuAvgMhz = Math.min(maxMhz, round(cpuShare * maxMhz, 1));

  const load = Math.min(1, cpuShare + 0.02);
  const trafficBurst = burst ? 5 + 15 * burstRandom() : 1;
  const seconds = intervalSeconds;
  const disk = profile.diskBytesPerSecond * load * trafficBurst * seconds;
  const diskReadBytes = Math.round(disk * (0.4 + 0.4 * random()) * spiky(random));
  const diskWriteBytes = Math.round(disk * (0.2 + 0.3 * random()) * spiky(random));

  const network = achievedTraffic(input, offeredTraffic(input));
  const sample = { ...base, cpuAvgMhz, ...memory, diskReadBytes, diskWriteBytes, ...network.classes };
  return network.nics ? { ...sample, nics: network.nics } : sample;
}

type NetworkClasses = Pick<
  VmSample,
  'networkInInternetBytes' | 'networkOutInternetBytes' | 'networkInDatacenterBytes' | 'networkOutDatacenterBytes'
>;

const NO_TRAFFIC: NetworkClasses = {
  networkInInternetBytes: 0,
  networkOutInternetBytes: 0,
  networkInDatacenterBytes: 0,
  networkOutDatacenterBytes: 0,
};

/**
 * The bytes the guest tries to move this interval, per class, before the
 * switch: its character's traffic (or a test's `offeredMbps`), bounded only by
 * its vNICs' 10 GbE links. A stream of its own per interval, so the figures do
 * not depend on what the switch later grants. Null when the VM moves nothing
 * (not running, or no adapter).
 */
function offeredTraffic({ seed, vm, intervalEnd, intervalSeconds, offeredMbps }: SampleVmInput): NetworkClasses | null {
  if (vm.state === 'off' || vm.state === 'saved' || vm.state === 'paused') return null;
  if (vm.spec.nics.length === 0) return null;
  const endMs = intervalEnd.getTime();
  const profile = vmLoadProfile(seed, vm.vmId);
  const middle = new Date(endMs - (intervalSeconds * 1000) / 2);
  const random = mulberry32(fnv1a(`vm-sample/${vm.vmId}/${endMs}/${intervalSeconds}`) ^ seed);
  const burstRandom = mulberry32(fnv1a(`vm-burst/${vm.vmId}/${Math.floor(middle.getTime() / BURST_WINDOW_MS)}`) ^ seed);
  const burst = burstRandom() < profile.burstChance;
  const burstHeat = burst ? 0.5 + 0.5 * burstRandom() : 0;
  // The same draws, in the same order, as the CPU and disk figures: the traffic follows the VM's load.
  const noise = 1 + 0.4 * (random() - 0.5);
  let cpuShare = (profile.baseCpu + profile.peakCpu * dailyCycle(profile, middle)) * noise;
  if (burst) cpuShare = Math.max(cpuShare, burstHeat);
  memorySample(vm, cpuShare, random);
  cpuShare = Math.min(1, Math.max(0, cpuShare));
  const load = Math.min(1, cpuShare + 0.02);
  const trafficBurst = burst ? 5 + 15 * burstRandom() : 1;
  random();
  spiky(random);
  random();
  spiky(random);
  const dc = profile.datacenterBytesPerSecond * load * trafficBurst * intervalSeconds;
  // Internet-facing VMs send more than they receive (pages out, requests in).
  const internet = profile.internetFacing ? dc * (0.3 + 0.5 * random()) : 0;
  let raw = [
    internet * 0.2 * spiky(random),
    internet * spiky(random),
    dc * (0.5 + 0.5 * random()) * spiky(random),
    dc * (0.3 + 0.5 * random()) * spiky(random),
  ];
  if (offeredMbps !== undefined) {
    const want = (offeredMbps * 1_000_000 * intervalSeconds) / 8;
    const total = raw.reduce((sum, b) => sum + b, 0);
    raw = total > 0 ? raw.map((b) => (b * want) / total) : [0, 0, want / 2, want / 2];
  }
  // Each direction of a vNIC is a 10 GbE link: half of it per class at most, as the guest sees it.
  const linkBytes = (vm.spec.nics.length * DEFAULT_NIC_MBPS * 1_000_000 * intervalSeconds) / 8;
  const [inInternet = 0, outInternet = 0, inDc = 0, outDc = 0] = raw.map((b) =>
    Math.min(Math.floor(linkBytes / 2), Math.round(b)),
  );
  return {
    networkInInternetBytes: inInternet,
    networkOutInternetBytes: outInternet,
    networkInDatacenterBytes: inDc,
    networkOutDatacenterBytes: outDc,
  };
}

/**
 * The bytes that got through: the offered traffic scaled by what the switch
 * granted its vNICs (achieved / offered over all of them). Without a switch's
 * grant, each vNIC is alone on its own link and held only by its maximum.
 * The sample's bytes are the achieved traffic: what a VM did not get to send
 * is not metered.
 */
function achievedTraffic(
  input: SampleVmInput,
  offered: NetworkClasses | null,
): { classes: NetworkClasses; nics?: NicBandwidthSample[] } {
  if (!offered) return { classes: NO_TRAFFIC };
  const nics = input.vm.spec.nics;
  const perNic = perNicMbps(input, offered);
  const grants =
    input.switched ??
    nics.map((nic) => {
      const [share] = shareBandwidth(DEFAULT_NIC_MBPS, [
        { nicId: nic.name, offeredMbps: perNic, maximumMbps: nic.maximumBandwidthMbps ?? undefined },
      ]);
      return {
        nic: nic.name,
        offeredMbps: perNic,
        achievedMbps: share?.achievedMbps ?? perNic,
        limitedBy: share?.limitedBy ?? 'demand',
      };
    });
  const offeredSum = grants.reduce((sum, g) => sum + g.offeredMbps, 0);
  const achievedSum = grants.reduce((sum, g) => sum + g.achievedMbps, 0);
  const factor = offeredSum > 0 ? Math.min(1, achievedSum / offeredSum) : 1;
  // Floor, not round: the bytes never exceed what the switch let through.
  const scale = (bytes: number) => (factor === 1 ? bytes : Math.floor(bytes * factor));
  const classes = {
    networkInInternetBytes: scale(offered.networkInInternetBytes),
    networkOutInternetBytes: scale(offered.networkOutInternetBytes),
    networkInDatacenterBytes: scale(offered.networkInDatacenterBytes),
    networkOutDatacenterBytes: scale(offered.networkOutDatacenterBytes),
  };
  if (!input.switched) return { classes };
  return {
    classes,
    nics: input.switched.map((g) => ({
      nic: g.nic,
      offeredMbps: roundDown(g.offeredMbps, 3),
      achievedMbps: Math.min(roundDown(g.achievedMbps, 3), roundDown(g.offeredMbps, 3)),
      limitedBy: g.limitedBy,
    })),
  };
}

function roundDown(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.floor(value * factor) / factor;
}

/**
 * Static memory: the VM holds its size the whole interval. Dynamic Memory:
 * demand follows the load between the minimum and the maximum, and the
 * interval's low and high lie around the average.
 */
function memorySample(
  vm: HostVm,
  cpuShare: number,
  random: () => number,
): Pick<VmSample, 'memoryAvgMiB' | 'memoryMinMiB' | 'memoryMaxMiB'> {
  const memory = vm.spec.memory;
  if (!memory.dynamic) {
    return { memoryAvgMiB: memory.startupMiB, memoryMinMiB: memory.startupMiB, memoryMaxMiB: memory.startupMiB };
  }
  const low = Math.min(memory.minimumMiB, memory.maximumMiB);
  const high = memory.maximumMiB;
  // A guest's working set: a floor of 30 %, growing with load, plus Hyper-V's buffer.
  const demand = (0.3 + 0.6 * Math.min(1, cpuShare) + 0.05 * random()) * (1 + memory.bufferPercent / 100);
  const avg = clampRound(low + (high - low) * Math.min(1, demand * 0.8), low, high);
  const spread = (high - low) * (0.02 + 0.08 * random());
  const min = clampRound(avg - spread * random(), low, avg);
  const max = clampRound(avg + spread * random(), avg, high);
  return { memoryAvgMiB: avg, memoryMinMiB: min, memoryMaxMiB: max };
}

/** Mostly about 1, sometimes several times that: traffic comes in lumps. */
function spiky(random: () => number): number {
  const r = random();
  return r < 0.9 ? 0.6 + 0.8 * random() : 2 + 6 * random();
}

function clampRound(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
