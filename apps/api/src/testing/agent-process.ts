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

export interface BmcProcess {
  url: string;
  username: string;
  password: string;
  process: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the simulated BMC of a host (apps/agent/src/bmc) beside its agent, on the agent's state
 * directory, as its own process: it outlives the agent, as a real BMC outlives the host's OS.
 * Resolves once it answers, with its URL and login.
 */
export async function spawnBmc(args: {
  hostname: string;
  stateDir: string;
  username?: string;
  password: string;
}): Promise<BmcProcess> {
  const username = args.username ?? 'admin';
  const argv = [
    '--import',
    'tsx',
    'apps/agent/src/bmc/main.ts',
    '--state-dir',
    args.stateDir,
    '--hostname',
    args.hostname,
    '--username',
    username,
  ];
  const child = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FABRIC_BMC_PASSWORD: args.password },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`the BMC of ${args.hostname} exited (${code}): ${output}`)));
  });
  return {
    url,
    username,
    password: args.password,
    process: child,
    output: () => output,
    async kill(signal = 'SIGTERM') {
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
