import path from 'node:path';
import { ensureDatabase, startEmbeddedPostgres } from './embedded';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface OpenedDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The database Fabric runs on: `databaseUrl` when given (an existing
 * Postgres), otherwise an embedded Postgres whose data stays in `dataDir`.
 */
export async function openDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  port: number;
  databaseName?: string;
  log?: (line: string) => void;
}): Promise<OpenedDatabase> {
  if (options.databaseUrl) {
    return { url: options.databaseUrl, embedded: false, stop: async () => {} };
  }
  const server = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.port, log: options.log });
  const name = options.databaseName ?? 'fabric';
  await ensureDatabase(server.serverUrl, name);
  return { url: server.databaseUrl(name), embedded: true, stop: () => server.stop() };
}
