import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { AskAgent, TraceAnswer, TraceQuestion } from '@fabric/core/network/agent-trace';
import type { TraceAnswerMessage, TraceQuestionMessage } from '@fabric/core/network/network-protocol.schema';

/** Postgres NOTIFY channel that carries trace questions and answers between API processes. */
export const NETWORK_TRACE_CHANNEL = 'fabric_network_trace';

type Notice =
  | { t: 'ask'; hostId: string; deadlineAt: number; question: TraceQuestionMessage }
  | { t: 'answer'; hostId: string; answer: TraceAnswerMessage };

interface Pending {
  hostId: string;
  deadlineAt: number;
  question: TraceQuestionMessage;
  /** Handed to this host's agent by this process already (it answers once; another process may hand it too). */
  handedOut: boolean;
}

/**
 * Trace questions for agents, carried by the network-policy long poll
 * (docs/agent-protocol.md, "Traces"). Not durable tasks: a trace is a
 * read-only question that nobody waits for after a few seconds, while a task
 * is a row leased for 60 s, queued behind its VM's other tasks and handed
 * out again after a crash. The policy long poll is the channel the agent's
 * switch already listens on, so a question reaches it within milliseconds.
 *
 * The agent may be polling another API process: questions and answers are
 * also sent to every process through Postgres NOTIFY (`notify`, received
 * back through `receive`). A process hands a question out once; the agent
 * answers a trace id once.
 */
export class AgentTraceBroker {
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Map<string, (answer: TraceAnswer) => void>();
  /** Trace ids already answered or given up here: this process's own notice coming back adds nothing. */
  private readonly finished: string[] = [];

  constructor(
    private readonly deps: {
      /** Local bus: 'network-trace' (hostId) wakes that host's long poll. */
      events: EventEmitter;
      /** Sends a notice to every API process (NOTIFY); may fail, then only this process knows. */
      notify: (payload: string) => Promise<void>;
      /** How long a hop waits for the agent's answer. */
      timeoutMs: number;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** The AskAgent a trace uses: resolves with the agent's answer, or null at the deadline. */
  readonly ask: AskAgent = (hostId: string, question: TraceQuestion): Promise<TraceAnswer | null> => {
    const traceId = randomUUID();
    const message: TraceQuestionMessage =
      question.hop === 'egress'
        ? { traceId, hop: 'egress', packet: question.packet }
        : { traceId, hop: 'ingress', wire: question.wire };
    const deadlineAt = this.now() + this.deps.timeoutMs;
    this.add(traceId, { hostId, deadlineAt, question: message, handedOut: false });
    return new Promise<TraceAnswer | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(traceId);
        this.finish(traceId);
        resolve(null);
      }, this.deps.timeoutMs);
      this.waiters.set(traceId, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      const notice: Notice = { t: 'ask', hostId, deadlineAt, question: message };
      this.deps.notify(JSON.stringify(notice)).catch(() => undefined);
    });
  };

  private finish(traceId: string): void {
    this.pending.delete(traceId);
    this.finished.push(traceId);
    if (this.finished.length > 1024) this.finished.shift();
  }

  private add(traceId: string, pending: Pending): void {
    if (this.pending.has(traceId) || this.finished.includes(traceId)) return;
    this.pending.set(traceId, pending);
    this.deps.events.emit('network-trace', pending.hostId);
  }

  /** Whether this host's agent has questions waiting here (its long poll then answers at once). */
  hasFor(hostId: string): boolean {
    const now = this.now();
    for (const [id, p] of this.pending) {
      if (p.deadlineAt <= now) this.pending.delete(id);
      else if (p.hostId === hostId && !p.handedOut) return true;
    }
    return false;
  }

  /** The questions for this host not yet handed out by this process, marked handed out. */
  takeFor(hostId: string): TraceQuestionMessage[] {
    const now = this.now();
    const out: TraceQuestionMessage[] = [];
    for (const p of this.pending.values())
      if (p.hostId === hostId && !p.handedOut && p.deadlineAt > now && out.length < 32) {
        p.handedOut = true;
        out.push(p.question);
      }
    return out;
  }

  /**
   * An agent's answer. Taken only from the host the question was for; an
   * answer after the deadline (or for an unknown id) is not taken.
   */
  answer(hostId: string, answer: TraceAnswerMessage): boolean {
    const pending = this.pending.get(answer.traceId);
    if (!pending || pending.hostId !== hostId) return false;
    this.finish(answer.traceId);
    if (!this.deliver(answer)) {
      const notice: Notice = { t: 'answer', hostId, answer };
      this.deps.notify(JSON.stringify(notice)).catch(() => undefined);
    }
    return true;
  }

  private deliver(answer: TraceAnswerMessage): boolean {
    const waiter = this.waiters.get(answer.traceId);
    if (!waiter) return false;
    this.waiters.delete(answer.traceId);
    waiter({ version: answer.version, digest: answer.digest, result: answer.result });
    return true;
  }

  /** A notice from any API process (this one's own come back too, and change nothing). */
  receive(payload: string): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (notice.t === 'ask') {
      if (notice.deadlineAt > this.now())
        this.add(notice.question.traceId, {
          hostId: notice.hostId,
          deadlineAt: notice.deadlineAt,
          question: notice.question,
          handedOut: false,
        });
    } else if (notice.t === 'answer') {
      this.finish(notice.answer.traceId);
      this.deliver(notice.answer);
    }
  }
}
