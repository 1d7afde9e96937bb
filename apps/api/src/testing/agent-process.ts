import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

export interface AgentProcess {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real agent (apps/agent) as its own process, as an operator would. */
export function spawnAgent(args: {
  api: string;
  hostname: string;
  stateDir: string;
  token?: string;
  profile?: string;
  heartbeatMs?: number;
  extraArgs?: string[];
}): AgentProcess {
  const argv = [
    '--experimental-wasm-modules',
    '--no-warnings=ExperimentalWarning',
    '--import',
    'tsx',
    'apps/agent/src/main.ts',
    '--api',
    args.api,
    '--driver',
    'simulated',
    '--profile',
    args.profile ?? 'standard-2x16-512g',
    '--hostname',
    args.hostname,
    '--state-dir',
    args.stateDir,
    ...(args.token ? ['--token', args.token] : []),
    ...(args.heartbeatMs ? ['--heartbeat-ms', String(args.heartbeatMs)] : []),
    ...(args.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}
