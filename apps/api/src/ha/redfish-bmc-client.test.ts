import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BmcFailure } from '@fabric/core/ha/bmc';
import { afterEach, describe, expect, it } from 'vitest';
import { RedfishBmcClient } from './redfish-bmc-client';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A BMC that answers every request with `status` and `body` (and records what it was asked). */
async function bmc(status: number, body: unknown, delayMs = 0) {
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: text });
      setTimeout(
        () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        delayMs,
      );
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (error) {
    if (error instanceof BmcFailure) return { kind: error.kind, message: error.message };
    throw error;
  }
  throw new Error('expected a BmcFailure');
}

describe('RedfishBmcClient', () => {
  it('reads PowerState and sends ForceOff with Basic auth to the Redfish routes', async () => {
    const on = await bmc(200, { PowerState: 'On' });
    const client = new RedfishBmcClient();
    const target = { url: `${on.url}/`, username: 'admin', password: 'calvin' };
    expect(await client.powerState(target)).toBe('On');
    await client.forceOff(target);
    expect(on.seen[0]).toMatchObject({
      method: 'GET',
      url: '/redfish/v1/Systems/1',
      auth: `Basic ${Buffer.from('admin:calvin').toString('base64')}`,
    });
    expect(on.seen[1]).toMatchObject({
      method: 'POST',
      url: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
      body: '{"ResetType":"ForceOff"}',
    });
  });

  it('tells a refused login, an unreachable or silent BMC and an unusable answer apart', async () => {
    const client = new RedfishBmcClient(300);
    const login = { username: 'admin', password: 'x' };
    expect(await failure(client.powerState({ url: (await bmc(401, {})).url, ...login }))).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('refused the credentials (HTTP 401)'),
    });
    expect(await failure(client.powerState({ url: 'http://127.0.0.1:9', ...login }))).toMatchObject({
      kind: 'unreachable',
    });
    expect(await failure(client.powerState({ url: (await bmc(200, {}, 2000)).url, ...login }))).toMatchObject({
      kind: 'unreachable',
      message: expect.stringContaining('no answer in 300 ms'),
    });
    expect(
      await failure(client.powerState({ url: (await bmc(200, { PowerState: 'PoweringOff' })).url, ...login })),
    ).toMatchObject({ kind: 'unexpected' });
    expect(await failure(client.forceOff({ url: (await bmc(500, {})).url, ...login }))).toMatchObject({
      kind: 'unexpected',
      message: expect.stringContaining('HTTP 500'),
    });
  });
});
