import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, startEmbeddedPostgres } from '@fabric/db/embedded';
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
  // Migrations run in a child process: the schema engine is WebAssembly,
  // which Node 20 loads only with a flag this (vitest) process may lack.
  const root = path.resolve(import.meta.dirname, '../../../..');
  execFileSync(
    process.execPath,
    ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', '--import', 'tsx', 'scripts/db-migrate.ts'],
    {
      cwd: root,
      env: { ...process.env, DATABASE_URL: templateUrl.toString() },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', TEMPLATE_DATABASE);
  return stop;
}
