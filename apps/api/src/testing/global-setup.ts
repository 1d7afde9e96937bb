import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, startEmbeddedPostgres } from '@fabric/db/embedded';
import { applyMigrations } from '@fabric/db/migrate';
import type { TestProject } from 'vitest/node';

export const TEMPLATE_DATABASE = 'fabric_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    pgTemplate: string;
  }
}

/**
 * One Postgres for the whole run: an embedded server in a temporary directory,
 * or the server of TEST_DATABASE_URL when set. Migrations are applied once to
 * a template database; every test file clones it (fast) into its own database.
 */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  let serverUrl: string;
  if (external) {
    serverUrl = external;
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fabric-test-pg-'));
    const port = 55_000 + Math.floor(Math.random() * 5_000);
    const server = await startEmbeddedPostgres({ dataDir: dir, port });
    serverUrl = server.serverUrl;
    stop = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  await ensureDatabase(serverUrl, TEMPLATE_DATABASE);
  const templateUrl = new URL(serverUrl);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  await applyMigrations(templateUrl.toString());
  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', TEMPLATE_DATABASE);
  return stop;
}
