// Creates prisma/migrations/<UTC timestamp>_<name>/migration.sql from the
// change between the schema at the last migration (the schema.prisma copy kept
// beside it) and prisma/schema.prisma now. Offline: no schema-engine binary.
//   npm run db:migrate:new -- add_vm_table
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { diffSchemas, MIGRATIONS_DIR, SCHEMA_PATH } from '../packages/db/src/migrate';
import { withDevDatabase } from './lib/dev-database';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migrate:new -- <name in snake_case>');
  process.exit(2);
}

const previous = existsSync(MIGRATIONS_DIR)
  ? readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
      .at(-1)
  : undefined;
const previousSchemaPath = previous ? path.join(MIGRATIONS_DIR, previous, 'schema.prisma') : undefined;
if (previousSchemaPath && !existsSync(previousSchemaPath)) {
  console.error(`${previousSchemaPath} is missing: every migration keeps the schema it was made from.`);
  process.exit(1);
}

const sql = await withDevDatabase((url) =>
  diffSchemas(
    url,
    previousSchemaPath ? readFileSync(previousSchemaPath, 'utf8') : null,
    readFileSync(SCHEMA_PATH, 'utf8'),
  ),
);
if (!sql.trim() || /^--\s*This is an empty migration\.?\s*$/m.test(sql.trim())) {
  console.log('The schema has not changed since the last migration; nothing written.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'migration.sql'), sql);
copyFileSync(SCHEMA_PATH, path.join(dir, 'schema.prisma'));
const lock = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
if (!existsSync(lock)) writeFileSync(lock, 'provider = "postgresql"\n');
console.log(`Wrote ${path.relative(process.cwd(), dir)}/migration.sql; review it, then commit it with schema.prisma.`);
