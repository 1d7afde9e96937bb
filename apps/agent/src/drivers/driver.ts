import type { HostInventory } from '@fabric/core/fabric/inventory.schema';
import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';

/** A sample of what the host is using now; goes into every heartbeat. */
export interface HostUsage {
  /** Average over all logical processors, 0–100. */
  cpuPercent: number;
  /** Whole MiB, at most the host's memoryMiB. */
  memoryUsedMiB: number;
}

/** A VM's power state as the host sees it; the same words as the task protocol's `vmState`. */
export type VmPowerState = 'off' | 'running' | 'paused' | 'saved';

/** A VM the host has, as the driver knows it. */
export interface HostVm {
  vmId: string;
  name: string;
  state: VmPowerState;
  spec: VmSpec;
}

/**
 * Called by a VM operation as it advances: `percent` 0–100, `message` for
 * people. The task runner turns it into progress reports; it never throws.
 */
export type ProgressCallback = (percent: number, message: string) => void;

/**
 * What every VM operation gets. `signal` aborts the operation (a cancel from
 * the API, or the agent stopping); a driver honours it only up to the
 * operation's point of no return, after which it finishes the operation.
 */
export interface VmOperationContext {
  signal: AbortSignal;
  onProgress: ProgressCallback;
}

/**
 * What the reporter and the task runner need from a hypervisor. `inventory()`
 * is called every heartbeat, so it must be cheap and must return the host as
 * it is now (the reporter sends it only when it changed).
 *
 * VM operations must be idempotent, because a task interrupted by an agent
 * restart is run again: creating a VM id that exists succeeds without doing
 * anything, starting a running VM succeeds, deleting a missing VM succeeds.
 * They fail with a `VmOperationError`, whose code goes into the task report.
 */
export interface Driver {
  readonly name: 'simulated' | 'libvirt';
  inventory(): Promise<HostInventory>;
  usage(): Promise<HostUsage>;

  createVm(spec: VmSpec, context: VmOperationContext): Promise<HostVm>;
  startVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  /** Graceful: asks the guest to shut down. */
  stopVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  /** Pulls the plug. */
  turnOffVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  restartVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  pauseVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  resumeVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  /** Saves memory to disk and stops; the next start restores it. */
  saveVm(vmId: string, context: VmOperationContext): Promise<HostVm>;
  deleteVm(vmId: string, context: VmOperationContext): Promise<void>;
  listVms(): Promise<HostVm[]>;

  /**
   * Resource metering (Measure-VM): one sample per VM the host has, whatever
   * its state, for the interval of `intervalSeconds` ending at `intervalEnd`.
   * An off or saved VM has 0 CPU and 0 memory but still its disk allocation.
   * Fails with a DriverError when the host cannot be read.
   * `acls`: the metered port ACLs the API defined (heartbeat answer); a driver
   * that meters them adds `networkAcls` with one entry per ACL, one that
   * cannot leaves them out.
   */
  sampleVms(intervalEnd: Date, intervalSeconds: number, acls?: readonly string[]): Promise<VmSample[]>;
}

/** A driver cannot describe its host (bad profile, hypervisor unavailable). */
export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverError';
  }
}

/**
 * Stable codes a VM operation fails with; they are the task report's `code`.
 * The API and the console program against them, so never rename one.
 */
export const VM_ERROR_CODES = [
  'INSUFFICIENT_MEMORY',
  'INSUFFICIENT_STORAGE',
  'POOL_NOT_FOUND',
  'INVALID_STATE',
  'VM_NOT_FOUND',
  'INVALID_SPEC',
  'CANCELLED',
  'DRIVER_ERROR',
  /** HA isolation: this host applied its isolation response and starts nothing until the API answers. */
  'HOST_ISOLATED',
] as const;
export type VmErrorCode = (typeof VM_ERROR_CODES)[number];

/** A VM operation failed; `vmState` is the VM's state afterwards (null: the host has no such VM). */
export class VmOperationError extends Error {
  constructor(
    readonly code: VmErrorCode,
    message: string,
    readonly vmState: VmPowerState | null,
  ) {
    super(message);
    this.name = 'VmOperationError';
  }
}
