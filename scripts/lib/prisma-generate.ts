import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../packages/db/src/database';

/**
 * Generates the Prisma client when the schema is newer than it. Prisma's CLI
 * wants a native schema engine it cannot download here; generate never runs
 * it, so pointing the variable at any executable is enough.
 */
export function generatePrismaClient(): void {
  const schema = path.join(REPO_ROOT, 'prisma/schema.prisma');
  const generated = path.join(REPO_ROOT, 'packages/db/src/generated/prisma/client.ts');
  if (existsSync(generated) && statSync(generated).mtimeMs > statSync(schema).mtimeMs) return;
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/prisma/build/index.js'), 'generate'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
}
