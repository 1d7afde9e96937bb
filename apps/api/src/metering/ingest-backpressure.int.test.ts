import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost } from '../testing/agent-fixtures';
import { startTestApi, type TestApi } from '../testing/harness';
import {
  createStoppedVm,
  existedSince,
  minuteSample,
  registerProductionHost,
  type TestHost,
} from '../testing/metering-fixtures';
import { seedAndSignIn } from '../testing/seed';

// Sample ingest holds a bounded number of batches: one being read and written
// here, one waiting (its body unread), and the next told to come back later,
// which the agent does with the samples still in its buffer.

let api: TestApi;
let host: TestHost;
let vmId: string;

beforeAll(async () => {
  api = await startTestApi({
    monitor: false,
    env: { FABRIC_INGEST_CONCURRENCY: '1', FABRIC_INGEST_MAX_WAITING: '1' },
  });
  const c = await seedAndSignIn(api);
  host = await registerProductionHost(api, c.admin, 'gate-01');
  vmId = await createStoppedVm(c.blueAdmin, 'gate-vm-01');
  await existedSince(api, { vmIds: [vmId] });
});
afterAll(() => api?.close());

const body = (seq: number, minute: number) =>
  JSON.stringify({ seq, batch: seq, samples: [minuteSample(vmId, Date.UTC(2026, 10, 3, 10, minute))] });

describe('sample ingest under load', () => {
  it('answers 503 with Retry-After past the queue, and takes the batch when sent again', async () => {
    // The first batch enters and stalls mid-body: it holds the only slot.
    const url = new URL(`${api.url}/agent/v1/hosts/${host.hostId}/samples`);
    const first = body(1, 1);
    const stalled = request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${host.credential}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(first),
      },
    });
    const firstAnswer = new Promise<number>((resolve, reject) => {
      stalled.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      stalled.on('error', reject);
    });
    stalled.write(first.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The second waits in the queue; the third finds it full.
    const waiting = agentPost(api.url, url.pathname, JSON.parse(body(2, 2)), { credential: host.credential });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.credential}`, 'content-type': 'application/json' },
      body: body(3, 3),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('BUSY');

    stalled.end(first.slice(10));
    expect(await firstAnswer).toBe(200);
    expect((await waiting).status).toBe(200);
    // Sent again, as the agent does from its buffer: taken.
    const again = await agentPost(api.url, url.pathname, JSON.parse(body(3, 3)), { credential: host.credential });
    expect(again).toMatchObject({ status: 200, body: { stored: 1 } });
  });
});
