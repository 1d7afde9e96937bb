import path from 'node:path';
import { type HostInventory, hostInventorySchema } from '@fabric/core/fabric/inventory.schema';
import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import type { SimDisks } from '../../disks/vm-disks';
import {
  type Driver,
  DriverError,
  type HostUsage,
  type HostVm,
  type VmOperationContext,
  VmOperationError,
} from '../driver';
import { meterPortAcls, type PortMetersLookup } from './port-meters';
import { formatIssues, readProfile, type SimulatedProfile } from './profile';
import { fnv1a, mulberry32 } from './random';
import { type PortQosLookup, switchInterval } from './simulated-switch';
import { SimulatedVms } from './simulated-vms';
import { simulateVmSample } from './vm-load';

export interface SimulatedDriverOptions {
  /** Profile JSON file, re-read on every inventory() so a test can change the host on the fly. */
  profilePath: string;
  /** Overrides the profile's host name (the demo runs several hosts from one profile). */
  hostname?: string;
  /** Where vms.json lives (the agent's state directory); without it VMs last as long as the process. */
  stateDir?: string;
  /** Divides every VM operation's duration; tests use 20 or more. Default 1 (real-host timing). */
  speed?: number;
  /** The VMs' disks as real sparse files with a writing guest (disks/); without it disks are only figures. */
  disks?: SimDisks;
  /** The peer listener's URL for the inventory (`peerUrl`), once it listens. */
  peerUrl?: () => string | null;
}

/**
 * A host that exists only in a profile. Capacity, NICs and pools come from
 * the profile; usage is a seeded, mean-reverting random walk (an
 * Ornstein–Uhlenbeck step: pulled back toward the mean, pushed by noise), which
 * looks like a real host's load without drifting off to 0 % or 100 %.
 */
export class SimulatedDriver implements Driver {
  readonly name = 'simulated';
  private profile: SimulatedProfile | null = null;
  private random: () => number = Math.random;
  private cpuPercent = 0;
  private memoryPercent = 0;
  private vmRandom: (() => number) | null = null;
  private readonly vms: SimulatedVms;
  private portQos: PortQosLookup = () => new Map();
  private portMeters: PortMetersLookup = () => new Map();

  constructor(private readonly options: SimulatedDriverOptions) {
    const speed = options.speed ?? 1;
    if (!(speed > 0 && Number.isFinite(speed))) throw new DriverError(`simulation speed must be above 0, not ${speed}`);
    this.vms = new SimulatedVms({
      file: options.stateDir === undefined ? null : path.join(options.stateDir, 'vms.json'),
      speed,
      profile: () => this.currentProfile(),
      random: () => this.nextVmRandom(),
      disks: options.disks,
    });
  }

  /** The VMs' disks (null without them): replica and migration handlers work on these. */
  get disks(): SimDisks | null {
    return this.options.disks ?? null;
  }

  /** Live storage migration switched these disks to `pool` (migration/storage-move-handlers.ts). */
  setDiskPool(vmId: string, diskNames: readonly string[], pool: string): Promise<void> {
    return this.vms.setDiskPool(vmId, diskNames, pool);
  }

  /** The host lost power since the agent last ran (bmc/power-file.ts): its live VMs are off now. */
  powerLost(): Promise<string[]> {
    return this.vms.powerLost();
  }

  /** After an agent start: the guests of VMs that were running write again. */
  async resumeGuests(): Promise<void> {
    await this.vms.resumeGuests();
  }

  async inventory(): Promise<HostInventory> {
    const profile = await readProfile(this.options.profilePath);
    this.adopt(profile);
    // The VMs' disks take space in their pools, so the console's storage bars move as VMs come and go.
    const allocated = await this.vms.allocatedByPool();
    const storagePools = profile.storagePools.map((pool) => ({
      ...pool,
      usedBytes: Math.min(pool.capacityBytes, pool.usedBytes + (allocated.get(pool.name) ?? 0)),
    }));
    const inventory = toInventory({ ...profile, storagePools }, this.options.hostname);
    const peerUrl = this.options.peerUrl?.() ?? null;
    return peerUrl ? { ...inventory, peerUrl } : inventory;
  }

  createVm(spec: VmSpec, context: VmOperationContext): Promise<HostVm> {
    return this.vms.create(spec, context);
  }
  startVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.start(vmId, context);
  }
  stopVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.stop(vmId, context);
  }
  turnOffVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.turnOff(vmId, context);
  }
  restartVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.restart(vmId, context);
  }
  pauseVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.pause(vmId, context);
  }
  resumeVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.resume(vmId, context);
  }
  saveVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.vms.save(vmId, context);
  }
  deleteVm(vmId: string, context: VmOperationContext): Promise<void> {
    return this.vms.delete(vmId, context);
  }
  listVms(): Promise<HostVm[]> {
    return this.vms.list();
  }

  /** Where the switch finds each port's QoS: the network policy this host applied (set once the agent pulls it). */
  usePortQos(lookup: PortQosLookup): void {
    this.portQos = lookup;
  }

  /** Where the switch finds each port's meter ACLs: the same applied policy (port-meters.ts). */
  usePortMeters(lookup: PortMetersLookup): void {
    this.portMeters = lookup;
  }

  /**
   * Measure-VM for every VM, from the profile's seed and each VM's id alone
   * (see vm-load.ts), through the host's switch: each VM's traffic is what its
   * vNICs achieved on the host's NICs against the other VMs' offered load
   * (simulated-switch.ts), and each sample lists its vNICs' figures; a metered
   * class that a port's meter ACL names carries the bytes that ACL matched
   * (port-meters.ts). The same
   * VMs, policy and interval give the same figures in every run.
   */
  async sampleVms(intervalEnd: Date, intervalSeconds: number, acls: readonly string[] = []): Promise<VmSample[]> {
    const profile = await readProfile(this.options.profilePath);
    this.adopt(profile);
    const vms = await this.vms.list();
    const base = { seed: profile.simulation.seed, hostMhz: profile.cpu.mhz, intervalEnd, intervalSeconds, acls };
    const switched = switchInterval(profile, vms, base, this.portQos());
    const meters = acls.length > 0 ? this.portMeters() : new Map();
    return vms.map((vm) =>
      meterPortAcls(
        simulateVmSample({
          ...base,
          vm,
          offeredMbps: profile.simulation.offeredMbps[vm.name],
          switched: switched.get(vm.vmId),
        }),
        vm.spec.nics,
        meters,
      ),
    );
  }

  /** The profile for a VM operation: re-read like the inventory, as a profile-reading failure is a driver failure. */
  private async currentProfile(): Promise<SimulatedProfile> {
    try {
      const profile = await readProfile(this.options.profilePath);
      this.adopt(profile);
      return profile;
    } catch (error) {
      if (error instanceof DriverError) throw new VmOperationError('DRIVER_ERROR', error.message, null);
      throw error;
    }
  }

  /** A stream of its own, so VM operations do not change the usage walk a seed reproduces. */
  private nextVmRandom(): number {
    if (this.vmRandom === null) {
      const seed = this.profile?.simulation.seed ?? 1;
      this.vmRandom = mulberry32(fnv1a(`${this.options.hostname ?? this.profile?.hostname ?? ''}/vms`) ^ seed);
    }
    return this.vmRandom();
  }

  async usage(): Promise<HostUsage> {
    const profile = this.profile ?? (await this.loadInitial());
    const sim = profile.simulation;
    // Reversion 0.2 per sample: after a spike, about 5 samples to settle back.
    this.cpuPercent = clamp(
      this.cpuPercent + 0.2 * (sim.cpuPercentMean - this.cpuPercent) + sim.cpuPercentStep * this.noise(),
      0,
      100,
    );
    this.memoryPercent = clamp(
      this.memoryPercent + 0.1 * (sim.memoryPercentMean - this.memoryPercent) + sim.memoryPercentStep * this.noise(),
      0,
      100,
    );
    // The walk is the host's own load; running VMs hold their memory on top of it.
    const vmMemoryMiB = await this.vms.memoryInUseMiB().catch(() => 0);
    return {
      cpuPercent: Math.round(this.cpuPercent * 10) / 10,
      memoryUsedMiB: Math.min(
        profile.memoryMiB,
        Math.round((profile.memoryMiB * this.memoryPercent) / 100) + vmMemoryMiB,
      ),
    };
  }

  private async loadInitial(): Promise<SimulatedProfile> {
    const profile = await readProfile(this.options.profilePath);
    this.adopt(profile);
    return profile;
  }

  /** Keeps the latest profile; seeds the walk the first time (and again if the seed changes). */
  private adopt(profile: SimulatedProfile): void {
    const previous = this.profile;
    this.profile = profile;
    if (previous !== null && previous.simulation.seed === profile.simulation.seed) return;
    const hostname = this.options.hostname ?? profile.hostname;
    this.random = mulberry32(fnv1a(hostname) ^ profile.simulation.seed);
    this.cpuPercent = profile.simulation.cpuPercentMean;
    this.memoryPercent = profile.simulation.memoryPercentMean;
  }

  /** Roughly normal noise in about [-1.5, 1.5]: the sum of three uniforms, centred. */
  private noise(): number {
    return this.random() + this.random() + this.random() - 1.5;
  }
}

export function toInventory(profile: SimulatedProfile, hostnameOverride?: string): HostInventory {
  const hostname = hostnameOverride ?? profile.hostname;
  const candidate = {
    hostname,
    osName: profile.osName,
    cpu: profile.cpu,
    memoryMiB: profile.memoryMiB,
    numaNodes: profile.numaNodes,
    nics: profile.nics.map((nic) => ({
      name: nic.name,
      macAddress: nic.macAddress ?? simulatedMac(hostname, nic.name),
      linkSpeedMbps: nic.linkSpeedMbps,
      linkUp: nic.linkUp,
    })),
    storagePools: profile.storagePools,
  };
  const parsed = hostInventorySchema.safeParse(candidate);
  if (!parsed.success) throw new DriverError(`profile gives an invalid inventory: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * 00:15:5D is Microsoft's Hyper-V prefix; the other three bytes come from the
 * host and NIC names, stable across restarts and distinct between hosts.
 */
export function simulatedMac(hostname: string, nicName: string): string {
  const hash = fnv1a(`${hostname}/${nicName}`);
  const bytes = [0x00, 0x15, 0x5d, (hash >>> 16) & 0xff, (hash >>> 8) & 0xff, hash & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
