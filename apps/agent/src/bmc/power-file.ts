import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * What the simulated BMC and the agent of one host share, in the agent's state directory, as a real
 * BMC and its host share the power rail:
 * - `bmc-power.json`, written by the BMC only: the host's power state and how many times it lost
 *   power (a ForceOff);
 * - `agent.pid`, written by the agent only: the process a ForceOff ends (the host's OS);
 * - `power-seen.json`, written by the agent only: the power losses it has already taken into account.
 * An agent does not start while the BMC says Off, and after a power loss its VMs are off, not resumed.
 */
export const POWER_FILE = 'bmc-power.json';
export const PID_FILE = 'agent.pid';
const SEEN_FILE = 'power-seen.json';

const powerSchema = z.object({
  state: z.enum(['On', 'Off']),
  changedAt: z.string(),
  powerLosses: z.number().int().min(0),
});
export type PowerRecord = z.infer<typeof powerSchema>;

export const POWERED_ON: PowerRecord = { state: 'On', changedAt: new Date(0).toISOString(), powerLosses: 0 };

/** The BMC's record; On with no losses when there is none (a host without a BMC, or never switched). */
export function readPower(stateDir: string): PowerRecord {
  try {
    return powerSchema.parse(JSON.parse(readFileSync(path.join(stateDir, POWER_FILE), 'utf8')));
  } catch {
    return POWERED_ON;
  }
}

export function writePower(stateDir: string, record: PowerRecord): void {
  const file = path.join(stateDir, POWER_FILE);
  // Whole or not at all: a reader never sees half a record (rename is atomic on one file system).
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function writeAgentPid(stateDir: string, pid: number): void {
  writeFileSync(path.join(stateDir, PID_FILE), `${pid}\n`);
}

export function readAgentPid(stateDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(stateDir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** Power losses the agent has not taken into account yet (0 normally). */
export function unseenPowerLosses(stateDir: string): number {
  let seen = 0;
  try {
    seen = Number(JSON.parse(readFileSync(path.join(stateDir, SEEN_FILE), 'utf8')).powerLosses) || 0;
  } catch {
    seen = 0;
  }
  return Math.max(0, readPower(stateDir).powerLosses - seen);
}

export function markPowerLossesSeen(stateDir: string): void {
  writeFileSync(
    path.join(stateDir, SEEN_FILE),
    `${JSON.stringify({ powerLosses: readPower(stateDir).powerLosses })}\n`,
  );
}
