import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The agent's run log: one JSON line per VM start and stop on this host, with the
 * VM's ownership epoch, in `runs.jsonl` under the state directory. Appended
 * synchronously before the agent reports anything about the change, so the log
 * never misses a run the control plane heard of. Tests read several agents' logs
 * (apps/agent/src/testing/run-log-overlap.ts) to prove that no VM ran on two
 * hosts at overlapping times.
 */
export interface RunLogEntry {
  vmId: string;
  epoch: number;
  /** The host's name (its agent's hostname). */
  host: string;
  event: 'started' | 'stopped';
  /** ISO 8601, the agent's clock. */
  at: string;
  /** Why, for people: a task kind, 'isolation', 'discard', 'agent-start'. */
  reason: string;
}

export const RUN_LOG_FILE = 'runs.jsonl';

export class RunLog {
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly host: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.path = path.join(stateDir, RUN_LOG_FILE);
  }

  record(vmId: string, epoch: number, event: RunLogEntry['event'], reason: string): RunLogEntry {
    const entry: RunLogEntry = { vmId, epoch, host: this.host, event, at: this.now().toISOString(), reason };
    mkdirSync(path.dirname(this.path), { recursive: true });
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`);
    return entry;
  }

  /** The VMs whose last entry is `started` (running here as far as the log knows). */
  openRuns(): Map<string, RunLogEntry> {
    const open = new Map<string, RunLogEntry>();
    for (const entry of readRunLog(this.path)) {
      if (entry.event === 'started') open.set(entry.vmId, entry);
      else open.delete(entry.vmId);
    }
    return open;
  }
}

/** Every entry of a run log file, in order; a torn last line (a crash mid-append) is skipped. */
export function readRunLog(file: string): RunLogEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const entries: RunLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as RunLogEntry;
      if (typeof e.vmId === 'string' && (e.event === 'started' || e.event === 'stopped')) entries.push(e);
    } catch {
      // torn line
    }
  }
  return entries;
}
