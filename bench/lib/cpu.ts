// CPU time of the processes a benchmark drives, from /proc (Linux): to tell
// which one (the API, Postgres, the load generator) a workload is bound by.
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] {
  // The command name (field 2) may hold spaces; the fields after its ')' are space-separated.
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
}

/** CPU seconds (user + system) that process `pid` has used so far; with `reaped`, its waited-for children's too. */
export function cpuSeconds(pid: number, reaped = false): number {
  const f = statFields(pid);
  const own = Number(f[11]) + Number(f[12]);
  return (reaped ? own + Number(f[13]) + Number(f[14]) : own) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of the whole Postgres server (postmaster, its live backends and workers, and those that
 * exited), found from a connection of `pool`.
 */
export async function postgresCpuSeconds(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const postmaster = Number(statFields(rows[0]?.pid ?? 0)[1]);
  let total = cpuSeconds(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) === postmaster) total += cpuSeconds(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return total;
}
