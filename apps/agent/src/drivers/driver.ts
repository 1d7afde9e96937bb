import type { HostInventory } from '@fabric/core/fabric/inventory.schema';

/** A sample of what the host is using now; goes into every heartbeat. */
export interface HostUsage {
  /** Average over all logical processors, 0–100. */
  cpuPercent: number;
  /** Whole MiB, at most the host's memoryMiB. */
  memoryUsedMiB: number;
}

/**
 * What the reporter needs from a hypervisor. `inventory()` is called every
 * heartbeat, so it must be cheap and must return the host as it is now (the
 * reporter sends it only when it changed).
 */
export interface Driver {
  readonly name: 'simulated' | 'libvirt';
  inventory(): Promise<HostInventory>;
  usage(): Promise<HostUsage>;
}

/** A driver cannot describe its host (bad profile, hypervisor unavailable). */
export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverError';
  }
}
