import { describe, expect, it } from 'vitest';
import type { AuditRepository } from '../audit/audit-repository';
import { FabricError } from '../fabric/fabric.errors';
import type { Actor } from '../shared/tenant-scope';
import { BmcFailure, type BmcPowerState, type BmcTarget } from './bmc';
import type { HaRepository, HostHealth } from './ha-repository';
import { DEFAULT_HA_SETTINGS } from './ha-settings';
import { type BmcPowerSwitch, HostPowerDrills, powerLossConsequence } from './power-drill';

const NOW = new Date('2026-12-04T21:00:00.000Z');
const ADMIN: Actor = { type: 'user', id: 'u1', label: 'admin@fabric.local' };
const HOST: HostHealth = {
  id: '11111111-1111-4111-8111-111111111111',
  name: 'hv-drill-01',
  clusterId: 'c1',
  state: 'connected',
  lastHeartbeatAt: NOW,
  registeredAt: NOW,
  peerSeenAt: null,
  fencedAt: null,
};
const TARGET: BmcTarget = { url: 'http://127.0.0.1:5391', username: 'admin', password: 'secret' };

function setup(options: { simulated?: boolean; target?: BmcTarget | null; power?: BmcPowerState; failing?: boolean }) {
  let power: BmcPowerState = options.power ?? 'On';
  const calls: string[] = [];
  const audits: { action: string; result: string; message: string }[] = [];
  const failure = () => new BmcFailure('unreachable', 'the BMC at http://127.0.0.1:5391 is unreachable (ECONNREFUSED)');
  const client: BmcPowerSwitch = {
    async powerState() {
      if (options.failing) throw failure();
      return power;
    },
    async forceOff() {
      calls.push('ForceOff');
      power = 'Off';
    },
    async powerOn() {
      calls.push('On');
      power = 'On';
    },
  };
  const ha = {
    hostHealth: async (id: string) => (id === HOST.id ? HOST : null),
    clusterSettings: async () => [{ id: 'c1', name: 'HA drill', haSettings: { enabled: true, fenceMethod: 'bmc' } }],
  } as unknown as HaRepository;
  const audit = {
    append: async (e: { action: string; result: string; message: string }) => {
      audits.push({ action: e.action, result: e.result, message: e.message });
    },
  } as unknown as AuditRepository;
  const repos = { ha, audit };
  const drills = new HostPowerDrills({
    uow: { repos, run: (fn) => fn(repos) },
    bmc: { targetOf: async () => (options.target === undefined ? TARGET : options.target), client },
    clock: { now: () => NOW },
    simulatedHosts: options.simulated ?? true,
    sleep: async () => undefined,
  });
  return { drills, calls, audits, power: () => power };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof FabricError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

describe('host failure drills', () => {
  it('cut the power through the BMC, audited, and give it back', async () => {
    const s = setup({});
    expect(await s.drills.simulateFailure(ADMIN, { hostId: HOST.id, kind: 'power-loss' })).toEqual({
      powerState: 'Off',
      at: NOW,
    });
    expect(s.power()).toBe('Off');
    expect((await s.drills.view(HOST.id))?.powerState).toBe('Off');
    expect(await s.drills.powerOn(ADMIN, HOST.id)).toEqual({ powerState: 'On', at: NOW });
    expect(s.calls).toEqual(['ForceOff', 'On']);
    expect(s.audits).toEqual([
      {
        action: 'host.drill.power-loss',
        result: 'success',
        message: 'hv-drill-01: power cut through its BMC (host failure drill)',
      },
      { action: 'host.drill.power-on', result: 'success', message: 'hv-drill-01: powered on through its BMC' },
    ]);
  });

  it('exist only on simulated hosts: no view, and both drills refused before anything is read', async () => {
    const s = setup({ simulated: false });
    expect(await s.drills.view(HOST.id)).toBeNull();
    expect(await codeOf(s.drills.simulateFailure(ADMIN, { hostId: HOST.id, kind: 'power-loss' }))).toMatch(
      /^SIMULATION_ONLY: Host failure drills run only on simulated hosts/,
    );
    expect(await codeOf(s.drills.powerOn(ADMIN, 'no-such-host'))).toMatch(/^SIMULATION_ONLY/);
    expect(s.calls).toEqual([]);
    expect(s.audits).toEqual([]);
  });

  it('refuse an unknown host, a host without a BMC login, and a power state that is already there', async () => {
    expect(await codeOf(setup({}).drills.powerOn(ADMIN, '22222222-2222-4222-8222-222222222222'))).toBe(
      'HOST_NOT_FOUND: Host not found',
    );
    const noBmc = setup({ target: null });
    expect(await codeOf(noBmc.drills.simulateFailure(ADMIN, { hostId: HOST.id, kind: 'power-loss' }))).toBe(
      'INVALID_STATE: hv-drill-01 has no BMC login: set one in the BMC card to run a drill',
    );
    expect((await noBmc.drills.view(HOST.id))?.problem).toMatch(/no BMC login/);
    const off = setup({ power: 'Off' });
    expect(await codeOf(off.drills.simulateFailure(ADMIN, { hostId: HOST.id, kind: 'power-loss' }))).toBe(
      'INVALID_STATE: hv-drill-01 is powered off already: power it on first',
    );
    expect(await codeOf(setup({}).drills.powerOn(ADMIN, HOST.id))).toBe(
      'INVALID_STATE: hv-drill-01 is powered on already',
    );
    expect(off.calls).toEqual([]);
  });

  it('say why when the BMC cannot be reached', async () => {
    const s = setup({ failing: true });
    expect((await s.drills.view(HOST.id))?.problem).toMatch(/unreachable/);
    expect(await codeOf(s.drills.simulateFailure(ADMIN, { hostId: HOST.id, kind: 'power-loss' }))).toMatch(
      /^INVALID_STATE: hv-drill-01's BMC could not be read: .*unreachable/,
    );
  });
});

describe('powerLossConsequence', () => {
  it('says what HA will do, by the cluster’s settings', () => {
    expect(powerLossConsequence(HOST, 'Production', DEFAULT_HA_SETTINGS)).toMatch(
      /HA is off in Production: its VMs stay down until you power it back on/,
    );
    const on = { ...DEFAULT_HA_SETTINGS, enabled: true };
    expect(powerLossConsequence(HOST, 'Production', on)).toMatch(
      /after 20 s without a heartbeat it counts as failed, and once its lease runs out \(30 s after its last heartbeat\), its VMs .* restart on other hosts/,
    );
    expect(powerLossConsequence(HOST, 'Production', { ...on, fenceMethod: 'bmc' })).toMatch(
      /once its BMC reads it powered off, its VMs/,
    );
    expect(powerLossConsequence({ ...HOST, state: 'maintenance' }, 'Production', on)).toMatch(
      /in maintenance, which HA does not watch/,
    );
  });
});
