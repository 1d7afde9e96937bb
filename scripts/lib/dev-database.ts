import path from 'node:path';
import { openDatabase, REPO_ROOT } from '../../packages/db/src/database';

/** Runs `fn` against DATABASE_URL, or the embedded Postgres under .data/ (started and stopped around it). */
export async function withDevDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const db = await openDatabase({
    databaseUrl: process.env.DATABASE_URL,
    dataDir: process.env.FABRIC_DATA_DIR ?? path.join(REPO_ROOT, '.data', 'postgres'),
    port: Number(process.env.FABRIC_PG_PORT ?? 54320),
  });
  try {
    return await fn(db.url);
  } finally {
    await db.stop();
  }
}
