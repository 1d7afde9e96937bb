import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/harness';

// Issue 9, class 1: X-Forwarded-For is anyone's to write. An API that trusts no proxy at this
// address (the test runner's loopback) must not let a rotating header make every attempt a new client.

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    env: { FABRIC_TRUSTED_PROXIES: '192.0.2.1', FABRIC_SIGNIN_MAX_SOURCE_FAILURES: '4' },
  });
});
afterAll(() => api.close());

describe('a forged X-Forwarded-For', () => {
  it('from a caller that is not a trusted proxy gains nothing: the caller is throttled as itself', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${api.url}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'http://localhost:3000',
          'x-forwarded-for': `203.0.113.${i + 1}`,
        },
        body: JSON.stringify({ email: `nobody-${randomUUID()}@nowhere.example`, password: 'some-password-1' }),
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });
});
