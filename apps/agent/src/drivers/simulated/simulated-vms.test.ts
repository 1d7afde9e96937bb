import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GIB, quietContext, vmDisk, vmSpec } from '../../testing/vm-fixtures';
import { VmOperationError } from '../driver';
import { resolveProfilePath } from './profile';
import { SimulatedDriver } from './simulated-driver';

/** The simulated host's VMs: transitions, limits, persistence. Sped up 200×. */
describe('SimulatedDriver VMs', () => {
  let dir: string;
  let profilePath: string;
  let stateDir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-sim-vms-'));
    profilePath = path.join(dir, 'host.json');
    stateDir = path.join(dir, 'state');
    // 64 GiB memory, pool "Local": 2 TiB with 614 GiB used.
    await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const driver = (speed = 200) => new SimulatedDriver({ profilePath, stateDir, speed });

  async function failure(operation: Promise<unknown>): Promise<{ code: string; vmState: string | null }> {
    try {
      await operation;
    } catch (error) {
      if (error instanceof VmOperationError) return { code: error.code, vmState: error.vmState };
      throw error;
    }
    throw new Error('expected the operation to fail');
  }

  it('goes through the power states, with progress from 0 to 100', async () => {
    const host = driver();
    const spec = vmSpec();
    const progress: number[] = [];
    expect(await host.createVm(spec, quietContext(progress))).toMatchObject({ vmId: spec.vmId, state: 'off' });
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(100);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const ctx = quietContext();
    expect((await host.startVm(spec.vmId, ctx)).state).toBe('running');
    expect((await host.startVm(spec.vmId, ctx)).state).toBe('running'); // no-op
    expect((await host.pauseVm(spec.vmId, ctx)).state).toBe('paused');
    expect(await failure(host.startVm(spec.vmId, ctx))).toEqual({ code: 'INVALID_STATE', vmState: 'paused' });
    expect((await host.resumeVm(spec.vmId, ctx)).state).toBe('running');
    expect((await host.restartVm(spec.vmId, ctx)).state).toBe('running');
    expect((await host.saveVm(spec.vmId, ctx)).state).toBe('saved');
    expect(await failure(host.stopVm(spec.vmId, ctx))).toEqual({ code: 'INVALID_STATE', vmState: 'saved' });
    expect((await host.startVm(spec.vmId, ctx)).state).toBe('running');
    expect((await host.stopVm(spec.vmId, ctx)).state).toBe('off');
    expect(await failure(host.pauseVm(spec.vmId, ctx))).toEqual({ code: 'INVALID_STATE', vmState: 'off' });
    expect((await host.turnOffVm(spec.vmId, ctx)).state).toBe('off'); // no-op
    await host.deleteVm(spec.vmId, ctx);
    await host.deleteVm(spec.vmId, ctx); // already gone: done
    expect(await host.listVms()).toEqual([]);
    expect(await failure(host.startVm(spec.vmId, ctx))).toEqual({ code: 'VM_NOT_FOUND', vmState: null });
  });

  it('refuses to delete a running VM', async () => {
    const host = driver();
    const spec = vmSpec();
    await host.createVm(spec, quietContext());
    await host.startVm(spec.vmId, quietContext());
    expect(await failure(host.deleteVm(spec.vmId, quietContext()))).toEqual({
      code: 'INVALID_STATE',
      vmState: 'running',
    });
  });

  it('treats a create of an existing VM id as done, without taking space twice', async () => {
    const host = driver();
    const spec = vmSpec();
    await host.createVm(spec, quietContext());
    await host.startVm(spec.vmId, quietContext());
    expect((await host.createVm(spec, quietContext())).state).toBe('running');
    expect(await host.listVms()).toHaveLength(1);
    const before = (await driver().inventory()).storagePools[0]?.usedBytes;
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    expect(before).toBe(profile.storagePools[0].usedBytes + 40 * GIB);
  });

  it('keeps its VMs across a restart (vms.json in the state directory)', async () => {
    const spec = vmSpec();
    const first = driver();
    await first.createVm(spec, quietContext());
    await first.startVm(spec.vmId, quietContext());
    const second = driver();
    expect(await second.listVms()).toMatchObject([{ vmId: spec.vmId, state: 'running' }]);
    expect((await second.stopVm(spec.vmId, quietContext())).state).toBe('off');
    expect(await driver().listVms()).toMatchObject([{ vmId: spec.vmId, state: 'off' }]);
    expect(JSON.parse(await readFile(path.join(stateDir, 'vms.json'), 'utf8')).vms).toHaveLength(1);
  });

  it('counts running VMs against host memory less a 2 GiB reserve (startup memory for Dynamic Memory)', async () => {
    const host = driver();
    const big = vmSpec({ memory: { ...vmSpec().memory, startupMiB: 40 * 1024, maximumMiB: 40 * 1024 } });
    const dynamic = vmSpec({
      memory: {
        dynamic: true,
        startupMiB: 22 * 1024,
        minimumMiB: 512,
        maximumMiB: 64 * 1024,
        bufferPercent: 20,
        weight: 5000,
      },
    });
    const oneMore = vmSpec({ memory: { ...vmSpec().memory, startupMiB: 1024 } });
    for (const spec of [big, dynamic, oneMore]) await host.createVm(spec, quietContext());
    await host.startVm(big.vmId, quietContext());
    // 40 + 22 = 62 GiB = 64 GiB less the reserve: fits exactly.
    await host.startVm(dynamic.vmId, quietContext());
    expect(await failure(host.startVm(oneMore.vmId, quietContext()))).toEqual({
      code: 'INSUFFICIENT_MEMORY',
      vmState: 'off',
    });
    // A saved VM gives its memory back; a paused one keeps it.
    await host.pauseVm(dynamic.vmId, quietContext());
    expect((await failure(host.startVm(oneMore.vmId, quietContext()))).code).toBe('INSUFFICIENT_MEMORY');
    await host.saveVm(dynamic.vmId, quietContext());
    expect((await host.startVm(oneMore.vmId, quietContext())).state).toBe('running');
    expect((await host.usage()).memoryUsedMiB).toBeGreaterThanOrEqual(41 * 1024);
  });

  it('checks disks against their pools and shows them in the inventory', async () => {
    const host = driver();
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    const free: number = profile.storagePools[0].capacityBytes - profile.storagePools[0].usedBytes;
    expect(await failure(host.createVm(vmSpec({ disks: [vmDisk({ pool: 'SAN-9' })] }), quietContext()))).toEqual({
      code: 'POOL_NOT_FOUND',
      vmState: null,
    });
    const tooBig = vmSpec({ disks: [vmDisk({ sizeBytes: free + 1 })] });
    expect(await failure(host.createVm(tooBig, quietContext()))).toEqual({
      code: 'INSUFFICIENT_STORAGE',
      vmState: null,
    });
    // A dynamic disk takes only its initial few MiB, however large it may grow.
    const sparse = vmSpec({ disks: [vmDisk({ kind: 'dynamic', sizeBytes: free + 1 })] });
    await host.createVm(sparse, quietContext());
    const fixed = vmSpec({
      disks: [vmDisk({ sizeBytes: 100 * GIB }), vmDisk({ name: 'data.vhdx', sizeBytes: 20 * GIB })],
    });
    await host.createVm(fixed, quietContext());
    const pool = (await host.inventory()).storagePools[0];
    expect(pool?.usedBytes).toBe(profile.storagePools[0].usedBytes + 120 * GIB + 4 * 1024 * 1024);
    await host.deleteVm(fixed.vmId, quietContext());
    expect((await host.inventory()).storagePools[0]?.usedBytes).toBe(
      profile.storagePools[0].usedBytes + 4 * 1024 * 1024,
    );
  });

  it('does not let two concurrent creates both take the last free space', async () => {
    const host = driver(20);
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    const free: number = profile.storagePools[0].capacityBytes - profile.storagePools[0].usedBytes;
    const half = () => vmSpec({ disks: [vmDisk({ sizeBytes: Math.floor(free * 0.6) })] });
    const results = await Promise.allSettled([
      host.createVm(half(), quietContext()),
      host.createVm(half(), quietContext()),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await host.listVms()).toHaveLength(1);
  });

  it('honours a cancel before the point of no return and changes nothing', async () => {
    const host = driver(5);
    const controller = new AbortController();
    const spec = vmSpec();
    const creating = host.createVm(spec, { signal: controller.signal, onProgress: () => undefined });
    controller.abort();
    expect(await failure(creating)).toEqual({ code: 'CANCELLED', vmState: null });
    expect(await host.listVms()).toEqual([]);
  });

  it('injects seeded failures at the profile failureRate', async () => {
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    profile.simulation.failureRate = 1;
    await writeFile(profilePath, JSON.stringify(profile));
    const host = driver();
    expect(await failure(host.createVm(vmSpec(), quietContext()))).toEqual({ code: 'DRIVER_ERROR', vmState: null });
    expect(await host.listVms()).toEqual([]);
  });

  it('will not start over from a damaged vms.json', async () => {
    await driver().createVm(vmSpec(), quietContext());
    await writeFile(path.join(stateDir, 'vms.json'), '{ "half');
    await expect(driver().listVms()).rejects.toThrow(/not a valid simulated VM list/);
  });
});
