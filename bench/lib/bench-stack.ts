import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/**
 * Runs `bench` against a throwaway embedded Postgres (migrated, demo seeded)
 * and the real API on a free port, with the background workers off so they
 * do not blur the figures; everything is removed afterwards.
 */
export async function withBenchStack(name: string, bench: (stack: BenchStack) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fabric-bench-${name}-`));
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: 56_000 + Math.floor(Math.random() * 3000) });
  try {
    await ensureDatabase(pg.serverUrl, 'bench');
    const databaseUrl = pg.databaseUrl('bench');
    await applyMigrations(databaseUrl);
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
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
