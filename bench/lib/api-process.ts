// The real API in a process of its own, for benchmarks that measure the API
// process itself (its peak memory): in the benchmark's process the load
// generator's memory would be counted too. Started by `startApiProcess`; the
// child's code is api-process-child.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../packages/db/src/database';
import { bundleForNode } from '../../scripts/build-server';

export interface ApiProcess {
  url: string;
  pid: number;
  /** Peak resident set size of the API process so far (VmHWM), in bytes. */
  peakRssBytes(): number;
  /** Resident set size now (VmRSS), in bytes. */
  rssBytes(): number;
  close(): Promise<void>;
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.match(/(\d+)\s*kB/)?.[1] ?? Number.NaN) * 1024;
}

/**
 * Starts apps/api (background workers off, like the in-process bench stack) on a free port of `databaseUrl`,
 * compiled as `npm start` runs it (FABRIC_BENCH_API_TSX=1: from the sources under tsx, as the tests do).
 */
export async function startApiProcess(databaseUrl: string): Promise<ApiProcess> {
  const tsx = process.env.FABRIC_BENCH_API_TSX === '1';
  const source = path.join(import.meta.dirname, 'api-process-child.ts');
  if (!tsx)
    await bundleForNode({ 'bench/api-process-child': path.relative(REPO_ROOT, source) }, path.join(REPO_ROOT, 'dist'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(process.env.FABRIC_API_MAX_OLD_SPACE_MB
        ? [`--max-old-space-size=${process.env.FABRIC_API_MAX_OLD_SPACE_MB}`]
        : []),
      // A V8 CPU profile of the API process, written to this directory when it stops (open in Chrome's DevTools).
      ...(process.env.FABRIC_API_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FABRIC_API_CPU_PROF_DIR}`]
        : []),
      ...(tsx
        ? ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', '--import', 'tsx', source]
        : [path.join(REPO_ROOT, 'dist/bench/api-process-child.js')]),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        FABRIC_API_PORT: '0',
        BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
        FABRIC_LOG_LEVEL: 'error',
        FABRIC_DB_POOL_SIZE: '20',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve(String((message as { url: string }).url)));
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code} before listening`)));
  });
  const pid = child.pid ?? -1;
  // A benchmark that fails half-way must not leave the API running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url,
    pid,
    peakRssBytes: () => statusKiB(pid, 'VmHWM'),
    rssBytes: () => statusKiB(pid, 'VmRSS'),
    close: () =>
      new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
