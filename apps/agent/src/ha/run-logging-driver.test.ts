import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Driver, type HostVm, VmOperationError } from '../drivers/driver';
import { resolveProfilePath } from '../drivers/simulated/profile';
import { SimulatedDriver } from '../drivers/simulated/simulated-driver';
import { quietContext, vmSpec } from '../testing/vm-fixtures';
import { EpochStore } from './epoch-store';
import { HaAgent } from './ha-agent';
import { RunLog, readRunLog } from './run-log';
import { isLive, RunLoggingDriver } from './run-logging-driver';

// HA (issue 11): a host that applied its isolation response starts nothing. A
// loaded CI run showed the gap: an isolated agent still ran a vm.start it had
// pulled before the API went silent, the control plane (lease ended) restarted
// the VM elsewhere, and the VM ran on two hosts at once.

const VM = '00000000-0000-4000-8000-0000000000a1';
let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup(inner?: (driver: Driver) => Driver) {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-gate-'));
  const profilePath = path.join(dir, 'host.json');
  await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
  const sim = new SimulatedDriver({ profilePath, stateDir: dir, speed: 1000 });
  const runLog = new RunLog(dir, 'gate-host');
  const driver = new RunLoggingDriver(inner ? inner(sim) : sim, runLog, new EpochStore(dir));
  await driver.reconcile();
  return { driver, runLog, sim };
}

const state = async (driver: Driver) => (await driver.listVms()).find((v) => v.vmId === VM)?.state ?? null;

describe('the start gate of an isolated host', () => {
  it('refuses a start while closed, with HOST_ISOLATED and the reason, and the VM stays off', async () => {
    const { driver, runLog } = await setup();
    await driver.createVm(vmSpec({ vmId: VM }), quietContext());
    driver.setStartGate(() => 'host isolated: the API has not answered for 12 s');
    const start = driver.startVm(VM, quietContext());
    await expect(start).rejects.toBeInstanceOf(VmOperationError);
    await expect(start).rejects.toMatchObject({ code: 'HOST_ISOLATED', message: /API has not answered/ });
    expect(await state(driver)).toBe('off');
    expect(readRunLog(runLog.path)).toEqual([]);
  });

  it('turns off at once a VM whose start finished after the host isolated itself, and logs both', async () => {
    let isolated = false;
    const { driver, runLog } = await setup((sim) => {
      // The start is under way when the isolation response runs.
      const slowStart = async (vmId: string, ctx: Parameters<Driver['startVm']>[1]): Promise<HostVm> => {
        const vm = await sim.startVm(vmId, ctx);
        isolated = true;
        return vm;
      };
      return new Proxy(sim, {
        get: (target, key, receiver) =>
          key === 'startVm'
            ? slowStart
            : (Reflect.get(target, key, receiver)?.bind?.(target) ?? Reflect.get(target, key, receiver)),
      });
    });
    await driver.createVm(vmSpec({ vmId: VM }), quietContext());
    driver.setStartGate(() => (isolated ? 'host isolated' : null));
    await expect(driver.startVm(VM, quietContext())).rejects.toMatchObject({ code: 'HOST_ISOLATED' });
    expect(isLive(await state(driver))).toBe(false);
    expect(readRunLog(runLog.path).map((e) => [e.event, e.reason])).toEqual([
      ['started', 'vm.start'],
      ['stopped', 'isolation'],
    ]);
  });

  it('lets stops through and, once open again, starts', async () => {
    const { driver } = await setup();
    await driver.createVm(vmSpec({ vmId: VM }), quietContext());
    await driver.startVm(VM, quietContext());
    let closed = true;
    driver.setStartGate(() => (closed ? 'host isolated' : null));
    await driver.turnOffVm(VM, quietContext());
    expect(await state(driver)).toBe('off');
    closed = false;
    await driver.startVm(VM, quietContext());
    expect(await state(driver)).toBe('running');
  });

  it("closes from the agent's own clock once the control plane is silent past the isolation timeout", async () => {
    const { driver } = await setup();
    await driver.createVm(vmSpec({ vmId: VM }), quietContext());
    let now = 1_000_000;
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    for (const [response, closes] of [
      ['power-off', true],
      ['keep-running', false],
    ] as const) {
      await writeFile(
        path.join(dir, 'ha-settings.json'),
        JSON.stringify({ clusterId: 'c1', enabled: true, isolationTimeoutMs: 10_000, isolationResponse: response }),
      );
      const ha = new HaAgent({
        driver,
        epochs: new EpochStore(dir),
        log: quiet as never,
        stateDir: dir,
        now: () => now,
      });
      await ha.start();
      ha.stop();
      expect(ha.startRefusal()).toBeNull();
      now += 10_001;
      expect(ha.startRefusal() !== null).toBe(closes);
      if (closes) await expect(driver.startVm(VM, quietContext())).rejects.toMatchObject({ code: 'HOST_ISOLATED' });
    }
  });
});
