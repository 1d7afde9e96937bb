import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import {
  type Driver,
  type HostVm,
  type VmOperationContext,
  VmOperationError,
  type VmPowerState,
} from '../drivers/driver';
import type { EpochStore } from './epoch-store';
import type { RunLog } from './run-log';

/** Operations that may make a VM live: refused while the start gate is closed. */
const STARTS = new Set(['vm.create', 'vm.start', 'vm.restart', 'vm.resume']);

/** A VM that runs guest code or holds its memory on the host: the states that must never exist on two hosts. */
export function isLive(state: VmPowerState | null | undefined): boolean {
  return state === 'running' || state === 'paused';
}

/**
 * Wraps a driver so that every VM operation that makes a VM live, or ends its
 * life, on this host is written to the run log with the VM's epoch. The wrapper
 * compares the VM's state before and after each operation, so it is right
 * whatever the operation was (a start, a resume, a turn-off, a delete).
 */
export class RunLoggingDriver implements Driver {
  readonly name: Driver['name'];
  /**
   * A reason while nothing may become live on this host (HA isolation: the control plane may restart
   * this host's VMs elsewhere once its lease ends), else null. Checked before an operation that may
   * start a VM and again after it: a start that was under way when the host isolated itself is
   * turned off at once, so a task pulled before the isolation never leaves a second copy running.
   */
  private startGate: () => string | null = () => null;

  constructor(
    private readonly inner: Driver,
    private readonly runLog: RunLog,
    private readonly epochs: EpochStore,
  ) {
    this.name = inner.name;
  }

  /** At agent start: the log agrees with the host (runs the log missed are opened, runs that ended are closed). */
  async reconcile(): Promise<void> {
    await this.epochs.load();
    const live = new Map((await this.inner.listVms()).filter((vm) => isLive(vm.state)).map((vm) => [vm.vmId, vm]));
    const open = this.runLog.openRuns();
    for (const [vmId, entry] of open) {
      if (!live.has(vmId)) this.runLog.record(vmId, entry.epoch, 'stopped', 'agent-start');
    }
    for (const vmId of live.keys()) {
      if (!open.has(vmId)) this.runLog.record(vmId, this.epochs.get(vmId), 'started', 'agent-start');
    }
  }

  setStartGate(gate: () => string | null): void {
    this.startGate = gate;
  }

  inventory() {
    return this.inner.inventory();
  }
  usage() {
    return this.inner.usage();
  }
  listVms() {
    return this.inner.listVms();
  }
  sampleVms(intervalEnd: Date, intervalSeconds: number, acls?: readonly string[]) {
    return this.inner.sampleVms(intervalEnd, intervalSeconds, acls);
  }

  createVm(spec: VmSpec, context: VmOperationContext) {
    return this.logged(spec.vmId, 'vm.create', () => this.inner.createVm(spec, context));
  }
  startVm(vmId: string, context: VmOperationContext) {
    return this.logged(vmId, 'vm.start', () => this.inner.startVm(vmId, context));
  }
  /** `reason`: why, in the run log (default the task kind), e.g. 'isolation'. */
  stopVm(vmId: string, context: VmOperationContext, reason = 'vm.stop') {
    return this.logged(vmId, reason, () => this.inner.stopVm(vmId, context));
  }
  turnOffVm(vmId: string, context: VmOperationContext, reason = 'vm.turn-off') {
    return this.logged(vmId, reason, () => this.inner.turnOffVm(vmId, context));
  }
  restartVm(vmId: string, context: VmOperationContext) {
    return this.logged(vmId, 'vm.restart', () => this.inner.restartVm(vmId, context));
  }
  pauseVm(vmId: string, context: VmOperationContext) {
    return this.logged(vmId, 'vm.pause', () => this.inner.pauseVm(vmId, context));
  }
  resumeVm(vmId: string, context: VmOperationContext) {
    return this.logged(vmId, 'vm.resume', () => this.inner.resumeVm(vmId, context));
  }
  saveVm(vmId: string, context: VmOperationContext) {
    return this.logged(vmId, 'vm.save', () => this.inner.saveVm(vmId, context));
  }
  async deleteVm(vmId: string, context: VmOperationContext, reason = 'vm.delete'): Promise<void> {
    const before = await this.stateOf(vmId);
    try {
      await this.inner.deleteVm(vmId, context);
    } finally {
      const after = await this.stateOf(vmId);
      if (isLive(before) && !isLive(after)) this.runLog.record(vmId, this.epochs.get(vmId), 'stopped', reason);
    }
    await this.epochs.forget(vmId);
  }

  /** Any other driver method (a kind's handler may use more than the Driver interface) passes through. */
  get wrapped(): Driver {
    return this.inner;
  }

  private async logged(vmId: string, reason: string, operation: () => Promise<HostVm>): Promise<HostVm> {
    const before = await this.stateOf(vmId);
    const refused = STARTS.has(reason) && !isLive(before) ? this.startGate() : null;
    if (refused) throw new VmOperationError('HOST_ISOLATED', refused, before);
    let vm: HostVm;
    let after: VmPowerState | null = null;
    try {
      vm = await operation();
      after = vm.state;
    } catch (error) {
      after = await this.stateOf(vmId);
      throw error;
    } finally {
      const epoch = this.epochs.get(vmId);
      if (!isLive(before) && isLive(after)) this.runLog.record(vmId, epoch, 'started', reason);
      else if (isLive(before) && !isLive(after)) this.runLog.record(vmId, epoch, 'stopped', reason);
    }
    const late = !isLive(before) && isLive(after) ? this.startGate() : null;
    if (!late) return vm;
    // It came up as the host isolated itself: off at once (logged as stopped for isolation).
    const context: VmOperationContext = { signal: new AbortController().signal, onProgress: () => undefined };
    const off = await this.turnOffVm(vmId, context, 'isolation');
    throw new VmOperationError('HOST_ISOLATED', `${late}; ${off.name} had started and was turned off`, off.state);
  }

  private async stateOf(vmId: string): Promise<VmPowerState | null> {
    try {
      return (await this.inner.listVms()).find((vm) => vm.vmId === vmId)?.state ?? null;
    } catch {
      return null;
    }
  }
}
