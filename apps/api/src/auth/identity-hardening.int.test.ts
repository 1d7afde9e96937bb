import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, demoUser, seedAndSignIn } from '../testing/seed';

// Issue 9, classes 1 and 10 (identity): what a stranger, or another tenant's admin, could do with
// /api/auth and user creation. Clients are told apart by X-Forwarded-For: the test runner connects
// from loopback, which the API trusts as the console's proxy by default (FABRIC_TRUSTED_PROXIES).

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;

beforeAll(async () => {
  api = await startTestApi({
    env: {
      FABRIC_SIGNIN_MAX_FAILURES: '3',
      FABRIC_SIGNIN_MAX_ACCOUNT_FAILURES: '6',
      FABRIC_SIGNIN_MAX_SOURCE_FAILURES: '10',
      FABRIC_SIGNIN_WINDOW_MINUTES: '15',
    },
  });
  c = await seedAndSignIn(api);
});
afterAll(() => api.close());

const ORIGIN = 'http://localhost:3000';
let nextAddress = 1;
/** A client address of its own for each use: sources do not share throttle counts. */
const newAddress = () => `198.51.100.${nextAddress++}`;

function signIn(from: string, body: string, contentType = 'application/json') {
  return fetch(`${api.url}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': contentType, origin: ORIGIN, 'x-forwarded-for': from },
    body,
  });
}

const jsonSignIn = (from: string, email: string, password: string) => signIn(from, JSON.stringify({ email, password }));

/** U+FEFF first: fetch sends it UTF-8 encoded, as the bytes EF BB BF. */
const withBom = (text: string) => `\uFEFF${text}`;

const sessionCookie = (response: Response) =>
  response.headers.getSetCookie().find((cookie) => cookie.startsWith('fabric.session_token='));

async function auditRows(where: string) {
  return withSql(api.databaseUrl, async (sql) => {
    const result = await sql.query<{ action: string; target_id: string | null; actor_label: string; result: string }>(
      `SELECT action, target_id, actor_label, result::text FROM audit_events WHERE ${where} ORDER BY id`,
    );
    return result.rows;
  });
}

describe('one reading of a sign-in body', () => {
  it('refuses a form-encoded sign-in, even with the right password: better-auth never sees it', async () => {
    const { email, password } = demoUser('blueUser');
    const form = new URLSearchParams({ email, password }).toString();
    const response = await signIn(newAddress(), form, 'application/x-www-form-urlencoded');
    expect(response.status).toBe(415);
    expect(sessionCookie(response)).toBeUndefined();
    expect(await auditRows(`action = 'auth.sign_in' AND target_id = '${email}' AND result = 'success'`)).toHaveLength(
      1, // seedAndSignIn's, nothing since
    );
  });

  it.each([
    ['text/plain', 'text/plain;charset=UTF-8'],
    ['a JSON subtype', 'application/vnd.api+json'],
    ['a charset other than UTF-8', 'application/json; charset=utf-16'],
  ])('refuses %s the same way', async (_, contentType) => {
    const { email, password } = demoUser('blueUser');
    const response = await signIn(newAddress(), JSON.stringify({ email, password }), contentType);
    expect(response.status).toBe(415);
    expect(sessionCookie(response)).toBeUndefined();
  });

  it('counts, throttles and audits with the real e-mail a sign-in sent with a UTF-8 BOM', async () => {
    const { email, password } = demoUser('yellowUser');
    const from = newAddress();
    for (let i = 0; i < 3; i++) {
      const wrong = await signIn(from, withBom(JSON.stringify({ email, password: `wrong-${i}-password` })));
      expect(wrong.status).toBe(401);
    }
    expect(await auditRows(`action = 'auth.sign_in' AND result = 'denied' AND details->>'source' = '${from}'`)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ target_id: email, actor_label: email })),
    );
    // The right password, with or without the BOM, from the same client: throttled.
    const right = await signIn(from, withBom(JSON.stringify({ email, password })));
    expect(right.status).toBe(429);
    expect(sessionCookie(right)).toBeUndefined();
    expect((await jsonSignIn(from, email, password)).status).toBe(429);
  });

  it('counts a duplicate e-mail key against the account better-auth signs in to (the last one)', async () => {
    const { email, password } = demoUser('finance');
    const from = newAddress();
    for (let i = 0; i < 3; i++) {
      const body = `{"email":"decoy-${i}@nowhere.example","email":"${email}","password":"wrong-${i}-password"}`;
      expect((await signIn(from, body)).status).toBe(401);
    }
    expect(
      (await signIn(from, `{"email":"decoy@nowhere.example","email":"${email}","password":"${password}"}`)).status,
    ).toBe(429);
  });

  it('a sign-in with a charset parameter still works', async () => {
    const { email, password } = demoUser('blueAdmin');
    const response = await signIn(newAddress(), JSON.stringify({ email, password }), 'application/json; charset=UTF-8');
    expect(response.status).toBe(200);
    expect(sessionCookie(response)).toBeDefined();
  });
});

describe('throttling per client address and per account', () => {
  it('slows one client trying many unknown e-mails, whatever the password', async () => {
    const from = newAddress();
    for (let i = 0; i < 10; i++) {
      expect((await jsonSignIn(from, `nobody-${i}-${randomUUID()}@nowhere.example`, 'some-password-1')).status).toBe(
        401,
      );
    }
    const refused = await jsonSignIn(from, `nobody-${randomUUID()}@nowhere.example`, 'some-password-1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('900');
    // Even a real account with its right password: this client has shown what it is doing.
    const { email, password } = demoUser('admin');
    expect((await jsonSignIn(from, email, password)).status).toBe(429);
    // Another client is not slowed by it.
    expect((await jsonSignIn(newAddress(), email, password)).status).toBe(200);
  });

  it('a stranger’s failures lock out the stranger, not the owner at another address, up to the account limit', async () => {
    const { email, password } = demoUser('yellowAdmin');
    const stranger = newAddress();
    for (let i = 0; i < 3; i++) expect((await jsonSignIn(stranger, email, `wrong-${i}-password`)).status).toBe(401);
    expect((await jsonSignIn(stranger, email, password)).status).toBe(429);
    const owner = newAddress();
    expect((await jsonSignIn(owner, email, password)).status).toBe(200);

    // The owner's success starts the account's count again: six more failures, from two other
    // addresses, reach the account limit, and then the account waits, wherever the owner is.
    for (const from of [newAddress(), newAddress()]) {
      for (let i = 0; i < 3; i++) expect((await jsonSignIn(from, email, `wrong-${i}-password`)).status).toBe(401);
    }
    expect((await jsonSignIn(owner, email, password)).status).toBe(429);
  });
});

describe('update-user applies the name rules of user creation', () => {
  async function updateUser(client: ApiClient, body: string, contentType = 'application/json') {
    return fetch(`${api.url}/api/auth/update-user`, {
      method: 'POST',
      headers: { 'content-type': contentType, origin: ORIGIN, cookie: client.cookie ?? '' },
      body,
    });
  }
  const nameOf = async (email: string) =>
    withSql(api.databaseUrl, async (sql) => {
      const result = await sql.query<{ name: string }>('SELECT name FROM users WHERE email = $1', [email]);
      return result.rows[0]?.name;
    });

  it.each([
    ['10,000 characters', JSON.stringify({ name: 'x'.repeat(10_000) }), 'application/json'],
    ['a NUL byte', JSON.stringify({ name: 'Bob\u0000Blue' }), 'application/json'],
    ['an empty name', JSON.stringify({ name: '   ' }), 'application/json'],
    [
      'another field',
      JSON.stringify({ name: 'Bob', image: `https://x.example/${'y'.repeat(5000)}` }),
      'application/json',
    ],
  ])('refuses %s with 400 and changes nothing', async (_, body, contentType) => {
    const { email, name } = demoUser('blueUser');
    const response = await updateUser(c.blueUser, body, contentType);
    expect(response.status).toBe(400);
    expect(await nameOf(email)).toBe(name);
  });

  it('refuses a form-encoded update (415) and changes nothing', async () => {
    const { email, name } = demoUser('blueUser');
    const response = await updateUser(c.blueUser, `name=${'x'.repeat(10_000)}`, 'application/x-www-form-urlencoded');
    expect(response.status).toBe(415);
    expect(await nameOf(email)).toBe(name);
  });

  it('accepts a good name, trimmed', async () => {
    const { email } = demoUser('yellowUser');
    const response = await updateUser(c.yellowUser, JSON.stringify({ name: '  Yuri Yellow-Žlutý  ' }));
    expect(response.status).toBe(200);
    expect(await nameOf(email)).toBe('Yuri Yellow-Žlutý');
  });
});

describe('no session token in any answer', () => {
  it('list-sessions and get-session name sessions without their tokens', async () => {
    const headers = { origin: ORIGIN, cookie: c.blueAdmin.cookie ?? '' };
    const list = await fetch(`${api.url}/api/auth/list-sessions`, { headers });
    expect(list.status).toBe(200);
    const sessions = (await list.json()) as Record<string, unknown>[];
    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) {
      expect(session).toHaveProperty('id');
      expect(session).not.toHaveProperty('token');
    }
    const current = await fetch(`${api.url}/api/auth/get-session`, { headers });
    const body = (await current.json()) as { session: Record<string, unknown>; user: { email: string } };
    expect(body.user.email).toBe(demoUser('blueAdmin').email);
    expect(body.session).not.toHaveProperty('token');
    const tokens = await withSql(
      api.databaseUrl,
      async (sql) => (await sql.query<{ token: string }>('SELECT token FROM sessions')).rows,
    );
    const text = JSON.stringify(sessions) + JSON.stringify(body);
    for (const { token } of tokens) expect(text).not.toContain(token);
  });
});

describe('a stranger cannot grow the audit log without limit', () => {
  async function times(n: number, concurrency: number, fn: (i: number) => Promise<unknown>) {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await fn(next++);
      }),
    );
  }

  it('1,000 bad agent credentials write a bounded number of rows', async () => {
    const before = await countRows(api.databaseUrl, 'audit_events');
    const hostId = randomUUID();
    const statuses = new Set<number>();
    await times(1000, 8, async (i) => {
      const response = await fetch(`${api.url}/agent/v1/hosts/${hostId}/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hostId}.forged-${i}`, 'content-type': 'application/json' },
        body: JSON.stringify({ seq: i, agentVersion: '1.0.0' }),
      });
      statuses.add(response.status);
      await response.arrayBuffer();
    });
    expect([...statuses]).toEqual([401]);
    const written = (await countRows(api.databaseUrl, 'audit_events')) - before;
    // At most 10 a minute from one source; the run may straddle a minute.
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(20);
  });

  it('1,000 failed sign-ins from one client write a bounded number of rows', async () => {
    const before = await countRows(api.databaseUrl, 'audit_events');
    const from = newAddress();
    await times(1000, 8, async (i) => {
      const response = await jsonSignIn(from, `nobody-${i}@nowhere.example`, 'some-password-1');
      await response.arrayBuffer();
    });
    const written = (await countRows(api.databaseUrl, 'audit_events')) - before;
    // The guesses better-auth judged are all written (the throttle counts them: ≤ 10, plus the few
    // in flight when the limit was reached); the refusals after them, at most 10 a minute.
    expect(written).toBeLessThanOrEqual(10 + 8 + 20);
    // The client is still refused: the budget bounds the rows, not the refusals.
    expect((await jsonSignIn(from, 'nobody@nowhere.example', 'some-password-1')).status).toBe(429);
  });
});

describe('adding a user does not reveal other tenants’ members', () => {
  it('answers the same for an e-mail of another tenant, of the provider and of the own tenant, naming none', async () => {
    const attempt = (email: string) =>
      c.yellowAdmin.call('portal.users.create', 'mutation', {
        name: 'Probe',
        email,
        password: 'a-long-enough-password',
        role: 'tenant-user',
      });
    const blue = await attempt(demoUser('blueUser').email);
    const provider = await attempt(demoUser('admin').email);
    const own = await attempt(demoUser('yellowUser').email);
    expect(blue.ok).toBe(false);
    expect(provider).toEqual(blue);
    expect(own).toEqual(blue);
    expect(JSON.stringify(blue)).not.toContain('blue.example');
    expect(JSON.stringify(blue)).not.toMatch(/Blue/i);
  });

  it('the provider admin is still told which e-mail is taken', async () => {
    const result = await c.admin.call('users.create', 'mutation', {
      name: 'Twin',
      email: demoUser('blueUser').email,
      password: 'a-long-enough-password',
      role: 'finance',
    });
    expect(result).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(result.ok ? '' : result.message).toContain(demoUser('blueUser').email);
  });
});
