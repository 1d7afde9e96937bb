// Applies pending migrations to DATABASE_URL or the embedded Postgres: Prisma's
// (our tables) and DBOS's (the workflow engine's tables, schema `dbos`), so a
// database cloned from this one (the test template) needs no DDL at launch.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { applyMigrations } from '../packages/db/src/migrate';
import { withDevDatabase } from './lib/dev-database';

const applied = await withDevDatabase(async (url) => {
  const ours = await applyMigrations(url);
  await DBOS.migrate(url, { schemaName: 'dbos' });
  return ours;
});
console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
