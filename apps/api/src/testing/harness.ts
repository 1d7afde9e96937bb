import { randomBytes } from 'node:crypto';
import type { Clock } from '@fabric/core/shared/clock';
import { ensureDatabase } from '@fabric/db/embedded';
import pg from 'pg';
import superjson from 'superjson';
import { inject } from 'vitest';
import { type ApiConfig, parseEnv } from '../env';
import { type RunningApi, startApi } from '../server';

/** A fresh database cloned from the migrated template: one per test file. */
export async function createTestDatabase(): Promise<string> {
  const serverUrl = inject('pgServerUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(serverUrl, name, inject('pgTemplate'));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestApiOptions {
  databaseUrl?: string;
  env?: Record<string, string>;
  clock?: Clock;
  monitor?: boolean;
}

export interface TestApi extends RunningApi {
  databaseUrl: string;
  config: ApiConfig;
}

/** The real API server on a free port, over a real database. */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const config = parseEnv({
    DATABASE_URL: databaseUrl,
    FABRIC_API_PORT: '0',
    FABRIC_PUBLIC_URL: 'http://localhost:3000',
    BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
    FABRIC_LOG_LEVEL: 'error',
    FABRIC_DB_POOL_SIZE: '5',
    ...options.env,
  });
  const api = await startApi(config, { clock: options.clock, monitor: options.monitor });
  return Object.assign(api, { databaseUrl, config: { ...config, agentApiUrl: api.url } });
}

export type ProcedureResult =
  | { ok: true; data: unknown }
  | { ok: false; status: number; code: string; message: string; zodError?: unknown };

/** A signed-in (or anonymous) HTTP client of the tRPC API, as a browser would use it. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly cookie: string | null = null,
  ) {}

  static async signIn(baseUrl: string, email: string, password: string): Promise<ApiClient> {
    const response = await signInRequest(baseUrl, email, password);
    if (response.status !== 200)
      throw new Error(`sign-in as ${email} failed: ${response.status} ${await response.text()}`);
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return new ApiClient(baseUrl, cookie);
  }

  async call(path: string, type: 'query' | 'mutation', input?: unknown): Promise<ProcedureResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', origin: 'http://localhost:3000' };
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
    };
  }

  query<T = unknown>(path: string, input?: unknown): Promise<T> {
    return this.call(path, 'query', input).then(unwrap<T>(path));
  }

  mutate<T = unknown>(path: string, input?: unknown): Promise<T> {
    return this.call(path, 'mutation', input).then(unwrap<T>(path));
  }
}

function unwrap<T>(path: string) {
  return (result: ProcedureResult): T => {
    if (!result.ok) throw new Error(`${path} failed: ${result.code} ${result.message}`);
    return result.data as T;
  };
}

export function signInRequest(baseUrl: string, email: string, password: string): Promise<Response> {
  return fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
    body: JSON.stringify({ email, password }),
  });
}

/** Direct SQL for assertions about what was (not) written. */
export async function withSql<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function countRows(databaseUrl: string, table: string, where = 'true'): Promise<number> {
  return withSql(databaseUrl, async (c) => {
    const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} WHERE ${where}`);
    return Number(r.rows[0]?.n ?? 0);
  });
}
