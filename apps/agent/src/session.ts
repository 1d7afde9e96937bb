import { AgentApiError } from './api-client';
import { AgentExit, EXIT_CODES } from './exit';
import type { Logger } from './log';
import type { SeqCounter } from './seq';
import type { StoredCredential } from './state-store';

/**
 * One registered host talking to the API: its credential and its seq, shared
 * by the heartbeat loop and the task loop.
 *
 * The API refuses a seq at or below the last it accepted, so two messages
 * must reach it in the order their seqs were given out. Every authenticated
 * call therefore goes through one queue: take the next seq, send, wait for
 * the answer, then the next message. The long poll for tasks is the one
 * exception (it may be held 20 s, and heartbeats cannot wait that long): it
 * keeps the queue only for `releaseAfterMs`, long enough for the API to have
 * checked its seq on arrival, and a rare REPLAYED from a slower network path
 * is handled by the bump-and-retry below.
 */
export interface AuthedOptions {
  /** Let the next message go after this many ms instead of after the answer (long polls). */
  releaseAfterMs?: number;
}

export class AgentSession {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly credential: StoredCredential,
    private readonly seq: SeqCounter,
    private readonly log: Logger,
    /** For messages that tell the operator which files to look at. */
    private readonly paths: { credentialPath: string; stateDir: string },
  ) {}

  get hostId(): string {
    return this.credential.hostId;
  }

  get lastSeq(): number {
    return this.seq.lastSeq;
  }

  /**
   * Runs an authenticated call with a fresh seq. A REPLAYED answer means the
   * API saw a seq at least as high (clock stepped back, two agents on one
   * credential, or our own long poll overtaken): jump ahead and retry once.
   * 401 and 403 end the agent (AgentExit).
   */
  async authed<T>(call: (seq: number) => Promise<T>, options: AuthedOptions = {}): Promise<T> {
    try {
      try {
        return await this.inTurn(call, options);
      } catch (error) {
        if (!(error instanceof AgentApiError && error.status === 409 && error.code === 'REPLAYED')) throw error;
        this.log.warn(`API refused seq ${this.seq.lastSeq} as a replay; jumping ahead and retrying once`);
        this.seq.bumpAfterReplay();
        return await this.inTurn(call, options);
      }
    } catch (error) {
      if (error instanceof AgentApiError && error.kind === 'http') {
        if (error.status === 401) {
          throw new AgentExit({
            code: EXIT_CODES.revoked,
            reason:
              `the API refused this host's credential (${error.code}: ${error.message}); the host was probably removed ` +
              `by an admin. To add it again, remove ${this.paths.credentialPath} and start with a new --token`,
          });
        }
        if (error.status === 403) {
          throw new AgentExit({
            code: EXIT_CODES.wrongHost,
            reason:
              `the API says this credential belongs to another host (${error.code}: ${error.message}); ` +
              `check that ${this.paths.stateDir} was not copied from another host`,
          });
        }
      }
      throw error;
    }
  }

  /** Waits for the previous message, takes a seq (persisted before sending), sends. */
  private async inTurn<T>(call: (seq: number) => Promise<T>, options: AuthedOptions): Promise<T> {
    const previous = this.queue;
    let release: () => void = () => undefined;
    this.queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = call(await this.seq.next());
      if (options.releaseAfterMs !== undefined) timer = setTimeout(release, options.releaseAfterMs);
      return await pending;
    } finally {
      clearTimeout(timer);
      release();
    }
  }
}
