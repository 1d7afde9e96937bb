// Applies pending migrations to DATABASE_URL or the embedded Postgres.
import { applyMigrations } from '../packages/db/src/migrate';
import { withDevDatabase } from './lib/dev-database';

const applied = await withDevDatabase((url) => applyMigrations(url));
console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
