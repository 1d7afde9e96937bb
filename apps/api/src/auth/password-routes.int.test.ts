import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { demoUser, seedAndSignIn } from '../testing/seed';

// The final probe: change-password failures were neither throttled nor
// audited (a stolen session could guess the password without end), and
// better-auth's verify-password, which the console never calls, answered
// over HTTP. Fabric now serves only the auth endpoints it uses.

const ORIGIN = 'http://localhost:3000';
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  await seedAndSignIn(api);
});
afterAll(() => api?.close());

const post = (path: string, cookie: string | null, body: unknown) =>
  fetch(`${api.url}/api/auth/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, cookie: cookie ?? '' },
    body: JSON.stringify(body),
  });

describe('only the auth endpoints Fabric uses are served', () => {
  it.each([
    ['POST', 'verify-password', { password: 'anything-at-all' }],
    ['POST', 'sign-up/email', { email: 'mallory@evil.example', password: 'mallory-password-1', name: 'Mallory' }],
    ['POST', 'change-email', { newEmail: 'mallory@evil.example' }],
    ['POST', 'delete-user', {}],
    ['POST', 'request-password-reset', { email: 'bob@blue.example' }],
    ['POST', 'reset-password', { newPassword: 'whatever-123', token: 'x' }],
    ['POST', 'send-verification-email', { email: 'bob@blue.example' }],
    ['GET', 'list-accounts', undefined],
    ['POST', 'unlink-account', { providerId: 'credential' }],
    ['GET', 'ok', undefined],
    ['GET', 'sign-out', undefined],
  ])('%s /api/auth/%s is a 404 with a signed-in cookie', async (method, path, body) => {
    const user = demoUser('blueUser');
    const client = await ApiClient.signIn(api.url, user.email, user.password);
    const response = await fetch(`${api.url}/api/auth/${path}`, {
      method,
      headers: { 'content-type': 'application/json', origin: ORIGIN, cookie: client.cookie ?? '' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('the ones the console and automation use still answer (the control)', async () => {
    const user = demoUser('yellowUser');
    const client = await ApiClient.signIn(api.url, user.email, user.password);
    const headers = { origin: ORIGIN, cookie: client.cookie ?? '' };
    expect((await fetch(`${api.url}/api/auth/get-session`, { headers })).status).toBe(200);
    expect((await fetch(`${api.url}/api/auth/list-sessions`, { headers })).status).toBe(200);
    expect((await post('sign-out', client.cookie, {})).status).toBe(200);
  });
});

describe('change-password is throttled and audited like sign-in', () => {
  it('wrong current passwords are audited and throttled; then even the right one waits, and so does sign-in', async () => {
    const user = demoUser('blueAdmin');
    const client = await ApiClient.signIn(api.url, user.email, user.password);
    const wrong = { currentPassword: 'not-the-password-1', newPassword: 'brand-new-password-1' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post('change-password', client.cookie, wrong)).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    expect(
      await countRows(
        api.databaseUrl,
        'audit_events',
        `action = 'auth.change_password' AND result = 'denied' AND target_id = '${user.email}'`,
      ),
    ).toBe(5);

    const right = await post('change-password', client.cookie, {
      currentPassword: user.password,
      newPassword: 'brand-new-password-1',
    });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await right.json()).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    expect(
      await countRows(
        api.databaseUrl,
        'audit_events',
        `action = 'auth.change_password_refused' AND target_id = '${user.email}'`,
      ),
    ).toBeGreaterThanOrEqual(2);
    // The guesses counted against the account: sign-in from the same client waits too.
    const signIn = await fetch(`${api.url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    expect(signIn.status).toBe(429);
  });

  it('a good change is audited as a success (the control)', async () => {
    const user = demoUser('yellowAdmin');
    const client = await ApiClient.signIn(api.url, user.email, user.password);
    const response = await post('change-password', client.cookie, {
      currentPassword: user.password,
      newPassword: 'yellow-new-password-1',
    });
    expect(response.status).toBe(200);
    expect(
      await countRows(
        api.databaseUrl,
        'audit_events',
        `action = 'auth.change_password' AND result = 'success' AND target_id = '${user.email}'`,
      ),
    ).toBe(1);
  });
});
