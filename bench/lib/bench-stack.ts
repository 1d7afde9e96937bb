import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseEnv } from '../../apps/api/src/env';
import { type RunningApi, startApi } from '../../apps/api/src/server';
import { ApiClient } from '../../apps/api/src/testing/api-client';
import { ensureDatabase, startEmbeddedPostgres } from '../../packages/db/src/embedded';
import { applyMigrations } from '../../packages/db/src/migrate';
import { seedDemo } from '../../prisma/seed';

export interface BenchStack {
  api: RunningApi;
  databaseUrl: string;
  /** The demo's provider admin, signed in. */
  admin: ApiClient;
}

export interface BenchStackOptions {
  /**
   * A Postgres data directory kept between runs, so a data set generated
   * once is reused; by default a temporary one, removed afterwards.
   */
  dataDir?: string;
  /** Server settings (ALTER SYSTEM), applied with a restart before anything runs. */
  settings?: Record<string, string>;
  /** Runs on the migrated database before the API starts (e.g. generating a data set). */
  prepare?: (databaseUrl: string) => Promise<void>;
}

/**
 * Runs `bench` against an embedded Postgres (migrated, demo seeded) and the
 * real API on a free port, with the background workers off so they do not
 * blur the figures; a temporary data directory is removed afterwards.
 */
export async function withBenchStack(
  name: string,
  bench: (stack: BenchStack) => Promise<void>,
  options: BenchStackOptions = {},
): Promise<void> {
  const dir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `fabric-bench-${name}-`));
  mkdirSync(dir, { recursive: true });
  const port = 56_000 + Math.floor(Math.random() * 3000);
  let server = await startEmbeddedPostgres({ dataDir: dir, port });
  try {
    if (options.settings && Object.keys(options.settings).length) {
      const client = new pg.Client({ connectionString: server.serverUrl });
      await client.connect();
      for (const [key, value] of Object.entries(options.settings)) {
        await client.query(`ALTER SYSTEM SET ${key} = '${value.replaceAll("'", "''")}'`);
      }
      await client.end();
      await server.stop();
      server = await startEmbeddedPostgres({ dataDir: dir, port });
    }
    await ensureDatabase(server.serverUrl, 'bench');
    const databaseUrl = server.databaseUrl('bench');
    await applyMigrations(databaseUrl);
    await options.prepare?.(databaseUrl);
    const api = await startApi(
      parseEnv({
        DATABASE_URL: databaseUrl,
        FABRIC_API_PORT: '0',
        BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
        FABRIC_LOG_LEVEL: 'error',
        FABRIC_DB_POOL_SIZE: '20',
      }),
      { monitor: false },
    );
    try {
      await seedDemo(api.services);
      const admin = await ApiClient.signIn(api.url, 'admin@fabric.local', 'fabric-admin-1');
      await bench({ api, databaseUrl, admin });
    } finally {
      await api.close();
    }
  } finally {
    await server.stop();
    if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
