import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditRepository } from '@fabric/core/audit/audit-repository';
import {
  isThrottled,
  type SignInThrottlePolicy,
  throttleMessage,
  windowStart,
} from '@fabric/core/identity/sign-in-throttle';
import type { Clock } from '@fabric/core/shared/clock';
import { BodyTooLargeError, clientAddress, headersOf, readBody, sendFetchResponse, sendJson } from '../http/request';
import { SIGN_IN_ACTION } from '../repositories/prisma-audit-repository';
import type { Auth } from './auth';

const AUTH_MAX_BODY_BYTES = 16 * 1024;

/**
 * Serves /api/auth/* through better-auth, adding what it does not do for us:
 * per-account throttling of failed sign-ins, and an audit event for every
 * sign-in (success or denied) and sign-out.
 */
export function createAuthRoutes(deps: {
  auth: Auth;
  audit: AuditRepository;
  clock: Clock;
  throttle: SignInThrottlePolicy;
  publicUrl: string;
}) {
  const { auth, audit, clock, throttle } = deps;

  return async function handleAuth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', deps.publicUrl);
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        body = await readBody(req, AUTH_MAX_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return sendJson(res, 413, { message: error.message });
        throw error;
      }
    }
    const source = clientAddress(req);
    const isSignIn = req.method === 'POST' && url.pathname === '/api/auth/sign-in/email';
    const email = isSignIn ? emailOf(body) : null;

    if (isSignIn && email) {
      const failures = await audit.countFailedSignIns(email, windowStart(clock.now(), throttle));
      if (isThrottled(failures, throttle)) {
        await audit.append({
          actor: { type: 'user', id: null, label: email },
          action: SIGN_IN_ACTION,
          targetType: 'user',
          targetId: email,
          targetLabel: email,
          result: 'denied',
          message: 'Refused: too many failed attempts',
          details: { source, throttled: true },
        });
        return sendJson(res, 429, { code: 'TOO_MANY_ATTEMPTS', message: throttleMessage(throttle) });
      }
    }

    const signOutSession =
      req.method === 'POST' && url.pathname === '/api/auth/sign-out'
        ? await auth.api.getSession({ headers: headersOf(req) }).catch(() => null)
        : null;

    const request = new Request(url, {
      method: req.method ?? 'GET',
      headers: headersOf(req),
      ...(body ? { body: new Uint8Array(body) } : {}),
    });
    const response = await auth.handler(request);

    if (isSignIn) {
      const ok = response.status === 200;
      const label = email ?? '(no email)';
      await audit.append({
        actor: { type: 'user', id: null, label },
        action: SIGN_IN_ACTION,
        targetType: 'user',
        targetId: email,
        targetLabel: label,
        result: ok ? 'success' : 'denied',
        message: ok ? 'Signed in' : 'Wrong email or password',
        details: { source },
      });
    }
    if (signOutSession && response.status === 200) {
      await audit.append({
        actor: { type: 'user', id: signOutSession.user.id, label: signOutSession.user.email },
        action: 'auth.sign_out',
        targetType: 'session',
        targetId: signOutSession.session.id,
        result: 'success',
      });
    }
    await sendFetchResponse(res, isSignIn && response.status === 200 ? await withoutBodyToken(response) : response);
  };
}

/**
 * better-auth echoes the session token in the sign-in body. The cookie
 * already carries it (httpOnly, out of reach of page scripts), so the body
 * copy is dropped.
 */
async function withoutBodyToken(response: Response): Promise<Response> {
  const body: unknown = await response.json();
  const cleaned = body && typeof body === 'object' ? { ...body, token: undefined } : body;
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify(cleaned), { status: response.status, headers });
}

function emailOf(body: Buffer | undefined): string | null {
  if (!body) return null;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'email' in parsed && typeof parsed.email === 'string') {
      return parsed.email.trim().toLowerCase().slice(0, 254);
    }
  } catch {
    // better-auth answers malformed bodies itself.
  }
  return null;
}
