import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type VmSpec, vmSpecSchema } from '@fabric/core/tasks/task-protocol.schema';
import { z } from 'zod';
import type { SimDisks } from '../../disks/vm-disks';
import { removePoolFolders } from '../../migration/pool-folders';
import { sleep } from '../../sleep';
import { writeFileAtomic } from '../../state-store';
import {
  DriverError,
  type HostVm,
  type VmErrorCode,
  type VmOperationContext,
  VmOperationError,
  type VmPowerState,
} from '../driver';
import type { SimulatedProfile } from './profile';

/**
 * The VMs of a simulated host: their power states, persisted in `vms.json`
 * in the agent's state directory so they survive an agent restart, and the
 * host's limits (memory, storage pools) that a real Hyper-V host would
 * enforce. Operations take about as long as on a real host (scaled down by
 * `speed` for tests) and move through progress steps.
 */

/** Memory Hyper-V keeps for the parent partition; VMs cannot have it. */
export const HOST_RESERVE_MIB = 2048;
/** A new dynamic or differencing VHDX takes a few MiB until the guest writes to it. */
export const SPARSE_DISK_INITIAL_BYTES = 4 * 1024 * 1024;
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

const storedVmSchema = z.object({
  vmId: z.string(),
  name: z.string(),
  state: z.enum(['off', 'running', 'paused', 'saved']),
  spec: vmSpecSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
type StoredVm = z.infer<typeof storedVmSchema>;
const vmsFileSchema = z.object({ version: z.literal(1), vms: z.array(storedVmSchema) });

/** Bytes a disk takes in its pool as soon as it exists. */
export function allocatedBytes(disk: VmSpec['disks'][number]): number {
  return disk.kind === 'fixed' ? disk.sizeBytes : Math.min(disk.sizeBytes, SPARSE_DISK_INITIAL_BYTES);
}

/** Memory a running VM holds: its startup memory, also with Dynamic Memory (it starts with that much). */
export function vmMemoryMiB(spec: VmSpec): number {
  return spec.memory.startupMiB;
}

/** Holds memory or pool space for an operation between its capacity check and its commit. */
interface Reservation {
  memoryMiB: number;
  pools: Map<string, number>;
}

interface Step {
  /** Duration at speed 1. */
  ms: number;
  /** Progress reached when the step ends, 0–100. */
  until: number;
  message: string;
  /** A cancel is honoured before this step; from the first step without it on, the operation completes. */
  cancellable: boolean;
}

export interface SimulatedVmsOptions {
  /** vms.json; null keeps the VMs in memory (a driver used only for its inventory). */
  file: string | null;
  /** Divides every duration: 20 runs a 1 s start in 50 ms. */
  speed: number;
  /** The profile now (re-read, so capacity follows edits like the inventory does). */
  profile: () => Promise<SimulatedProfile>;
  /** Seeded, for failure injection and the spread of durations. */
  random: () => number;
  /** Real disk files: made on create, written by the guest while running, removed on delete. */
  disks?: SimDisks;
}

export class SimulatedVms {
  private vms: Map<string, StoredVm> | null = null;
  private loading: Promise<Map<string, StoredVm>> | null = null;
  private readonly busy = new Set<string>();
  private readonly reservations = new Map<string, Reservation>();
  /** Changes of the map (and writes of vms.json), one after another; see mutate(). */
  private mutations: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimulatedVmsOptions) {}

  async list(): Promise<HostVm[]> {
    const vms = await this.load();
    return [...vms.values()].map(toHostVm);
  }

  /** Bytes the VMs' disks take in each pool, for the inventory's usedBytes. */
  async allocatedByPool(): Promise<Map<string, number>> {
    const vms = await this.load();
    const byPool = new Map<string, number>();
    for (const vm of vms.values()) {
      for (const disk of vm.spec.disks) byPool.set(disk.pool, (byPool.get(disk.pool) ?? 0) + allocatedBytes(disk));
    }
    return byPool;
  }

  /** Memory held by running and paused VMs (a paused VM keeps its memory; a saved one does not). */
  async memoryInUseMiB(): Promise<number> {
    const vms = await this.load();
    let total = 0;
    for (const vm of vms.values()) if (vm.state === 'running' || vm.state === 'paused') total += vmMemoryMiB(vm.spec);
    return total;
  }

  async create(spec: VmSpec, context: VmOperationContext): Promise<HostVm> {
    return this.exclusive(spec.vmId, async () => {
      const vms = await this.load();
      const existing = vms.get(spec.vmId);
      // Run again after a restart, or sent twice: the VM id is the identity, so it is done.
      if (existing) return toHostVm(existing);
      const profile = await this.options.profile();
      await this.reserveStorage(spec, profile);
      try {
        const fixedBytes = spec.disks.filter((d) => d.kind === 'fixed').reduce((sum, d) => sum + d.sizeBytes, 0);
        // 1 s for the configuration, up to 2 s more for zeroing fixed VHDX (a full 1 TiB caps it).
        const diskMs = 2000 * Math.min(1, fixedBytes / TIB);
        await this.run(context, null, [
          { ms: 300, until: 15, message: 'writing the VM configuration', cancellable: true },
          ...spec.disks.map((disk, i) => ({
            ms: (diskMs * (disk.kind === 'fixed' ? disk.sizeBytes : 0)) / Math.max(1, fixedBytes) + 100,
            until: 15 + Math.round((70 * (i + 1)) / spec.disks.length),
            message: `creating ${disk.kind} VHDX ${disk.name} (${formatBytes(disk.sizeBytes)}) in ${disk.pool}`,
            cancellable: true,
          })),
          { ms: 300, until: 95, message: 'connecting network adapters', cancellable: true },
          { ms: 300, until: 100, message: 'registering the VM', cancellable: false },
        ]);
        // Files exist already when a replica failover materialized them: create keeps their content.
        await this.withDisks(null, (disks) => disks.create(spec.vmId, spec.disks));
        const now = new Date().toISOString();
        await this.commit({ vmId: spec.vmId, name: spec.name, state: 'off', spec, createdAt: now, updatedAt: now });
      } finally {
        this.reservations.delete(spec.vmId);
      }
      return toHostVm(this.mustGet(spec.vmId));
    });
  }

  async start(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'start', async (vm) => {
      if (vm.state === 'running') return vm;
      if (vm.state === 'paused') throw invalidState(vm, 'start', 'resume it instead');
      const restoring = vm.state === 'saved';
      await this.reserveMemory(vm);
      try {
        const steps: Step[] = restoring
          ? [
              { ms: 200, until: 20, message: 'preparing to restore', cancellable: true },
              { ms: restoreMs(vm.spec), until: 100, message: 'restoring saved memory', cancellable: false },
            ]
          : [
              { ms: 400, until: 40, message: 'allocating memory', cancellable: true },
              { ms: 600, until: 100, message: 'powering on', cancellable: false },
            ];
        await this.run(context, vm, steps);
        return this.setState(vm, 'running');
      } finally {
        this.reservations.delete(vm.vmId);
      }
    });
  }

  async stop(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'stop', async (vm) => {
      if (vm.state === 'off') return vm;
      if (vm.state !== 'running') throw invalidState(vm, 'shut down', 'only a running guest can shut down');
      const guestMs = 700 + 1000 * this.options.random();
      await this.run(context, vm, [
        { ms: 300, until: 25, message: 'asking the guest to shut down', cancellable: true },
        { ms: guestMs, until: 100, message: 'guest shutting down', cancellable: false },
      ]);
      return this.setState(vm, 'off');
    });
  }

  async turnOff(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'turn off', async (vm) => {
      if (vm.state === 'off') return vm;
      // From saved too: turning off a saved VM discards its saved state, as on Hyper-V.
      await this.run(context, vm, [{ ms: 200, until: 100, message: 'turning off', cancellable: false }]);
      return this.setState(vm, 'off');
    });
  }

  async restart(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'restart', async (vm) => {
      if (vm.state !== 'running') throw invalidState(vm, 'restart', 'only a running VM can restart');
      await this.run(context, vm, [
        { ms: 300, until: 20, message: 'asking the guest to restart', cancellable: true },
        { ms: 700 + 1000 * this.options.random(), until: 60, message: 'guest shutting down', cancellable: false },
        { ms: 1000, until: 100, message: 'powering on', cancellable: false },
      ]);
      return this.setState(vm, 'running');
    });
  }

  async pause(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'pause', async (vm) => {
      if (vm.state === 'paused') return vm;
      if (vm.state !== 'running') throw invalidState(vm, 'pause', 'only a running VM can pause');
      await this.run(context, vm, [{ ms: 200, until: 100, message: 'pausing', cancellable: false }]);
      return this.setState(vm, 'paused');
    });
  }

  async resume(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'resume', async (vm) => {
      if (vm.state === 'running') return vm;
      if (vm.state !== 'paused') throw invalidState(vm, 'resume', 'only a paused VM can resume; start it instead');
      await this.run(context, vm, [{ ms: 200, until: 100, message: 'resuming', cancellable: false }]);
      return this.setState(vm, 'running');
    });
  }

  async save(vmId: string, context: VmOperationContext): Promise<HostVm> {
    return this.transition(vmId, 'save', async (vm) => {
      if (vm.state === 'saved') return vm;
      if (vm.state === 'off') throw invalidState(vm, 'save', 'an off VM has no memory to save');
      const ms = saveMs(vm.spec);
      await this.run(context, vm, [
        { ms: ms * 0.8, until: 80, message: `writing ${vmMemoryMiB(vm.spec)} MiB of memory`, cancellable: true },
        { ms: ms * 0.2, until: 100, message: 'stopping the VM', cancellable: false },
      ]);
      return this.setState(vm, 'saved');
    });
  }

  async delete(vmId: string, context: VmOperationContext): Promise<void> {
    await this.exclusive(vmId, async () => {
      const vms = await this.load();
      const vm = vms.get(vmId);
      // Already gone: a delete run again after a restart has nothing left to do (but files left over go).
      if (!vm) {
        await this.withDisks(null, (disks) => disks.remove(vmId));
        await this.withDisks(null, (disks) => removePoolFolders(disks.vmDir(vmId)));
        return;
      }
      if (vm.state === 'running' || vm.state === 'paused') {
        throw invalidState(vm, 'delete', 'turn it off or save it first');
      }
      await this.run(context, vm, [
        { ms: 200, until: 30, message: 'removing the VM configuration', cancellable: true },
        { ms: 300, until: 100, message: 'deleting virtual disks', cancellable: false },
      ]);
      await this.remove(vmId);
      await this.withDisks(null, (disks) => disks.remove(vmId));
      // Disks moved to another pool live in that pool's folder (storage-move-handlers.ts).
      await this.withDisks(null, (disks) => removePoolFolders(disks.vmDir(vmId)));
    });
  }

  /**
   * Live storage migration switched these disks to `pool`: the VM's record says so (what a restart
   * finds, and the inventory's per-pool usage). The files moved already (storage-move-handlers.ts).
   */
  async setDiskPool(vmId: string, diskNames: readonly string[], pool: string): Promise<void> {
    await this.exclusive(vmId, async () => {
      const vm = (await this.load()).get(vmId);
      if (!vm) return;
      const disks = vm.spec.disks.map((d) => (diskNames.includes(d.name) ? { ...d, pool } : d));
      await this.commit({ ...vm, spec: { ...vm.spec, disks }, updatedAt: new Date().toISOString() });
    });
  }

  // --- machinery -----------------------------------------------------------

  /** One operation per VM at a time, like Hyper-V's per-VM lock; the task runner already orders them. */
  private async exclusive<T>(vmId: string, operation: () => Promise<T>): Promise<T> {
    if (this.busy.has(vmId)) {
      const vm = (await this.load()).get(vmId);
      throw new VmOperationError('INVALID_STATE', `VM ${vmId} is busy with another operation`, vm?.state ?? null);
    }
    this.busy.add(vmId);
    try {
      return await operation();
    } finally {
      this.busy.delete(vmId);
    }
  }

  private async transition(
    vmId: string,
    verb: string,
    operation: (vm: StoredVm) => Promise<StoredVm>,
  ): Promise<HostVm> {
    return this.exclusive(vmId, async () => {
      const vm = (await this.load()).get(vmId);
      if (!vm) throw new VmOperationError('VM_NOT_FOUND', `cannot ${verb} VM ${vmId}: this host has no such VM`, null);
      return toHostVm(await operation(vm));
    });
  }

  /**
   * Walks the steps, reporting progress in ticks of at most 10 % so a long
   * step still shows movement. A cancel is honoured between ticks while the
   * step is cancellable; past the point of no return the operation
   * completes. An injected failure strikes at a random point.
   */
  private async run(context: VmOperationContext, vm: StoredVm | null, steps: Step[]): Promise<void> {
    const profile = await this.options.profile();
    const failAt = this.options.random() < profile.simulation.failureRate ? this.options.random() * 100 : null;
    let from = 0;
    for (const step of steps) {
      if (step.cancellable && context.signal.aborted) throw cancelled(vm);
      context.onProgress(from, step.message);
      const ticks = Math.max(1, Math.ceil((step.until - from) / 10));
      for (let tick = 1; tick <= ticks; tick += 1) {
        // Past the point of no return the step ignores the signal: it must complete.
        await sleep(step.ms / ticks / this.options.speed, step.cancellable ? context.signal : undefined);
        if (step.cancellable && context.signal.aborted) throw cancelled(vm);
        const reached = from + ((step.until - from) * tick) / ticks;
        if (failAt !== null && failAt < reached) {
          throw new VmOperationError('DRIVER_ERROR', `simulated failure while ${step.message}`, vm?.state ?? null);
        }
        if (tick < ticks) context.onProgress(Math.round(reached), step.message);
      }
      from = step.until;
    }
    context.onProgress(100, 'done');
  }

  private async reserveMemory(vm: StoredVm): Promise<void> {
    const profile = await this.options.profile();
    const available = profile.memoryMiB - HOST_RESERVE_MIB;
    let reserved = 0;
    for (const r of this.reservations.values()) reserved += r.memoryMiB;
    const inUse = (await this.memoryInUseMiB()) + reserved;
    const wanted = vmMemoryMiB(vm.spec);
    if (inUse + wanted > available) {
      throw new VmOperationError(
        'INSUFFICIENT_MEMORY',
        `VM ${vm.name} needs ${wanted} MiB; the host has ${Math.max(0, available - inUse)} MiB free ` +
          `(${profile.memoryMiB} MiB less ${HOST_RESERVE_MIB} MiB reserved for the host, ${inUse} MiB in use)`,
        vm.state,
      );
    }
    this.reservations.set(vm.vmId, { memoryMiB: wanted, pools: new Map() });
  }

  private async reserveStorage(spec: VmSpec, profile: SimulatedProfile): Promise<void> {
    const wanted = new Map<string, number>();
    for (const disk of spec.disks) wanted.set(disk.pool, (wanted.get(disk.pool) ?? 0) + allocatedBytes(disk));
    const allocated = await this.allocatedByPool();
    for (const r of this.reservations.values()) {
      for (const [pool, bytes] of r.pools) allocated.set(pool, (allocated.get(pool) ?? 0) + bytes);
    }
    for (const [poolName, bytes] of wanted) {
      const pool = profile.storagePools.find((p) => p.name === poolName);
      if (!pool) {
        const known = profile.storagePools.map((p) => p.name).join(', ');
        throw new VmOperationError(
          'POOL_NOT_FOUND',
          `storage pool "${poolName}" does not exist on this host (it has: ${known || 'none'})`,
          null,
        );
      }
      const free = pool.capacityBytes - pool.usedBytes - (allocated.get(poolName) ?? 0);
      if (bytes > free) {
        throw new VmOperationError(
          'INSUFFICIENT_STORAGE',
          `VM ${spec.name} needs ${formatBytes(bytes)} in pool ${poolName}, which has ${formatBytes(Math.max(0, free))} free`,
          null,
        );
      }
    }
    this.reservations.set(spec.vmId, { memoryMiB: 0, pools: wanted });
  }

  private async setState(vm: StoredVm, state: VmPowerState): Promise<StoredVm> {
    // The guest stops writing before the VM is reported stopped, and writes once it is reported running.
    if (state !== 'running') await this.withDisks(vm.state, (disks) => disks.stopGuest(vm.vmId));
    const next = { ...vm, state, updatedAt: new Date().toISOString() };
    await this.commit(next);
    if (state === 'running') await this.withDisks(vm.state, (disks) => disks.startGuest(vm.vmId));
    return next;
  }

  /**
   * The host lost power (its BMC forced it off) since the agent last ran: no VM survives that, so the
   * running and paused ones are off when it boots (saved ones stay saved: their state is on disk).
   * Returns the VMs it turned off.
   */
  async powerLost(): Promise<string[]> {
    const lost = [...(await this.load()).values()].filter((vm) => vm.state === 'running' || vm.state === 'paused');
    if (!lost.length) return [];
    const at = new Date().toISOString();
    await this.mutate((vms) => {
      for (const vm of lost) vms.set(vm.vmId, { ...vm, state: 'off', updatedAt: at });
    });
    return lost.map((vm) => vm.vmId);
  }

  /** After an agent restart: the guests of running VMs write again. */
  async resumeGuests(): Promise<void> {
    for (const vm of (await this.load()).values()) {
      if (vm.state === 'running') await this.withDisks(vm.state, (disks) => disks.startGuest(vm.vmId));
    }
  }

  /** A disk operation; its failure is the driver's (DRIVER_ERROR), the VM staying in `vmState`. */
  private async withDisks(vmState: VmPowerState | null, fn: (disks: SimDisks) => Promise<unknown>): Promise<void> {
    const disks = this.options.disks;
    if (!disks) return;
    try {
      await fn(disks);
    } catch (error) {
      throw new VmOperationError('DRIVER_ERROR', `virtual disk files: ${describe(error)}`, vmState);
    }
  }

  private mustGet(vmId: string): StoredVm {
    const vm = this.vms?.get(vmId);
    if (!vm) throw new DriverError(`VM ${vmId} vanished while it was being created`);
    return vm;
  }

  /** Persists first, then changes memory: what the API is told is always what a restart will find. */
  private commit(vm: StoredVm): Promise<void> {
    return this.mutate((vms) => vms.set(vm.vmId, vm));
  }

  private remove(vmId: string): Promise<void> {
    return this.mutate((vms) => vms.delete(vmId));
  }

  /**
   * Changes of the VM map, one at a time: operations on different VMs commit
   * concurrently, and each must start from the map the previous one left, or
   * the later write would drop the earlier VM.
   */
  private mutate(change: (vms: Map<string, StoredVm>) => void): Promise<void> {
    const run = this.mutations.then(async () => {
      const next = new Map(await this.load());
      change(next);
      await this.persist(next);
      this.vms = next;
    });
    // The chain survives a failed change; the caller still sees the failure.
    this.mutations = run.catch(() => undefined);
    return run;
  }

  private async persist(vms: Map<string, StoredVm>): Promise<void> {
    const file = this.options.file;
    if (file === null) return;
    const content = `${JSON.stringify({ version: 1, vms: [...vms.values()] }, null, 2)}\n`;
    try {
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, content);
    } catch (error) {
      throw new VmOperationError('DRIVER_ERROR', `cannot write ${file}: ${describe(error)}`, null);
    }
  }

  private load(): Promise<Map<string, StoredVm>> {
    if (this.vms) return Promise.resolve(this.vms);
    this.loading ??= this.read().then(
      (vms) => {
        this.vms = vms;
        return vms;
      },
      (error: unknown) => {
        // Try again next time: the file may be fixed by hand.
        this.loading = null;
        throw error;
      },
    );
    return this.loading;
  }

  private async read(): Promise<Map<string, StoredVm>> {
    const file = this.options.file;
    if (file === null) return new Map();
    let raw: string;
    try {
      raw = await readFile(file, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return new Map();
      throw new DriverError(`cannot read ${file}: ${describe(error)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const parsed = vmsFileSchema.safeParse(json);
    // Never start from empty over a damaged file: that would forget VMs that exist.
    if (!parsed.success) throw new DriverError(`${file} is not a valid simulated VM list; fix or remove it`);
    return new Map(parsed.data.vms.map((vm) => [vm.vmId, vm]));
  }
}

function toHostVm(vm: StoredVm): HostVm {
  return { vmId: vm.vmId, name: vm.name, state: vm.state, spec: vm.spec };
}

function invalidState(vm: StoredVm, verb: string, hint: string): VmOperationError {
  return new VmOperationError(
    'INVALID_STATE',
    `cannot ${verb} VM ${vm.name} while it is ${vm.state}: ${hint}`,
    vm.state,
  );
}

function cancelled(vm: StoredVm | null): VmOperationError {
  const code: VmErrorCode = 'CANCELLED';
  return new VmOperationError(code, 'cancelled before the point of no return; nothing changed', vm?.state ?? null);
}

/** Restoring reads the saved memory back: about 2 GiB/s. */
function restoreMs(spec: VmSpec): number {
  return 300 + (vmMemoryMiB(spec) / 1024) * 500;
}

/** Saving writes the memory out: about 2 GiB/s, plus the fixed cost of quiescing the VM. */
function saveMs(spec: VmSpec): number {
  return 500 + (vmMemoryMiB(spec) / 1024) * 500;
}

function formatBytes(bytes: number): string {
  if (bytes >= TIB) return `${Math.round((bytes / TIB) * 10) / 10} TiB`;
  if (bytes >= GIB) return `${Math.round((bytes / GIB) * 10) / 10} GiB`;
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
