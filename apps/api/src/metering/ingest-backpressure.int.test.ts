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

// Sample ingest holds a bounded number of places: here one batch written at
// once plus one more in line (places are taken before a body is read, so a
// slow body costs a place, never a writer's slot), and the next told to come
// back later, which the agent does with the samples still in its buffer.

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

/** A batch whose body stops after ten bytes: it holds a place in line until `finish`. */
function stalledUpload(url: URL, payload: string) {
  const req = request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${host.credential}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    },
  });
  const answer = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.write(payload.slice(0, 10));
  return { answer, finish: () => req.end(payload.slice(10)) };
}

describe('sample ingest under load', () => {
  it('answers 503 with Retry-After past the line, and takes the batch when sent again', async () => {
    const url = new URL(`${api.url}/agent/v1/hosts/${host.hostId}/samples`);
    // Two batches stall mid-body: they hold both places (1 writer + 1 waiting).
    const first = stalledUpload(url, body(1, 1));
    const second = stalledUpload(url, body(2, 2));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const refused = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.credential}`, 'content-type': 'application/json' },
      body: body(3, 3),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('BUSY');

    first.finish();
    second.finish();
    expect(await first.answer).toBe(200);
    expect(await second.answer).toBe(200);
    // Sent again, as the agent does from its buffer: taken.
    const again = await agentPost(api.url, url.pathname, JSON.parse(body(3, 3)), { credential: host.credential });
    expect(again).toMatchObject({ status: 200, body: { stored: 1 } });
  });
});
