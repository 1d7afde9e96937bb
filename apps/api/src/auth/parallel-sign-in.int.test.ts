import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInRequest } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { demoUser, seedAndSignIn } from '../testing/seed';

// Guesses sent at once read the stored failure count before any of them is
// judged: without counting attempts in flight, 40 parallel guesses were all
// checked and the right password among them was accepted.

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  await seedAndSignIn(api);
});
afterAll(() => api?.close());

describe('sign-in guesses sent at once', () => {
  it('are judged no more than the per-account limit allows; the rest get 429', async () => {
    const bob = demoUser('blueUser');
    const guesses = Array.from({ length: 39 }, (_, i) => signInRequest(api.url, bob.email, `wrong-guess-${i}-xyz`));
    const right = signInRequest(api.url, bob.email, bob.password);
    const statuses = (await Promise.all([...guesses, right])).map((r) => r.status);
    const judged = statuses.filter((s) => s !== 429).length;
    expect(judged).toBeLessThanOrEqual(5);
  });
});
