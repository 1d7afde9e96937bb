/** Process exit codes; main.ts exits with the one the agent's loops end with. */
export const EXIT_CODES = {
  stopped: 0,
  /** Registration refused, state unusable, profile broken at start. */
  fatal: 1,
  usage: 2,
  /** The API no longer knows this credential: the host was removed by an admin. */
  revoked: 3,
  /** The credential is valid but for another host: a copied state directory or an API bug. */
  wrongHost: 4,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export interface AgentExitInfo {
  code: ExitCode;
  reason: string;
}

/** Unwinds the agent's loops with an exit code from anywhere below them. */
export class AgentExit extends Error {
  constructor(readonly exit: AgentExitInfo) {
    super(exit.reason);
    this.name = 'AgentExit';
  }
}
