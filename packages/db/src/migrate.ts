import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

// The schema engine ships as WebAssembly, so migrations need no native binary
// (which cannot be downloaded here). Node 20 needs --experimental-wasm-modules
// to import it; scripts/ sets that flag for every process that migrates.
type SchemaEngineModule = typeof import('@prisma/schema-engine-wasm');
type DiffTarget = import('@prisma/schema-engine-wasm').DiffTarget;

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../../prisma/migrations');
export const SCHEMA_PATH = path.resolve(import.meta.dirname, '../../../prisma/schema.prisma');

async function loadEngineModule(): Promise<SchemaEngineModule> {
  return import('@prisma/schema-engine-wasm');
}

const noFilters = { externalTables: [], externalEnums: [] };

function listMigrations(migrationsDir: string) {
  const dirs = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((dir) => ({
      path: dir,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: readFileSync(path.join(migrationsDir, dir, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

interface ScriptRunner {
  client: { query(sql: string): Promise<unknown> };
  onError(error: unknown): never;
  executeScript(script: string): Promise<void>;
}

/**
 * @prisma/adapter-pg runs a migration script by splitting it on every `;`,
 * which breaks function bodies and comments and applies the pieces one by one
 * outside a transaction. Postgres runs a multi-statement simple query as one
 * implicit transaction, so sending the script whole makes each migration
 * atomic and lets it hold PL/pgSQL.
 */
function wholeScriptAdapterFactory(connectionString: string) {
  const inner = new PrismaPg({ connectionString });
  const opened: { dispose(): Promise<void> }[] = [];
  const patch = <T extends { dispose(): Promise<void> }>(adapter: T): T => {
    opened.push(adapter);
    const runner = adapter as unknown as ScriptRunner;
    runner.executeScript = async (script: string) => {
      try {
        await runner.client.query(script);
      } catch (error) {
        runner.onError(error);
      }
    };
    return adapter;
  };
  return {
    provider: inner.provider as 'postgres',
    adapterName: inner.adapterName,
    connect: async () => patch(await inner.connect()),
    connectToShadowDb: async () => patch(await inner.connectToShadowDb()),
    /** Closes every pool the engine opened, so the database can be dropped or cloned. */
    disposeAll: async () => {
      await Promise.all(opened.splice(0).map((a) => a.dispose().catch(() => {})));
    },
  };
}

async function withEngine<T>(
  databaseUrl: string,
  run: (engine: Awaited<ReturnType<SchemaEngineModule['SchemaEngine']['new']>>) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadEngineModule();
  const adapters = wholeScriptAdapterFactory(databaseUrl);
  const factory = bindMigrationAwareSqlAdapterFactory(adapters);
  const datamodel = readFileSync(SCHEMA_PATH, 'utf8');
  const engine = await SchemaEngine.new({ datamodels: [[SCHEMA_PATH, datamodel]] }, () => {}, factory);
  try {
    return await run(engine);
  } finally {
    engine.free();
    await adapters.disposeAll();
  }
}

/**
 * Applies every migration in prisma/migrations that the database lacks and
 * records it in `_prisma_migrations`, exactly as `prisma migrate deploy`.
 * Idempotent: a migrated database is left as it is.
 */
export async function applyMigrations(databaseUrl: string, migrationsDir = MIGRATIONS_DIR): Promise<string[]> {
  return withEngine(databaseUrl, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList: listMigrations(migrationsDir), filters: noFilters });
    return out.appliedMigrationNames;
  });
}

/**
 * SQL that takes a database from the schema `fromDatamodel` (null: empty) to
 * `toDatamodel`.
 */
export async function diffSchemas(
  databaseUrl: string,
  fromDatamodel: string | null,
  toDatamodel: string,
): Promise<string> {
  // The engine connects when it starts, although a datamodel-to-datamodel
  // diff never reads the database.
  return withEngine(databaseUrl, async (engine) => {
    const from: DiffTarget =
      fromDatamodel === null
        ? { tag: 'empty' }
        : { tag: 'schemaDatamodel', files: [{ path: 'from.prisma', content: fromDatamodel }] };
    const result = await engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: toDatamodel }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    return result.stdout ?? '';
  });
}
