// The API and the host agent compiled to JavaScript for `npm start`: each
// entry point is one ES module bundle under dist/, with our workspace
// packages (@fabric/*, TypeScript sources, the generated Prisma client)
// bundled in and every npm package left to node_modules. Run under plain
// `node`, a process starts without tsx's compiler and its caches: the API's
// resident memory is what the product needs, not the toolchain's.
// `npm start` builds when a source is newer than the last build; by hand:
// `node --import tsx scripts/build-server.ts`.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { REPO_ROOT } from '../packages/db/src/database';
import { newestMtime } from './lib/stack';

export const SERVER_DIST = path.join(REPO_ROOT, 'dist');
/** The compiled entry points, relative to the repository (spawned from it). */
export const SERVER_ENTRIES = {
  api: 'dist/api/main.js',
  agent: 'dist/agent/main.js',
  /** A host's simulated BMC (apps/agent/src/bmc), beside each demo agent. */
  bmc: 'dist/agent/bmc.js',
} as const;
const STAMP = path.join(SERVER_DIST, '.built');

/** Everything the bundles are made of: a change to any of them makes the build stale. */
function newestSource(): number {
  return Math.max(
    newestMtime(path.join(REPO_ROOT, 'apps/api/src')),
    newestMtime(path.join(REPO_ROOT, 'apps/agent/src')),
    newestMtime(path.join(REPO_ROOT, 'packages/core/src')),
    newestMtime(path.join(REPO_ROOT, 'packages/db/src')),
    // The generated client is skipped by newestMtime; the schema it comes from is not.
    statSync(path.join(REPO_ROOT, 'prisma/schema.prisma')).mtimeMs,
    statSync(path.join(REPO_ROOT, 'package-lock.json')).mtimeMs,
    statSync(import.meta.filename).mtimeMs,
  );
}

/**
 * npm packages stay external (node resolves them from node_modules at run time, CommonJS ones such as
 * DBOS included); our own workspace packages export TypeScript sources, which plain node cannot load,
 * so they are bundled.
 */
const npmPackagesExternal: Plugin = {
  name: 'npm-packages-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@fabric/') ? undefined : { external: true }));
  },
};

/**
 * `import.meta.url` / `dirname` / `filename` keep meaning the source file they are written in (paths
 * such as the agent's profiles directory are relative to it), not the bundle they end up in.
 */
const sourceImportMeta: Plugin = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.')) return undefined;
      const contents = source
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

/** Bundles `entryPoints` (name → source, relative to the repository) into `outdir` as above. */
export async function bundleForNode(entryPoints: Record<string, string>, outdir: string): Promise<void> {
  await build({
    entryPoints,
    absWorkingDir: REPO_ROOT,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [npmPackagesExternal, sourceImportMeta],
    // Bundled CommonJS-style `require` calls (if any) get a real one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
}

export async function buildServer(): Promise<void> {
  await bundleForNode(
    {
      'api/main': 'apps/api/src/main.ts',
      'agent/main': 'apps/agent/src/main.ts',
      'agent/bmc': 'apps/agent/src/bmc/main.ts',
    },
    SERVER_DIST,
  );
  writeFileSync(STAMP, new Date().toISOString());
}

/** Builds the API and agent bundles unless the last build is newer than every source they are made of. */
export async function buildServerIfStale(log: (line: string) => void): Promise<void> {
  if (existsSync(STAMP) && Object.values(SERVER_ENTRIES).every((e) => existsSync(path.join(REPO_ROOT, e)))) {
    if (statSync(STAMP).mtimeMs > newestSource()) return;
  }
  log('compiling the API and the agent (first start or sources changed; a few seconds)…');
  await buildServer();
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const t0 = performance.now();
  await buildServer();
  console.log(`built ${Object.values(SERVER_ENTRIES).join(', ')} in ${(performance.now() - t0).toFixed(0)} ms`);
}
