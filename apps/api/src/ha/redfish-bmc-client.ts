import { hkdfSync } from 'node:crypto';
import { BmcFailure, type BmcPowerState, type BmcTarget } from '@fabric/core/ha/bmc';
import type { HaRepository } from '@fabric/core/ha/ha-repository';
import type { BmcPowerSwitch } from '@fabric/core/ha/power-drill';
import { openSealedSecret, sealSecret } from '@fabric/core/shared/sealed-secret';

/**
 * The Redfish side of BMC fencing (docs/high-availability.md): the two calls HA needs, over HTTP with
 * Basic auth, as DMTF Redfish defines them for a ComputerSystem (the simulated BMC of
 * apps/agent/src/bmc answers the same). Every call has a deadline: a BMC that hangs is unreachable.
 */
export class RedfishBmcClient implements BmcPowerSwitch {
  constructor(private readonly timeoutMs = 5000) {}

  async powerState(target: BmcTarget): Promise<BmcPowerState> {
    const body = await this.call(target, 'GET', '/redfish/v1/Systems/1');
    const state = typeof body === 'object' && body !== null && 'PowerState' in body ? body.PowerState : undefined;
    if (state === 'On' || state === 'Off') return state;
    throw new BmcFailure('unexpected', `the BMC answered without a PowerState On or Off (${JSON.stringify(state)})`);
  }

  async forceOff(target: BmcTarget): Promise<void> {
    await this.call(target, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'ForceOff' });
  }

  /** ResetType On: host failure drills only (ha/power-drill.ts); fencing never powers a host on. */
  async powerOn(target: BmcTarget): Promise<void> {
    await this.call(target, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' });
  }

  private async call(target: BmcTarget, method: 'GET' | 'POST', route: string, json?: unknown): Promise<unknown> {
    const url = new URL(route, target.url.endsWith('/') ? target.url : `${target.url}/`);
    url.pathname = route;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const why =
        error instanceof Error && error.name === 'TimeoutError' ? `no answer in ${this.timeoutMs} ms` : cause(error);
      throw new BmcFailure('unreachable', `the BMC at ${target.url} is unreachable (${why})`);
    }
    if (response.status === 401 || response.status === 403) {
      throw new BmcFailure('refused', `the BMC at ${target.url} refused the credentials (HTTP ${response.status})`);
    }
    if (!response.ok) {
      throw new BmcFailure(
        'unexpected',
        `the BMC at ${target.url} answered ${method} ${route} with HTTP ${response.status}`,
      );
    }
    const text = await response.text();
    if (!text) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BmcFailure(
        'unexpected',
        `the BMC at ${target.url} answered ${method} ${route} with something other than JSON`,
      );
    }
  }
}

function cause(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The key BMC passwords are sealed with, derived from the API's secret (rotating that secret means setting them again). */
export function bmcSealingKey(authSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', authSecret, 'fabric', 'host BMC passwords', 32));
}

export function bmcSealer(key: Buffer) {
  return { seal: (plain: string) => sealSecret(plain, key) };
}

/** What the recovery needs of a host's BMC: its login in clear, read when it fences (null: none configured). */
export function bmcTargets(ha: Pick<HaRepository, 'findHostBmc'>, key: Buffer) {
  return async (hostId: string): Promise<BmcTarget | null> => {
    const row = await ha.findHostBmc(hostId);
    if (!row) return null;
    return { url: row.url, username: row.username, password: openSealedSecret(row.passwordSealed, key) };
  };
}
