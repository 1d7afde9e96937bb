import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, inventoryFor, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { seedAndSignIn } from '../testing/seed';

// Issue 9, class 6 (the agent half): a NUL byte or another control character
// in any string of the agent protocol, or a date Postgres cannot hold, gave a
// 500, which the protocol tells agents to retry for ever. Each is the schema's
// 400 INVALID_BODY naming the field (not the database's refusal caught late),
// and nothing of the request is written.

let api: TestApi;
let admin: ApiClient;
let clusterId: string;

const newToken = async () =>
  (await admin.mutate<{ token: string }>('tokens.create', { clusterId, ttlMinutes: 60 })).token;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  ({ admin } = await seedAndSignIn(api));
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  clusterId = clusters.find((c) => c.name === 'Production')?.id ?? '';
});
afterAll(() => api?.close());

const NUL = '\u0000';

/** A 400 INVALID_BODY whose message names `field` and says what is wrong with it. */
function expectFieldRefused(r: { status: number; body: { error?: { code: string; message: string } } }, field: string) {
  expect(r.status).toBe(400);
  expect(r.body.error?.code).toBe('INVALID_BODY');
  expect(r.body.error?.message).toContain(field);
  expect(r.body.error?.message).toMatch(/control characters|between the years/);
}

describe('control characters in the agent protocol', () => {
  it.each([
    ['osName', { osName: `Windows${NUL}Server` }, 'inventory.osName'],
    ['cpu.model', { cpu: { ...inventoryFor('x').cpu, model: `Xeon${NUL}` } }, 'inventory.cpu.model'],
    [
      'a NIC name',
      { nics: [{ name: `eth${NUL}0`, macAddress: '00:15:5D:00:00:09', linkSpeedMbps: 1000, linkUp: true }] },
      'inventory.nics.0.name',
    ],
    [
      'a storage pool name',
      { storagePools: [{ name: `local\u0007`, kind: 'local' as const, capacityBytes: 10, usedBytes: 1 }] },
      'inventory.storagePools.0.name',
    ],
  ])('registration with a control character in %s is refused and leaves the token unused', async (_w, over, field) => {
    const token = await newToken();
    const hostname = `ctl-${randomUUID().slice(0, 8)}`;
    expectFieldRefused(await register(api.url, token, hostname, inventoryFor(hostname, over)), field);
    expect(await countRows(api.databaseUrl, 'hosts', `name = '${hostname}'`)).toBe(0);
    expect((await register(api.url, token, hostname)).status).toBe(201);
  });

  it('registration with a NUL in agentVersion or the token is refused', async () => {
    const token = await newToken();
    const agentVersion = await agentPost(api.url, '/agent/v1/register', {
      token,
      agentVersion: `0.1${NUL}`,
      driver: 'simulated',
      inventory: inventoryFor('ctl-version'),
    });
    expectFieldRefused(agentVersion, 'agentVersion');
    const badToken = await agentPost(api.url, '/agent/v1/register', {
      token: `${token}${NUL}`,
      agentVersion: '0.1.0',
      driver: 'simulated',
      inventory: inventoryFor('ctl-token'),
    });
    expectFieldRefused(badToken, 'token');
    expect(await countRows(api.databaseUrl, 'hosts', `name IN ('ctl-version', 'ctl-token')`)).toBe(0);
  });

  it('inventory, heartbeat, task report and samples with a control character are refused, writing nothing', async () => {
    const hostname = 'ctl-host-01';
    const { hostId, credential } = (await register(api.url, await newToken(), hostname)).body as {
      hostId: string;
      credential: string;
    };
    const seqOf = () =>
      withSql(api.databaseUrl, async (sql) => {
        const r = await sql.query<{ s: string }>('SELECT last_seq::text AS s FROM hosts WHERE id = $1', [hostId]);
        return r.rows[0]?.s;
      });
    const untouched = await seqOf();
    let seq = Date.now();
    const inventory = await agentPost(
      api.url,
      `/agent/v1/hosts/${hostId}/inventory`,
      { seq: ++seq, agentVersion: '0.1.0', inventory: inventoryFor(hostname, { osName: `OS${NUL}` }) },
      { credential, method: 'PUT' },
    );
    expectFieldRefused(inventory, 'inventory.osName');
    expect(await countRows(api.databaseUrl, 'hosts', `id = '${hostId}' AND os_name LIKE 'OS%'`)).toBe(0);

    const heartbeat = await agentPost(
      api.url,
      `/agent/v1/hosts/${hostId}/heartbeat`,
      { seq: ++seq, agentVersion: '0.1.0', inventoryHash: `abc${NUL}` },
      { credential },
    );
    expectFieldRefused(heartbeat, 'inventoryHash');

    const report = await agentPost(
      api.url,
      `/agent/v1/hosts/${hostId}/tasks/${randomUUID()}/report`,
      { seq: ++seq, status: 'failed', code: 'DRIVER_ERROR', message: `disk${NUL}gone`, vmState: null },
      { credential },
    );
    expectFieldRefused(report, 'message');
    // The free-form result of a succeeded report: no schema names its keys (a generated-inputs run found it
    // accepted the seq, then the database refused the result).
    const resultKey = await agentPost(
      api.url,
      `/agent/v1/hosts/${hostId}/tasks/${randomUUID()}/report`,
      { seq: ++seq, status: 'succeeded', vmState: null, result: { [`size${NUL}`]: 1 } },
      { credential },
    );
    expectFieldRefused(resultKey, 'result');

    const sample = {
      vmId: randomUUID(),
      at: '2026-11-20T10:01:00.000Z',
      intervalSeconds: 60,
      cpuAvgMhz: 0,
      memoryAvgMiB: 0,
      memoryMinMiB: 0,
      memoryMaxMiB: 0,
      diskAllocatedGiB: 0,
      diskReadBytes: 0,
      diskWriteBytes: 0,
      networkInInternetBytes: 0,
      networkOutInternetBytes: 0,
      networkInDatacenterBytes: 0,
      networkOutDatacenterBytes: 0,
    };
    const acl = await agentPost(
      api.url,
      `/agent/v1/hosts/${hostId}/samples`,
      {
        seq: ++seq,
        batch: 1,
        samples: [{ ...sample, networkAcls: [{ acl: `backup${NUL}`, inBytes: 0, outBytes: 0 }] }],
      },
      { credential },
    );
    expectFieldRefused(acl, 'samples.0.networkAcls.0.acl');
    for (const at of ['0000-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '9999-12-31T00:00:00.000Z']) {
      expectFieldRefused(
        await agentPost(
          api.url,
          `/agent/v1/hosts/${hostId}/samples`,
          { seq: ++seq, batch: 1, samples: [{ ...sample, at }] },
          { credential },
        ),
        'samples.0.at',
      );
    }
    // No message was accepted: the host's seq is where registration left it.
    expect(await seqOf()).toBe(untouched);
  });
});
