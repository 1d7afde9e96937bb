import { randomUUID } from 'node:crypto';
import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import type { HostVm, VmOperationContext } from '../drivers/driver';
import { SimulatedDriver } from '../drivers/simulated/simulated-driver';

export const GIB = 1024 ** 3;

/** A 40 GiB fixed VHDX in the pool "Local". */
export function vmDisk(overrides: Partial<VmSpec['disks'][number]> = {}): VmSpec['disks'][number] {
  return {
    name: 'os.vhdx',
    pool: 'Local',
    sizeBytes: 40 * GIB,
    logicalSectorBytes: 512,
    kind: 'fixed',
    parent: null,
    ...overrides,
  };
}

/** A small VM: 2 vCPU, 2 GiB static memory, one 40 GiB fixed disk in "Local". */
export function vmSpec(overrides: Partial<VmSpec> = {}): VmSpec {
  const vmId = overrides.vmId ?? randomUUID();
  return {
    vmId,
    name: `vm-${vmId.slice(0, 6)}`,
    vcpus: 2,
    memory: { dynamic: false, startupMiB: 2048, minimumMiB: 512, maximumMiB: 2048, bufferPercent: 20, weight: 5000 },
    disks: [vmDisk()],
    nics: [],
    ...overrides,
  };
}

/** An operation context that is never cancelled and records progress. */
export function quietContext(progress: number[] = []): VmOperationContext {
  return { signal: new AbortController().signal, onProgress: (percent) => progress.push(percent) };
}

/**
 * The simulated driver with a record of its VM calls: which ran, in what
 * order, and how many at once, so tests can tell "ran once" from "ran twice".
 */
export class RecordingDriver extends SimulatedDriver {
  readonly calls: string[] = [];
  /** `begin <op> <vmId>` / `end <op> <vmId>`, in the order they happened. */
  readonly events: string[] = [];
  active = 0;
  maxActive = 0;

  count(op: string): number {
    return this.calls.filter((c) => c.startsWith(`${op} `)).length;
  }

  private async record<T>(op: string, vmId: string, call: () => Promise<T>): Promise<T> {
    this.calls.push(`${op} ${vmId}`);
    this.events.push(`begin ${op} ${vmId}`);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await call();
    } finally {
      this.active -= 1;
      this.events.push(`end ${op} ${vmId}`);
    }
  }

  override createVm(spec: VmSpec, context: VmOperationContext): Promise<HostVm> {
    return this.record('create', spec.vmId, () => super.createVm(spec, context));
  }
  override startVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.record('start', vmId, () => super.startVm(vmId, context));
  }
  override stopVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.record('stop', vmId, () => super.stopVm(vmId, context));
  }
  override pauseVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.record('pause', vmId, () => super.pauseVm(vmId, context));
  }
  override resumeVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.record('resume', vmId, () => super.resumeVm(vmId, context));
  }
  override saveVm(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.record('save', vmId, () => super.saveVm(vmId, context));
  }
  override deleteVm(vmId: string, context: VmOperationContext): Promise<void> {
    return this.record('delete', vmId, () => super.deleteVm(vmId, context));
  }
}
