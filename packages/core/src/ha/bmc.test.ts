import { describe, expect, it } from 'vitest';
import { type BmcClient, BmcFailure, type BmcPowerState, powerOffThroughBmc } from './bmc';

const TARGET = { url: 'http://127.0.0.1:9', username: 'admin', password: 'secret' };
const NOW = new Date('2026-12-04T18:00:00.000Z');
const options = { now: () => NOW, sleep: async () => undefined, confirmPolls: 3 };

/** A BMC whose power goes Off `offAfterReads` reads after ForceOff (never when null). */
function fakeBmc(initial: BmcPowerState, offAfterReads: number | null = 0) {
  let state = initial;
  let readsSinceOff: number | null = null;
  const calls: string[] = [];
  const client: BmcClient = {
    async powerState() {
      calls.push('GET');
      if (readsSinceOff !== null && offAfterReads !== null && readsSinceOff++ >= offAfterReads) state = 'Off';
      return state;
    },
    async forceOff() {
      calls.push('ForceOff');
      readsSinceOff = 0;
    },
  };
  return { client, calls };
}

describe('powerOffThroughBmc', () => {
  it('forces the power off and succeeds only once the BMC reads Off', async () => {
    const bmc = fakeBmc('On', 1);
    expect(await powerOffThroughBmc(bmc.client, TARGET, options)).toEqual({
      ok: true,
      at: NOW.toISOString(),
      alreadyOff: false,
    });
    expect(bmc.calls).toEqual(['GET', 'ForceOff', 'GET', 'GET']);
  });

  it('does not reset a host that is already off (a resumed recovery)', async () => {
    const bmc = fakeBmc('Off');
    expect(await powerOffThroughBmc(bmc.client, TARGET, options)).toMatchObject({ ok: true, alreadyOff: true });
    expect(bmc.calls).toEqual(['GET']);
  });

  it('fails when the BMC never reads Off, when none is configured, and with the BMC’s own reason', async () => {
    expect(await powerOffThroughBmc(fakeBmc('On', null).client, TARGET, options)).toMatchObject({
      ok: false,
      kind: 'not-confirmed',
    });
    expect(await powerOffThroughBmc(fakeBmc('On').client, null, options)).toMatchObject({
      ok: false,
      kind: 'not-configured',
    });
    const refusing: BmcClient = {
      powerState: async () => {
        throw new BmcFailure('refused', 'the BMC refused the credentials (HTTP 401)');
      },
      forceOff: async () => undefined,
    };
    expect(await powerOffThroughBmc(refusing, TARGET, options)).toEqual({
      ok: false,
      kind: 'refused',
      reason: 'the BMC refused the credentials (HTTP 401)',
    });
  });

  it('lets a programming error through (not a BMC failure)', async () => {
    const broken: BmcClient = {
      powerState: async () => {
        throw new TypeError('bug');
      },
      forceOff: async () => undefined,
    };
    await expect(powerOffThroughBmc(broken, TARGET, options)).rejects.toThrow('bug');
  });
});
