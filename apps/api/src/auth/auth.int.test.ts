import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signInRequest } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { demoUser, seedAndSignIn } from '../testing/seed';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_SIGNIN_MAX_FAILURES: '3', FABRIC_SIGNIN_WINDOW_MINUTES: '15' } });
  await seedAndSignIn(api);
});
afterAll(() => api.close());

describe('sign-in and sessions', () => {
  it('signs in with an httpOnly SameSite session cookie and knows who you are', async () => {
    const { email, password } = demoUser('blueAdmin');
    const response = await signInRequest(api.url, email, password);
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('fabric.session_token='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.token).toBeUndefined();

    const client = await ApiClient.signIn(api.url, email, password);
    const me = await client.query<{ role: string; tenant: { name: string } | null }>('auth.me');
    expect(me.role).toBe('tenant-admin');
    expect(me.tenant?.name).toBe('Blue Corp');
  });

  it('refuses a wrong password and audits the attempt', async () => {
    const before = await countRows(api.databaseUrl, 'audit_events', `action = 'auth.sign_in' AND result = 'denied'`);
    const response = await signInRequest(api.url, demoUser('blueUser').email, 'not-the-password');
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie()).toHaveLength(0);
    const after = await countRows(api.databaseUrl, 'audit_events', `action = 'auth.sign_in' AND result = 'denied'`);
    expect(after).toBe(before + 1);
  });

  it('anonymous callers are UNAUTHORIZED', async () => {
    const anonymous = new ApiClient(api.url);
    const result = await anonymous.call('auth.me', 'query');
    expect(result).toMatchObject({ ok: false, code: 'UNAUTHORIZED', status: 401 });
  });

  it('throttles an account after repeated failures, even with the right password', async () => {
    const { email, password } = demoUser('yellowUser');
    for (let i = 0; i < 3; i++) {
      expect((await signInRequest(api.url, email, `wrong-${i}-password`)).status).toBe(401);
    }
    const throttled = await signInRequest(api.url, email, password);
    expect(throttled.status).toBe(429);
    expect(((await throttled.json()) as { message: string }).message).toMatch(/Too many failed sign-in attempts/);
    // Other accounts are unaffected.
    const other = demoUser('yellowAdmin');
    expect((await signInRequest(api.url, other.email, other.password)).status).toBe(200);
  });

  it('sign-out revokes the session on the server', async () => {
    const { email, password } = demoUser('finance');
    const client = await ApiClient.signIn(api.url, email, password);
    expect((await client.call('auth.me', 'query')).ok).toBe(true);
    const out = await fetch(`${api.url}/api/auth/sign-out`, {
      method: 'POST',
      headers: { cookie: client.cookie ?? '', 'content-type': 'application/json', origin: 'http://localhost:3000' },
      body: '{}',
    });
    expect(out.status).toBe(200);
    // The old cookie, replayed, no longer works.
    expect(await client.call('auth.me', 'query')).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    expect(await countRows(api.databaseUrl, 'audit_events', `action = 'auth.sign_out'`)).toBeGreaterThanOrEqual(1);
  });

  it('public sign-up is closed', async () => {
    const response = await fetch(`${api.url}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
      body: JSON.stringify({ email: 'mallory@evil.example', password: 'mallory-password-1', name: 'Mallory' }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await countRows(api.databaseUrl, 'users', `email = 'mallory@evil.example'`)).toBe(0);
  });
});

describe('audit log', () => {
  it('cannot be edited, even with direct SQL', async () => {
    const { withSql } = await import('../testing/harness');
    await expect(
      withSql(api.databaseUrl, (c) => c.query(`UPDATE audit_events SET result = 'success'`)),
    ).rejects.toThrow(/append-only/);
    await expect(withSql(api.databaseUrl, (c) => c.query('DELETE FROM audit_events'))).rejects.toThrow(/append-only/);
  });
});
