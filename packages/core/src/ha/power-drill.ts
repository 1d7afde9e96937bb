import type { AuditRepository } from '../audit/audit-repository';
import { FabricError } from '../fabric/fabric.errors';
import type { Actor } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import { type BmcClient, BmcFailure, type BmcPowerState, type BmcTarget, powerOffThroughBmc } from './bmc';
import type { HaRepository, HostHealth } from './ha-repository';
import { type HaSettings, readHaSettings } from './ha-settings';
import type { HostPowerResult, HostPowerView, SimulateHostFailureInput } from './power-drill.schema';

/** A BMC that can also give the power back (Redfish ResetType On): drills only, fencing never powers on. */
export interface BmcPowerSwitch extends BmcClient {
  powerOn(target: BmcTarget): Promise<void>;
}

export interface HostPowerDrillsDeps {
  uow: UnitOfWork<{ ha: HaRepository; audit: AuditRepository }>;
  bmc: { targetOf(hostId: string): Promise<BmcTarget | null>; client: BmcPowerSwitch };
  clock: { now(): Date };
  /**
   * The hosts are simulated (npm start and the browser tests set FABRIC_SIMULATED_HOSTS=1): only then may
   * the console cut a host's power. On a real fabric a "drill" would stop a customer's workloads.
   */
  simulatedHosts: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Host failure drills (docs/high-availability.md, "Trying it: a host failure drill"): the provider cuts a
 * simulated host's power through its BMC, as a power loss would, and HA handles it as any failure (the
 * drill tells HA nothing); then gives the power back so the drill can be run again. Audited both ways.
 */
export class HostPowerDrills {
  constructor(private readonly deps: HostPowerDrillsDeps) {}

  /** Null when the hosts are not simulated: the console then shows no drill at all. */
  async view(hostId: string): Promise<HostPowerView> {
    if (!this.deps.simulatedHosts) return null;
    const { host, clusterName, settings } = await this.hostOf(hostId);
    const target = await this.deps.bmc.targetOf(hostId);
    let powerState: BmcPowerState | null = null;
    let problem: string | null = null;
    if (!target) problem = `${host.name} has no BMC login: set one in the BMC card to run a drill`;
    else {
      try {
        powerState = await this.deps.bmc.client.powerState(target);
      } catch (error) {
        if (!(error instanceof BmcFailure)) throw error;
        problem = error.message;
      }
    }
    return {
      hostName: host.name,
      clusterName,
      powerState,
      problem,
      haEnabled: settings.enabled,
      consequence: powerLossConsequence(host, clusterName, settings),
    };
  }

  /** Cuts the host's power through its BMC (ForceOff, confirmed Off). Refused when it is off already. */
  async simulateFailure(actor: Actor, input: SimulateHostFailureInput): Promise<HostPowerResult> {
    const { host, target } = await this.drillable(input.hostId);
    if ((await this.read(host, target)) === 'Off') {
      throw new FabricError('INVALID_STATE', `${host.name} is powered off already: power it on first`);
    }
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const outcome = await powerOffThroughBmc(this.deps.bmc.client, target, { now: () => this.deps.clock.now(), sleep });
    await this.audit(
      actor,
      host,
      'host.drill.power-loss',
      outcome.ok
        ? `${host.name}: power cut through its BMC (host failure drill)`
        : `${host.name}: power cut through its BMC failed: ${outcome.reason}`,
      outcome.ok,
    );
    if (!outcome.ok)
      throw new FabricError('INVALID_STATE', `${host.name}'s BMC did not power it off: ${outcome.reason}`);
    return { powerState: 'Off', at: new Date(outcome.at) };
  }

  /**
   * Gives the power back (Redfish On). The host then boots as after a power loss: its agent starts
   * (npm start supervises it), its VMs are off, and those that restarted elsewhere are discarded.
   */
  async powerOn(actor: Actor, hostId: string): Promise<HostPowerResult> {
    const { host, target } = await this.drillable(hostId);
    if ((await this.read(host, target)) === 'On') {
      throw new FabricError('INVALID_STATE', `${host.name} is powered on already`);
    }
    try {
      await this.deps.bmc.client.powerOn(target);
    } catch (error) {
      if (!(error instanceof BmcFailure)) throw error;
      await this.audit(actor, host, 'host.drill.power-on', `${host.name}: power on failed: ${error.message}`, false);
      throw new FabricError('INVALID_STATE', `${host.name}'s BMC did not power it on: ${error.message}`);
    }
    await this.audit(actor, host, 'host.drill.power-on', `${host.name}: powered on through its BMC`, true);
    return { powerState: 'On', at: this.deps.clock.now() };
  }

  private async hostOf(hostId: string): Promise<{ host: HostHealth; clusterName: string; settings: HaSettings }> {
    const { ha } = this.deps.uow.repos;
    const host = await ha.hostHealth(hostId);
    if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
    const cluster = (await ha.clusterSettings()).find((c) => c.id === host.clusterId);
    return { host, clusterName: cluster?.name ?? 'its cluster', settings: readHaSettings(cluster?.haSettings) };
  }

  private async drillable(hostId: string): Promise<{ host: HostHealth; target: BmcTarget }> {
    if (!this.deps.simulatedHosts) {
      throw new FabricError(
        'SIMULATION_ONLY',
        'Host failure drills run only on simulated hosts (npm start, the browser tests): this fabric’s hosts are real',
      );
    }
    const { host } = await this.hostOf(hostId);
    const target = await this.deps.bmc.targetOf(hostId);
    if (!target) {
      throw new FabricError('INVALID_STATE', `${host.name} has no BMC login: set one in the BMC card to run a drill`);
    }
    return { host, target };
  }

  private async read(host: HostHealth, target: BmcTarget): Promise<BmcPowerState> {
    try {
      return await this.deps.bmc.client.powerState(target);
    } catch (error) {
      if (!(error instanceof BmcFailure)) throw error;
      throw new FabricError('INVALID_STATE', `${host.name}'s BMC could not be read: ${error.message}`);
    }
  }

  private async audit(actor: Actor, host: HostHealth, action: string, message: string, ok: boolean) {
    await this.deps.uow.repos.audit.append({
      actor,
      action,
      targetType: 'host',
      targetId: host.id,
      targetLabel: host.name,
      result: ok ? 'success' : 'failure',
      message,
    });
  }
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** What cutting the host's power does, for the confirmation: the rules of HA applied to this host. */
export function powerLossConsequence(
  host: Pick<HostHealth, 'name' | 'state'>,
  clusterName: string,
  settings: HaSettings,
): string {
  const cut = `${host.name} stops at once, with every VM on it, as in a power cut.`;
  const back = `It stays off until you power it on; then it boots with its VMs off and discards those that restarted elsewhere.`;
  if (!settings.enabled) {
    return `${cut} HA is off in ${clusterName}: its VMs stay down until you power it back on. ${back}`;
  }
  if (host.state === 'maintenance') {
    return `${cut} It is in maintenance, which HA does not watch: its VMs stay down until you power it back on. ${back}`;
  }
  const fence =
    settings.fenceMethod === 'bmc'
      ? 'once its BMC reads it powered off'
      : settings.fenceMethod === 'self-confirm'
        ? `once its lease runs out (${seconds(settings.fencingTimeoutMs)} after its last heartbeat: a powered-off host cannot confirm anything)`
        : `once its lease runs out (${seconds(settings.fencingTimeoutMs)} after its last heartbeat)`;
  return (
    `${cut} HA is on in ${clusterName}: after ${seconds(settings.detectionTimeoutMs)} without a heartbeat it counts as failed, ` +
    `and ${fence}, its VMs that were running with an HA priority restart on other hosts, highest priority first ` +
    `(priority "off" stays down). The HA page shows the event's timeline and each VM's RTO. ${back}`
  );
}
