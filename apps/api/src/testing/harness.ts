import { randomBytes } from 'node:crypto';
import type { Clock } from '@fabric/core/shared/clock';
import { ensureDatabase } from '@fabric/db/embedded';
import pg from 'pg';
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
