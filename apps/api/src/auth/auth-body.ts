import { checkJsonShape, JSON_SHAPE_LIMITS } from '../http/json-shape';

/**
 * The one reading of an /api/auth request body. better-auth (better-call's
 * getBody) would also read a form-urlencoded body, any `application/*+json`
 * type, and JSON behind a UTF-8 BOM; if our checks (the sign-in throttle,
 * the audit's account, the name rules) read less than it does, what they
 * cannot read goes through unchecked. So a body is read here or refused, and
 * better-auth is handed our reading re-serialized: it cannot see anything
 * else (a duplicate key, for one, arrives once, as JSON.parse kept it).
 *
 * Only JSON is accepted: the console sends nothing else, and a form body is
 * a "simple" cross-site request a foreign page can send without a preflight.
 */
export type AuthBody =
  | { ok: true; value: unknown }
  | { ok: false; status: 400 | 415; code: 'UNSUPPORTED_MEDIA_TYPE' | 'BAD_REQUEST'; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readAuthBody(contentType: string | undefined, body: Buffer): AuthBody {
  const [mediaType = '', ...params] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    return {
      ok: false,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Send the body as application/json (UTF-8)',
    };
  }
  let text: string;
  try {
    // fatal: malformed UTF-8 is refused, not read as U+FFFD; a leading BOM is dropped, as fetch's json() does.
    text = utf8.decode(body);
  } catch {
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'The body is not valid UTF-8' };
  }
  // Before JSON.parse: deep nesting costs it CPU out of all proportion to the body's size (json-shape.ts).
  const shape = checkJsonShape(body, JSON_SHAPE_LIMITS);
  if (!shape.ok) return { ok: false, status: 400, code: 'BAD_REQUEST', message: shape.message };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'The body is not valid JSON' };
  }
  // No e-mail, password, token or name holds a control character; Postgres refuses NUL with a 500.
  if (hasControlCharacter(value)) {
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'A value holds a control character' };
  }
  return { ok: true, value };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function hasControlCharacter(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return CONTROL.test(value);
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  const items = Array.isArray(value) ? value : Object.entries(value).flat();
  return items.some((item) => hasControlCharacter(item, depth + 1));
}

/** Credentials better-auth puts in its answers (a session's token); the httpOnly cookie is their only copy. */
const SECRET_KEYS = new Set(['token', 'accessToken', 'refreshToken', 'idToken', 'password']);

/** `value` without any secret key, at any depth (sign-in, get-session, list-sessions all carry a token). */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !SECRET_KEYS.has(key))
        .map(([key, v]) => [key, withoutSecrets(v)]),
    );
  }
  return value;
}
