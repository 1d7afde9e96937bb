import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { eventually } from './agent-process';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

export interface ApiProcess {
  url: string;
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A free TCP port on loopback (the OS picks it, then it is released for the child). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The real API (apps/api/src/main.ts) as its own process, as an operator runs
 * it: what a test needs to kill it mid-work, or to run two of them (the
 * workflow engine is one per process). Resolves once /healthz answers.
 */
export async function spawnApi(args: {
  databaseUrl: string;
  authSecret: string;
  executorId: string;
  env?: Record<string, string>;
}): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', '--import', 'tsx', 'apps/api/src/main.ts'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: args.databaseUrl,
        FABRIC_API_PORT: String(port),
        FABRIC_PUBLIC_URL: 'http://localhost:3000',
        BETTER_AUTH_SECRET: args.authSecret,
        FABRIC_EXECUTOR_ID: args.executorId,
        FABRIC_LOG_LEVEL: 'info',
        FABRIC_DB_POOL_SIZE: '5',
        ...args.env,
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const started: ApiProcess = {
    url,
    process: child,
    output: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}): ${output}`);
        return (await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false;
      },
      60_000,
      `the API process on ${url} to answer`,
    );
  } catch (error) {
    await started.kill();
    throw error;
  }
  return started;
}

export const testAuthSecret = () => randomBytes(32).toString('base64url');
