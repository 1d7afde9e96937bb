import superjson from 'superjson';

// A tRPC client for tests (integration and browser): plain fetch, a session
// cookie, superjson, and results as data rather than exceptions.

export type ProcedureResult =
  | { ok: true; data: unknown }
  | { ok: false; status: number; code: string; message: string; zodError?: unknown; retryAfterSeconds?: number };

/** A signed-in (or anonymous) HTTP client of the tRPC API, as a browser would use it. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly cookie: string | null = null,
    /** The browser origin the API trusts (FABRIC_PUBLIC_URL). */
    readonly origin = 'http://localhost:3000',
  ) {}

  static async signIn(baseUrl: string, email: string, password: string, origin?: string): Promise<ApiClient> {
    const response = await signInRequest(baseUrl, email, password, origin);
    if (response.status !== 200)
      throw new Error(`sign-in as ${email} failed: ${response.status} ${await response.text()}`);
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return new ApiClient(baseUrl, cookie, origin);
  }

  /** One call as its result; a 429 is waited out as its Retry-After says (as a well-behaved client does). */
  call(path: string, type: 'query' | 'mutation', input?: unknown): Promise<ProcedureResult> {
    return this.politely(() => this.callOnce(path, type, input));
  }

  /** One call, a 429 returned as it is: for tests about the limits themselves. */
  async callOnce(path: string, type: 'query' | 'mutation', input?: unknown): Promise<ProcedureResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', origin: this.origin };
    if (this.cookie) headers.cookie = this.cookie;
    const encoded = input === undefined ? undefined : JSON.stringify(superjson.serialize(input));
    const url = `${this.baseUrl}/api/trpc/${path}`;
    const response =
      type === 'query'
        ? await fetch(encoded ? `${url}?input=${encodeURIComponent(encoded)}` : url, { headers })
        : await fetch(url, { method: 'POST', headers, body: encoded ?? '{}' });
    const body = (await response.json()) as {
      result?: { data: { json: unknown; meta?: unknown } };
      error?: { json: { message: string; data: { code: string; httpStatus: number; zodError?: unknown } } };
    };
    if (body.result) {
      return { ok: true, data: superjson.deserialize(body.result.data as Parameters<typeof superjson.deserialize>[0]) };
    }
    const error = body.error?.json;
    return {
      ok: false,
      status: response.status,
      code: error?.data.code ?? 'UNKNOWN',
      message: error?.message ?? '',
      zodError: error?.data.zodError,
      ...(response.headers.has('retry-after')
        ? { retryAfterSeconds: Number(response.headers.get('retry-after')) }
        : {}),
    };
  }

  query<T = unknown>(path: string, input?: unknown): Promise<T> {
    return this.call(path, 'query', input).then(unwrap<T>(path));
  }

  mutate<T = unknown>(path: string, input?: unknown): Promise<T> {
    return this.call(path, 'mutation', input).then(unwrap<T>(path));
  }

  private async politely(send: () => Promise<ProcedureResult>): Promise<ProcedureResult> {
    for (let attempt = 1; ; attempt++) {
      const result = await send();
      if (result.ok || result.status !== 429 || attempt >= MAX_THROTTLED_ATTEMPTS) return result;
      const seconds = result.retryAfterSeconds || 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(seconds, 1), 10) * 1000));
    }
  }
}

/** Integration tests run many calls as one user; the API's per-user limits answer 429 past a burst. */
const MAX_THROTTLED_ATTEMPTS = 8;

function unwrap<T>(path: string) {
  return (result: ProcedureResult): T => {
    if (!result.ok) throw new Error(`${path} failed: ${result.code} ${result.message}`);
    return result.data as T;
  };
}

export function signInRequest(
  baseUrl: string,
  email: string,
  password: string,
  origin = 'http://localhost:3000',
): Promise<Response> {
  return fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ email, password }),
  });
}
