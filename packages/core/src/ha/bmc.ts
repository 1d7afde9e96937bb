/**
 * Fencing through a host's BMC (docs/high-availability.md): a Redfish-like endpoint that powers the host
 * off out of band, so its VMs are known not to run whatever the host's OS or network is doing. The
 * client is a port (apps/api's Redfish client over HTTP; fakes in tests); the procedure below, pure
 * over it, is what the recovery runs in one recorded step.
 */
export interface BmcTarget {
  url: string;
  username: string;
  password: string;
}

export type BmcPowerState = 'On' | 'Off';

/** Why a BMC call failed, for the event's timeline: refused (credentials), unreachable, or an answer we cannot use. */
export class BmcFailure extends Error {
  constructor(
    readonly kind: 'refused' | 'unreachable' | 'unexpected',
    message: string,
  ) {
    super(message);
    this.name = 'BmcFailure';
  }
}

export interface BmcClient {
  /** The system's PowerState (Redfish GET /redfish/v1/Systems/1). Throws BmcFailure. */
  powerState(target: BmcTarget): Promise<BmcPowerState>;
  /** ResetType ForceOff (Redfish POST …/Actions/ComputerSystem.Reset). Throws BmcFailure. */
  forceOff(target: BmcTarget): Promise<void>;
}

/** A power-off's outcome, recorded as a workflow step's result (plain JSON). */
export type BmcPowerOffOutcome =
  | { ok: true; at: string; alreadyOff: boolean }
  | { ok: false; reason: string; kind: BmcFailure['kind'] | 'not-configured' | 'not-confirmed' };

export interface PowerOffOptions {
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** How many times PowerState is read after ForceOff before giving up. Default 20. */
  confirmPolls?: number;
  /** Between those reads. Default 500 ms. */
  confirmPollMs?: number;
}

/**
 * Powers the host off and confirms it: ForceOff, then PowerState read until Off. Idempotent: a host
 * already Off is not reset again (a resumed recovery may run this twice). Only a confirmed Off is a
 * success: a BMC that took the order but still says On has not fenced anything.
 */
export async function powerOffThroughBmc(
  client: BmcClient,
  target: BmcTarget | null,
  options: PowerOffOptions,
): Promise<BmcPowerOffOutcome> {
  if (!target) return { ok: false, kind: 'not-configured', reason: 'no BMC is configured for the host' };
  const polls = options.confirmPolls ?? 20;
  const pollMs = options.confirmPollMs ?? 500;
  try {
    if ((await client.powerState(target)) === 'Off') {
      return { ok: true, at: options.now().toISOString(), alreadyOff: true };
    }
    await client.forceOff(target);
    for (let i = 0; i < polls; i++) {
      if ((await client.powerState(target)) === 'Off') {
        return { ok: true, at: options.now().toISOString(), alreadyOff: false };
      }
      await options.sleep(pollMs);
    }
    return {
      ok: false,
      kind: 'not-confirmed',
      reason: `the BMC took ForceOff but still reported PowerState On after ${polls} reads ${pollMs} ms apart`,
    };
  } catch (error) {
    if (error instanceof BmcFailure) return { ok: false, kind: error.kind, reason: error.message };
    throw error;
  }
}
