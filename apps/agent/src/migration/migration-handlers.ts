/**
 * The host side of live migration (issue 12; packages/core/src/tasks/migration-task-protocol.schema.ts
 * lists the kinds). The control plane runs them across both hosts in the
 * whitepaper's order; here each is one idempotent step on this host, on the
 * simulated driver:
 *
 *   prepare   (destination) the VM's memory is reserved (held in this process until
 *             activate; the VM itself is created only once it is ours: a VM
 *             on a host that does not own it is discarded by reconciliation);
 *   precopy   (source) memory sent in passes while the VM runs: the passes come
 *             from the page-level simulation of the core model (the guest's
 *             dirty rate with noise) and take their modeled time, scaled by
 *             `timeScale`; honours cancellation (the signal) throughout;
 *   final     (source) the VM paused for the blackout, then turned off: the
 *             state is on the destination, and the source partition ends
 *             before the destination starts, so the run log never shows two;
 *   activate  (destination) the VM created from the transferred state and started;
 *   cleanup   (source) the VM's copy deleted (gone already is fine);
 *   abort     undo: destination deletes the skeleton, source starts the VM again.
 *
 * The disks follow the VM (disk-transfer.ts): disks-receive (destination),
 * disks-copy (source: copy while the guest writes, then mirrored), disks-handover
 * (source, guest stopped: the destination's copy checked equal and complete),
 * disks-abort (source: mirror stopped). activate runs the VM on the copied
 * files; cleanup deletes the VM's source copy with its disk files; a
 * destination abort deletes the incoming copy.
 */

import { type PreCopyLimits, seededRandom, simulatePreCopy } from '@fabric/core/mobility/precopy-sim';
import {
  migrationAbortParamsSchema,
  migrationDisksCopyParamsSchema,
  migrationFinalParamsSchema,
  migrationPrecopyParamsSchema,
  migrationPrepareParamsSchema,
  migrationStepParamsSchema,
} from '@fabric/core/tasks/migration-task-protocol.schema';
import { vmSpecSchema } from '@fabric/core/tasks/task-protocol.schema';
import type { Driver } from '../drivers/driver';
import { parseParams, TaskError, type TaskHandlers } from '../task-handlers';
import type { MigrationDisks } from './disk-transfer';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TaskError('CANCELLED', 'cancelled'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TaskError('CANCELLED', 'cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function find(driver: Driver, vmId: string) {
  return (await driver.listVms()).find((v) => v.vmId === vmId) ?? null;
}

export function registerMigrationHandlers(
  handlers: TaskHandlers,
  deps: { driver: Driver; disks?: MigrationDisks },
): void {
  const { driver } = deps;
  /** Memory reserved per incoming migration (what prepare holds until activate or abort). */
  const reserved = new Map<string, number>();

  handlers.register('migration.prepare', async (task) => {
    const params = parseParams(task, migrationPrepareParamsSchema);
    const spec = vmSpecSchema.safeParse(params.spec);
    if (!spec.success) throw new TaskError('INVALID_PARAMS', 'migration.prepare: the VM spec is not valid');
    reserved.set(params.migrationId, spec.data.memory.startupMiB);
    return {
      status: 'succeeded',
      vmState: null,
      message: `Ready for ${spec.data.name}: ${spec.data.memory.startupMiB} MiB reserved`,
      result: { reservedMiB: spec.data.memory.startupMiB },
    };
  });

  handlers.register('migration.precopy', async (task, context) => {
    const p = parseParams(task, migrationPrecopyParamsSchema);
    const vm = await find(driver, task.vmId);
    if (vm?.state !== 'running') {
      throw new TaskError('VM_NOT_RUNNING', `the VM is ${vm ? vm.state : 'not on this host'}: nothing to pre-copy`);
    }
    const policy: PreCopyLimits = {
      maxPasses: p.maxPasses,
      maxBlackoutMs: p.maxBlackoutMs,
    };
    const sim = simulatePreCopy(
      {
        memoryMiB: p.memoryMiB,
        workingSetMiB: p.workingSetMiB,
        dirtyMiBps: p.dirtyMiBps,
        linkMbps: p.linkMbps,
        concurrent: p.concurrent,
      },
      policy,
      seededRandom(p.seed ^ task.taskId.length),
      { dirtyCapMiBps: p.dirtyCapMiBps ?? undefined },
    );
    const mirrorBroken = () => {
      const error = deps.disks?.mirrorError(p.migrationId) ?? null;
      if (error) {
        throw new TaskError('MIRROR_BROKEN', `the disks are no longer mirrored to the destination: ${error}`);
      }
    };
    mirrorBroken();
    // Take the modeled time, pass by pass, reporting progress; a cancel stops between slices.
    let done = 0;
    const total = sim.precopySeconds || 1;
    for (const pass of sim.passes) {
      let left = pass.seconds * p.timeScale * 1000;
      while (left > 0) {
        const slice = Math.min(250, left);
        await sleep(slice, context.signal);
        left -= slice;
      }
      done += pass.seconds;
      context.onProgress(
        Math.min(99, Math.round((done / total) * 100)),
        `pass ${pass.pass + 1}: ${Math.round(pass.mib)} MiB`,
      );
    }
    // A mirror that broke meanwhile fails here, while the VM runs, not after the final copy's pause.
    mirrorBroken();
    return {
      status: 'succeeded',
      vmState: 'running',
      message: `${sim.passes.length} pre-copy passes, ${Math.round(sim.sentMiB)} MiB`,
      result: {
        passes: sim.passes.map((x) => ({ pass: x.pass, mib: x.mib, seconds: x.seconds })),
        precopySeconds: sim.precopySeconds,
        remainingMiB: sim.passes.length ? sim.sentMiB - sim.passes.reduce((s, x) => s + x.mib, 0) : 0,
        blackoutMs: sim.blackoutMs,
        converged: sim.converged,
        sentMiB: sim.sentMiB,
      },
    };
  });

  handlers.register('migration.final', async (task, context) => {
    const p = parseParams(task, migrationFinalParamsSchema);
    const vm = await find(driver, task.vmId);
    if (!vm) throw new TaskError('VM_NOT_FOUND', 'the VM is not on this host');
    const started = Date.now();
    if (vm.state === 'running') await driver.pauseVm(task.vmId, context);
    await new Promise((r) => setTimeout(r, p.blackoutMs * p.timeScale));
    // The state now lives on the destination: the source partition ends before the destination starts.
    if ((await find(driver, task.vmId))?.state !== 'off') await driver.turnOffVm(task.vmId, context);
    return {
      status: 'succeeded',
      vmState: null,
      message: `Final copy done, paused ${Math.round(p.blackoutMs)} ms`,
      result: { blackoutMs: p.blackoutMs, wallMs: Date.now() - started },
    };
  });

  handlers.register('migration.activate', async (task, context) => {
    const params = parseParams(task, migrationPrepareParamsSchema);
    const spec = vmSpecSchema.safeParse(params.spec);
    if (!spec.success) throw new TaskError('INVALID_PARAMS', 'migration.activate: the VM spec is not valid');
    let vm = await find(driver, task.vmId);
    // The copied disks become the VM's own before it is created here (createVm keeps disks it finds).
    const installed = vm ? false : ((await deps.disks?.install(params.migrationId, task.vmId)) ?? false);
    vm ??= await driver.createVm(spec.data, context);
    reserved.delete(params.migrationId);
    if (params.start === false) {
      return {
        status: 'succeeded',
        vmState: null,
        message: `Registered on this host, off${installed ? ', on the copied disks' : ''}`,
        result: { disksInstalled: installed },
      };
    }
    if (vm.state !== 'running') await driver.startVm(task.vmId, context);
    return {
      status: 'succeeded',
      vmState: 'running',
      message: `Running on this host${installed ? ', on the copied disks' : ''}`,
      result: { disksInstalled: installed },
    };
  });

  handlers.register('migration.cleanup', async (task, context) => {
    const p = parseParams(task, migrationStepParamsSchema);
    const vm = await find(driver, task.vmId);
    if (vm) {
      if (vm.state === 'running' || vm.state === 'paused') await driver.turnOffVm(task.vmId, context);
      await driver.deleteVm(task.vmId, context);
    }
    // The mirror ended at handover; its record goes too, or the VM, once back here, could not migrate
    // off again ("the disks of this VM are mirrored for" the migration that took it away).
    await deps.disks?.stopOutgoing(p.migrationId);
    return {
      status: 'succeeded',
      vmState: null,
      message: vm ? 'Source copy removed' : 'Nothing left here',
      result: {},
    };
  });

  handlers.register('migration.abort', async (task, context) => {
    const p = parseParams(task, migrationAbortParamsSchema);
    const vm = await find(driver, task.vmId);
    if (p.side === 'destination') {
      reserved.delete(p.migrationId);
      if (vm) {
        if (vm.state !== 'off') await driver.turnOffVm(task.vmId, context);
        await driver.deleteVm(task.vmId, context);
      }
      await deps.disks?.dropIncoming(p.migrationId);
      return { status: 'succeeded', vmState: null, message: 'Skeleton and disk copy removed', result: {} };
    }
    if (!vm) throw new TaskError('VM_NOT_FOUND', 'the VM is not on this host any more');
    if (vm.state === 'paused') await driver.resumeVm(task.vmId, context);
    else if (vm.state !== 'running') await driver.startVm(task.vmId, context);
    return { status: 'succeeded', vmState: 'running', message: 'Running on the source again', result: {} };
  });

  handlers.register('migration.disks-receive', async (task) => {
    const p = parseParams(task, migrationStepParamsSchema);
    if (!deps.disks) throw new TaskError('NO_DISKS', 'this host keeps no disk files');
    const target = await deps.disks.receive(p.migrationId, task.vmId);
    return { status: 'succeeded', vmState: null, message: 'Ready to receive the disks', result: target };
  });

  handlers.register('migration.disks-copy', async (task, context) => {
    const p = parseParams(task, migrationDisksCopyParamsSchema);
    if (!deps.disks) throw new TaskError('NO_DISKS', 'this host keeps no disk files');
    const result = await deps.disks.copy(p.migrationId, task.vmId, p, context);
    const mib = result.bytes / 1048576;
    return {
      status: 'succeeded',
      vmState: null,
      message: `${result.disks.length} disks copied (${mib.toFixed(1)} MiB in ${result.durationMs} ms); writes now go to both hosts`,
      result: { ...result },
    };
  });

  handlers.register('migration.disks-handover', async (task) => {
    const p = parseParams(task, migrationStepParamsSchema);
    if (!deps.disks) throw new TaskError('NO_DISKS', 'this host keeps no disk files');
    const result = await deps.disks.handover(p.migrationId, task.vmId);
    return {
      status: 'succeeded',
      vmState: null,
      message: `${result.disks.length} disks equal on the destination at guest write ${result.guestWriteSeq}`,
      result: { ...result },
    };
  });

  handlers.register('migration.disks-abort', async (task) => {
    const p = parseParams(task, migrationStepParamsSchema);
    await deps.disks?.stopOutgoing(p.migrationId);
    return { status: 'succeeded', vmState: null, message: 'Disk mirror stopped; the disks stay here', result: {} };
  });
}
