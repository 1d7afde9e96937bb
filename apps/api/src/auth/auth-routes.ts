import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditRepository } from '@fabric/core/audit/audit-repository';
import {
  type SignInThrottlePolicy,
  sourceKey,
  throttledBy,
  throttleMessage,
  windowStart,
} from '@fabric/core/identity/sign-in-throttle';
import type { Clock } from '@fabric/core/shared/clock';
import { userNameSchema } from '@fabric/core/tenancy/tenancy.schema';
import { z } from 'zod';
import {
  BodyTooLargeError,
  clientAddress,
  headersOf,
  readBody,
  sendFetchResponse,
  sendJson,
  type TrustedProxies,
} from '../http/request';
import {
  CHANGE_PASSWORD_ACTION,
  CHANGE_PASSWORD_REFUSED_ACTION,
  SIGN_IN_ACTION,
  SIGN_IN_REFUSED_ACTION,
} from '../repositories/prisma-audit-repository';
import type { Auth } from './auth';
import { readAuthBody, withoutSecrets } from './auth-body';

const AUTH_MAX_BODY_BYTES = 16 * 1024;
const SIGN_IN_PATH = '/api/auth/sign-in/email';
const UPDATE_USER_PATH = '/api/auth/update-user';
const CHANGE_PASSWORD_PATH = '/api/auth/change-password';

/**
 * The better-auth endpoints Fabric serves: what the console and automation
 * use (sign-in, sign-out, the session and its list, revoking sessions, the
 * name, the password). better-auth mounts many more (verify-password, a
 * password oracle for anyone holding a session; sign-up, e-mail change,
 * password reset, account linking, delete-user): each is a door nobody
 * watches, so everything else is a 404 before better-auth sees it.
 */
export const SERVED_AUTH_ROUTES: ReadonlySet<string> = new Set([
  `POST ${SIGN_IN_PATH}`,
  'POST /api/auth/sign-out',
  'GET /api/auth/get-session',
  'GET /api/auth/list-sessions',
  'POST /api/auth/revoke-session',
  'POST /api/auth/revoke-sessions',
  'POST /api/auth/revoke-other-sessions',
  `POST ${UPDATE_USER_PATH}`,
  `POST ${CHANGE_PASSWORD_PATH}`,
]);

/**
 * What /api/auth/update-user may change: the name only, by the rules user
 * creation applies (better-auth's own would store 10,000 characters, and a
 * NUL byte fails in Postgres). The console does not change images or e-mails.
 */
const updateUserBody = z.strictObject({ name: userNameSchema });

/**
 * Serves /api/auth/* through better-auth, adding what it does not do for us:
 * one reading of every body (auth-body.ts), throttling of failed sign-ins per
 * account and per source (identity/sign-in-throttle.ts), an audit event for
 * every sign-in and sign-out, name rules on update-user, and answers without
 * session tokens.
 */
export function createAuthRoutes(deps: {
  auth: Auth;
  audit: AuditRepository;
  clock: Clock;
  throttle: SignInThrottlePolicy;
  publicUrl: string;
  trustedProxies: TrustedProxies;
}) {
  const { auth, audit, clock, throttle } = deps;
  const attemptsInFlight = new AttemptsInFlight();

  return async function handleAuth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', deps.publicUrl);
    const source = clientAddress(req, deps.trustedProxies);
    const key = sourceKey(source);
    if (!SERVED_AUTH_ROUTES.has(`${req.method ?? 'GET'} ${url.pathname}`)) {
      // The body is not read: the connection is closed after the answer instead.
      res.setHeader('connection', 'close');
      return sendJson(res, 404, {
        code: 'NOT_FOUND',
        message: `${req.method ?? 'GET'} ${url.pathname.slice(0, 100)} is not an endpoint of this API`,
      });
    }
    const isSignIn = req.method === 'POST' && url.pathname === SIGN_IN_PATH;
    const isChangePassword = req.method === 'POST' && url.pathname === CHANGE_PASSWORD_PATH;

    /** A sign-in refused before better-auth saw it: not a guess (not counted), audited within a budget. */
    const refuseSignIn = async (status: number, body: { code: string; message: string }, email: string | null) => {
      await audit.appendRefusal({
        actor: { type: 'user', id: null, label: email ?? source },
        action: SIGN_IN_REFUSED_ACTION,
        targetType: 'user',
        targetId: email,
        targetLabel: email,
        result: 'denied',
        message: body.message,
        details: { source, sourceKey: key, code: body.code },
      });
      // At most one window: the oldest counted failure leaves it by then (merged into sendJson's headers).
      if (status === 429) res.setHeader('retry-after', String(Math.ceil(throttle.windowMs / 1000)));
      sendJson(res, status, body);
    };

    let raw: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        raw = await readBody(req, AUTH_MAX_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return sendJson(res, 413, { message: error.message });
        throw error;
      }
    }
    // An empty body stays empty (sign-out may send none); any other is read as JSON or refused.
    let body: unknown;
    if (raw?.length) {
      const read = readAuthBody(req.headers['content-type'], raw);
      if (!read.ok) {
        const answer = { code: read.code, message: read.message };
        return isSignIn ? refuseSignIn(read.status, answer, null) : sendJson(res, read.status, answer);
      }
      body = read.value;
    } else if (isSignIn) {
      return refuseSignIn(400, { code: 'BAD_REQUEST', message: 'Enter your e-mail address and password' }, null);
    }

    // better-auth looks the account up by the e-mail in lower case: so does the throttle.
    const email = isSignIn ? emailOf(body) : null;
    let releaseAttempt = () => {};
    let changer: Awaited<ReturnType<typeof auth.api.getSession>> = null;
    try {
      return await judge();
    } finally {
      releaseAttempt();
    }
    async function judge(): Promise<void> {
      if (isSignIn) {
        if (!email) {
          return refuseSignIn(400, { code: 'BAD_REQUEST', message: 'Enter your e-mail address and password' }, null);
        }
        // Attempts still being judged count as failures for those that arrive after them: the stored
        // count is read before better-auth answers, so 40 guesses sent at once all read the same count.
        const ahead = attemptsInFlight.enter(email, key);
        releaseAttempt = ahead.release;
        const stored = await audit.countSignInFailures({
          email,
          source: key,
          since: windowStart(clock.now(), throttle),
        });
        const counts = {
          account: stored.account + ahead.account,
          accountFromSource: stored.accountFromSource + ahead.accountFromSource,
          source: stored.source + ahead.source,
        };
        const limit = throttledBy(counts, throttle);
        if (limit) {
          releaseAttempt();
          return refuseSignIn(429, { code: 'TOO_MANY_ATTEMPTS', message: throttleMessage(throttle) }, email);
        }
      }
      if (isChangePassword) {
        // A wrong current password is a guess at the account's password: counted and throttled as sign-ins are.
        changer = await auth.api.getSession({ headers: headersOf(req) }).catch(() => null);
        if (changer) {
          const account = changer.user.email.toLowerCase();
          const ahead = attemptsInFlight.enter(account, key);
          releaseAttempt = ahead.release;
          const stored = await audit.countSignInFailures({
            email: account,
            source: key,
            since: windowStart(clock.now(), throttle),
          });
          const limit = throttledBy(
            {
              account: stored.account + ahead.account,
              accountFromSource: stored.accountFromSource + ahead.accountFromSource,
              source: stored.source + ahead.source,
            },
            throttle,
          );
          if (limit) {
            releaseAttempt();
            const message = throttleMessage(throttle);
            await audit.appendRefusal({
              actor: { type: 'user', id: changer.user.id, label: changer.user.email },
              action: CHANGE_PASSWORD_REFUSED_ACTION,
              targetType: 'user',
              targetId: account,
              targetLabel: changer.user.email,
              result: 'denied',
              message,
              details: { source, sourceKey: key, code: 'TOO_MANY_ATTEMPTS', limit },
            });
            res.setHeader('retry-after', String(Math.ceil(throttle.windowMs / 1000)));
            return sendJson(res, 429, { code: 'TOO_MANY_ATTEMPTS', message });
          }
        }
      }
      if (req.method === 'POST' && url.pathname === UPDATE_USER_PATH) {
        const parsed = updateUserBody.safeParse(body);
        if (!parsed.success) {
          return sendJson(res, 400, {
            code: 'BAD_REQUEST',
            message: parsed.error.issues[0]?.message ?? 'Only the name can be changed',
          });
        }
        body = parsed.data;
      }

      const signOutSession =
        req.method === 'POST' && url.pathname === '/api/auth/sign-out'
          ? await auth.api.getSession({ headers: headersOf(req) }).catch(() => null)
          : null;

      const headers = headersOf(req);
      headers.delete('content-length');
      headers.delete('transfer-encoding');
      if (body !== undefined) headers.set('content-type', 'application/json');
      const response = await auth.handler(
        new Request(url, {
          method: req.method ?? 'GET',
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
      );

      if (isSignIn && email) {
        const ok = response.status === 200;
        await audit.append({
          actor: { type: 'user', id: null, label: email },
          action: SIGN_IN_ACTION,
          targetType: 'user',
          targetId: email,
          targetLabel: email,
          result: ok ? 'success' : 'denied',
          message: ok ? 'Signed in' : 'Wrong email or password',
          details: { source, sourceKey: key },
        });
      }
      if (changer) await auditPasswordChange(changer, response);
      if (signOutSession && response.status === 200) {
        await audit.append({
          actor: { type: 'user', id: signOutSession.user.id, label: signOutSession.user.email },
          action: 'auth.sign_out',
          targetType: 'session',
          targetId: signOutSession.session.id,
          result: 'success',
        });
      }
      await sendFetchResponse(res, await withoutBodySecrets(response));
    }

    /** Every judged password change is audited; a wrong current password as a guess the throttle counts. */
    async function auditPasswordChange(
      who: NonNullable<Awaited<ReturnType<typeof auth.api.getSession>>>,
      response: Response,
    ): Promise<void> {
      const ok = response.status === 200;
      const answer = ok
        ? null
        : ((await response
            .clone()
            .json()
            .catch(() => null)) as { code?: string; message?: string } | null);
      const guess = ok || answer?.code === 'INVALID_PASSWORD';
      await audit.append({
        actor: { type: 'user', id: who.user.id, label: who.user.email },
        action: guess ? CHANGE_PASSWORD_ACTION : CHANGE_PASSWORD_REFUSED_ACTION,
        targetType: 'user',
        targetId: who.user.email.toLowerCase(),
        targetLabel: who.user.email,
        result: ok ? 'success' : 'denied',
        message: ok
          ? 'Changed the password'
          : guess
            ? 'Wrong current password'
            : (answer?.message ?? `Password change refused (${response.status})`).slice(0, 200),
        details: { source, sourceKey: key, ...(answer?.code ? { code: answer.code } : {}) },
      });
    }
  };
}

/** Sign-in attempts of this process not yet judged, per account, per source and per both. */
class AttemptsInFlight {
  private readonly counts = new Map<string, number>();

  /** Counts this attempt in, and says how many were already in flight ahead of it. */
  enter(email: string, source: string) {
    const keys = [`a:${email}`, `s:${source}`, `as:${email}|${source}`] as const;
    const [account, src, both] = keys.map((k) => this.counts.get(k) ?? 0);
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return {
      account: account ?? 0,
      source: src ?? 0,
      accountFromSource: both ?? 0,
      release: () => {
        if (released) return;
        released = true;
        for (const k of keys) {
          const left = (this.counts.get(k) ?? 1) - 1;
          if (left <= 0) this.counts.delete(k);
          else this.counts.set(k, left);
        }
      },
    };
  }
}

/**
 * better-auth echoes session tokens in its JSON answers (sign-in,
 * get-session, list-sessions). The httpOnly cookie already carries the
 * caller's own, out of reach of page scripts; none is sent in a body.
 */
async function withoutBodySecrets(response: Response): Promise<Response> {
  if (!response.headers.get('content-type')?.includes('json') || [204, 205, 304].includes(response.status)) {
    return response;
  }
  const text = await response.text();
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  let cleaned = text;
  try {
    cleaned = JSON.stringify(withoutSecrets(JSON.parse(text)));
  } catch {
    // Not JSON after all: passed on as it came.
  }
  return new Response(cleaned, { status: response.status, statusText: response.statusText, headers });
}

/** The e-mail as better-auth will look it up (lower case), or null when there is none to count. */
function emailOf(body: unknown): string | null {
  if (!body || typeof body !== 'object' || !('email' in body) || typeof body.email !== 'string') return null;
  const email = body.email.toLowerCase();
  return email.length > 0 && email.length <= 254 ? email : null;
}
