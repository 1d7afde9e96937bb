import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveProfilePath } from '../drivers/simulated/profile';
import { SimulatedDriver } from '../drivers/simulated/simulated-driver';
import { quietContext, vmSpec } from '../testing/vm-fixtures';
import { markPowerLossesSeen, readPower, unseenPowerLosses, writePower } from './power-file';

/** After its BMC cut the power, a host boots with its VMs off (not resumed), once per power loss. */
describe('power loss', () => {
  let dir: string;
  let profilePath: string;
  let stateDir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-power-'));
    profilePath = path.join(dir, 'host.json');
    stateDir = path.join(dir, 'state');
    await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns the running and paused VMs off, keeps the saved and off ones, and is seen once', async () => {
    const host = new SimulatedDriver({ profilePath, stateDir, speed: 200 });
    const ctx = quietContext();
    const [running, paused, saved, off] = [vmSpec(), vmSpec(), vmSpec(), vmSpec()];
    for (const spec of [running, paused, saved, off]) await host.createVm(spec, ctx);
    for (const spec of [running, paused, saved]) await host.startVm(spec.vmId, ctx);
    await host.pauseVm(paused.vmId, ctx);
    await host.saveVm(saved.vmId, ctx);

    expect(unseenPowerLosses(stateDir)).toBe(0);
    writePower(stateDir, { state: 'Off', changedAt: new Date().toISOString(), powerLosses: 1 });
    writePower(stateDir, { ...readPower(stateDir), state: 'On' });
    expect(unseenPowerLosses(stateDir)).toBe(1);

    // The agent boots again: a new driver on the same state directory.
    const booted = new SimulatedDriver({ profilePath, stateDir, speed: 200 });
    expect((await booted.powerLost()).sort()).toEqual([running.vmId, paused.vmId].sort());
    markPowerLossesSeen(stateDir);
    expect(unseenPowerLosses(stateDir)).toBe(0);
    const states = new Map((await booted.listVms()).map((vm) => [vm.vmId, vm.state]));
    expect(Object.fromEntries(states)).toEqual({
      [running.vmId]: 'off',
      [paused.vmId]: 'off',
      [saved.vmId]: 'saved',
      [off.vmId]: 'off',
    });
  });
});
