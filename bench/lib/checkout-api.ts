// The real API of a given checkout (this one, or an older commit in a git
// worktree) in a process of its own, for benchmarks that compare versions
// or need a fresh process per run (DBOS is one runtime per process). The
// child imports nothing of this checkout: only `root`'s API, so an older
// commit runs with its own code, Prisma client and dependencies.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export interface CheckoutApi {
  url: string;
  close(): Promise<void>;
}

/** Starts `root`'s apps/api (background workers off) on a free port of `databaseUrl`; `env` adds settings. */
export function startCheckoutApi(
  root: string,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<CheckoutApi> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', '--import', 'tsx', import.meta.filename],
    {
      cwd: root,
      env: {
        ...process.env,
        FABRIC_BENCH_CHECKOUT_API_ROOT: root,
        DATABASE_URL: databaseUrl,
        FABRIC_API_PORT: '0',
        BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
        FABRIC_LOG_LEVEL: 'error',
        FABRIC_DB_POOL_SIZE: '20',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  // A benchmark that fails half-way must not leave the API running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code} before listening`)));
    child.once('message', (message) =>
      resolve({
        url: String((message as { url: string }).url),
        close: () =>
          new Promise<void>((done) => {
            process.off('exit', killOnExit);
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      }),
    );
  });
}

const root = process.env.FABRIC_BENCH_CHECKOUT_API_ROOT;
if (root && process.send) {
  const { parseEnv } = await import(path.join(root, 'apps/api/src/env.ts'));
  const { startApi } = await import(path.join(root, 'apps/api/src/server.ts'));
  const api = await startApi(parseEnv(process.env), { monitor: false });
  process.send({ url: api.url });
  process.once('SIGTERM', () => {
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
