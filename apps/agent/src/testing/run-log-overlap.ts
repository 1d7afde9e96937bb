import path from 'node:path';
import { RUN_LOG_FILE, type RunLogEntry, readRunLog } from '../ha/run-log';

/**
 * For tests: reads several agents' run logs (apps/agent/src/ha/run-log.ts) and
 * finds every VM that was live on two hosts at overlapping times.
 *
 * A run is `started` … `stopped` on one host. A run with no `stopped` lasts
 * until `endedAt` of its log when given (the time the test killed that agent:
 * a dead host's VMs die with it), otherwise until now (still running).
 * Times are the agents' clocks; on one machine they are one clock.
 */
export interface RunLogSource {
  /** A run log file, or an agent's state directory (runs.jsonl inside it). */
  path: string;
  /** When this host died (its open runs end there). */
  endedAt?: Date;
}

export interface Run {
  vmId: string;
  host: string;
  epoch: number;
  from: Date;
  /** null: still running at the time of the check. */
  to: Date | null;
  startedBy: string;
  stoppedBy: string | null;
}

export interface RunOverlap {
  vmId: string;
  a: Run;
  b: Run;
  /** How long both ran, in ms. */
  overlapMs: number;
}

export function runsOf(source: RunLogSource): Run[] {
  const file = source.path.endsWith('.jsonl') ? source.path : path.join(source.path, RUN_LOG_FILE);
  return runsFromEntries(readRunLog(file), source.endedAt ?? null);
}

export function runsFromEntries(entries: RunLogEntry[], endedAt: Date | null): Run[] {
  const runs: Run[] = [];
  const open = new Map<string, Run>();
  for (const e of entries) {
    const key = `${e.host}\u0000${e.vmId}`;
    const at = new Date(e.at);
    if (e.event === 'started') {
      if (open.has(key)) continue; // already running: a repeated start changes nothing
      const run: Run = {
        vmId: e.vmId,
        host: e.host,
        epoch: e.epoch,
        from: at,
        to: null,
        startedBy: e.reason,
        stoppedBy: null,
      };
      open.set(key, run);
      runs.push(run);
    } else {
      const run = open.get(key);
      if (!run) continue;
      run.to = at;
      run.stoppedBy = e.reason;
      open.delete(key);
    }
  }
  if (endedAt) {
    for (const run of open.values()) {
      run.to = run.from.getTime() > endedAt.getTime() ? run.from : endedAt;
      run.stoppedBy = 'host died';
    }
  }
  return runs;
}

/** Every pair of runs of one VM on two different hosts that overlap in time. */
export function findRunOverlaps(sources: RunLogSource[], now: Date = new Date()): RunOverlap[] {
  const byVm = new Map<string, Run[]>();
  for (const source of sources) {
    for (const run of runsOf(source)) {
      const list = byVm.get(run.vmId) ?? [];
      list.push(run);
      byVm.set(run.vmId, list);
    }
  }
  const overlaps: RunOverlap[] = [];
  for (const [vmId, runs] of byVm) {
    for (let i = 0; i < runs.length; i++) {
      for (let j = i + 1; j < runs.length; j++) {
        const a = runs[i] as Run;
        const b = runs[j] as Run;
        if (a.host === b.host) continue;
        const start = Math.max(a.from.getTime(), b.from.getTime());
        const end = Math.min((a.to ?? now).getTime(), (b.to ?? now).getTime());
        if (start < end) overlaps.push({ vmId, a, b, overlapMs: end - start });
      }
    }
  }
  return overlaps;
}
