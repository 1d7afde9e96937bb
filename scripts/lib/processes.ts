import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { REPO_ROOT } from '../../packages/db/src/database';

/** Node flags every Fabric process runs with: TypeScript through tsx, the Prisma schema engine as WebAssembly. */
export const NODE_FLAGS = ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', '--import', 'tsx'];

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** Spawns a child whose output is prefixed with its name; it dies with us. */
export function spawnChild(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; quiet?: boolean; logFile?: string } = {},
): Child {
  // Each child leads its own process group, so stopping it also stops what
  // it spawned (`next start` runs the server as a grandchild).
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const prefix = `[${name}] `;
  // A quiet child still keeps its output: in its log file, for the run that fails.
  const file = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
  const forward = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!options.quiet) out.write(`${prefix}${line}\n`);
        file?.write(`${new Date().toISOString()} ${line}\n`);
      }
    });
  };
  forward(child.stdout, process.stdout);
  forward(child.stderr, process.stderr);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, process: child, exited };
}

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  const pid = child.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export async function stopChild(child: Child, timeoutMs = 5_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) {
    signalGroup(child, 'SIGTERM'); // grandchildren left behind, if any
    return;
  }
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

/** Last resort when this process dies: take every child's group with it. */
export function killAllOnExit(children: Child[]): void {
  process.on('exit', () => {
    for (const child of children) signalGroup(child, 'SIGKILL');
  });
}

export async function waitForHttp(url: string, timeoutMs: number, isUp: (status: number) => boolean = (s) => s < 500) {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (isUp(response.status)) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms (${lastError})`);
}
