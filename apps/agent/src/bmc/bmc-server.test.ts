import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunLog } from '../ha/run-log';
import { runsOf } from '../testing/run-log-overlap';
import { createBmcServer } from './bmc-server';
import { readPower, unseenPowerLosses, writeAgentPid } from './power-file';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function bmcOn(stateDir: string) {
  const bmc = createBmcServer({
    stateDir,
    username: 'admin',
    password: 'calvin',
    hostname: 'hv-t',
    log: () => undefined,
  });
  const url = await bmc.listen(0, '127.0.0.1');
  closers.push(bmc.close);
  const call = (route: string, init: RequestInit = {}, login = 'admin:calvin') =>
    fetch(`${url}${route}`, {
      ...init,
      headers: { authorization: `Basic ${Buffer.from(login).toString('base64')}`, 'content-type': 'application/json' },
    });
  return { url, call };
}

const reset = (type: string) => ({ method: 'POST', body: JSON.stringify({ ResetType: type }) });

describe('the simulated BMC', () => {
  it('answers PowerState, refuses a wrong login with 401, and an unknown ResetType with 400', async () => {
    const { call } = await bmcOn(mkdtempSync(path.join(os.tmpdir(), 'bmc-')));
    const ok = await call('/redfish/v1/Systems/1');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ PowerState: 'On', Name: 'hv-t' });
    expect((await call('/redfish/v1/Systems/1', {}, 'admin:wrong')).status).toBe(401);
    expect(
      (await call('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', reset('ForceOff'), 'root:calvin')).status,
    ).toBe(401);
    expect((await call('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', reset('PushPowerButton'))).status).toBe(
      400,
    );
    expect((await call('/redfish/v1/Systems/2')).status).toBe(404);
  });

  it('ForceOff kills the agent’s process, ends its runs in the run log, records Off; On records the power back', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'bmc-'));
    // The "agent": a process that would live a minute.
    const agent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => agent.on('exit', (_code, signal) => resolve(signal)));
    closers.push(async () => agent.kill('SIGKILL'));
    writeAgentPid(stateDir, agent.pid as number);
    new RunLog(stateDir, 'hv-t').record('vm-1', 3, 'started', 'vm.start');
    const { call } = await bmcOn(stateDir);

    const before = Date.now();
    const off = await call('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', reset('ForceOff'));
    expect(off.status).toBe(204);
    expect(await exited).toBe('SIGKILL');
    expect(await (await call('/redfish/v1/Systems/1')).json()).toMatchObject({ PowerState: 'Off' });
    const run = runsOf({ path: stateDir }).find((r) => r.vmId === 'vm-1');
    expect(run).toMatchObject({ epoch: 3, stoppedBy: 'bmc-power-off' });
    expect(run?.to?.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(readPower(stateDir)).toMatchObject({ state: 'Off', powerLosses: 1 });
    expect(unseenPowerLosses(stateDir)).toBe(1);

    // Idempotent: a second ForceOff changes nothing.
    expect((await call('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', reset('ForceOff'))).status).toBe(204);
    expect(readPower(stateDir).powerLosses).toBe(1);
    expect((await call('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', reset('On'))).status).toBe(204);
    expect(readPower(stateDir)).toMatchObject({ state: 'On', powerLosses: 1 });
  });
});
