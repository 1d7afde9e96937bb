import { t } from './init';

/**
 * A live stream (a tRPC subscription over SSE: tasks.onChange, hosts and VMs'
 * events) lives as long as the session that opened it, not as long as the
 * browser keeps the connection: after sign-out, a revoked session or a
 * removed membership it stops sending and ends. The session is read again
 * every `everyMs` while the stream waits, and before an event is sent when
 * the last reading is older than a second; a check that fails for a reason
 * other than the session (the database busy) keeps the stream, and the next
 * check decides.
 */
export interface StreamSession {
  /** True while the session that opened the stream still signs in the same user with the same membership. */
  stillValid(): Promise<boolean>;
  everyMs: number;
}

const EVENT_CHECK_AGE_MS = 1_000;

export const endStreamsWithSession = t.middleware(async ({ ctx, type, next }) => {
  const result = await next();
  const session = ctx.streamSession;
  if (type !== 'subscription' || !result.ok || !ctx.caller || !session) return result;
  const data: unknown = result.data;
  if (!isAsyncIterable(data)) return result;
  return { ...result, data: untilSessionEnds(data, session) };
});

/** `source`'s items while `session` stays valid; ends (closing `source`) once it is not. */
export async function* untilSessionEnds<T>(source: AsyncIterable<T>, session: StreamSession): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let endNow: () => void = () => undefined;
  const ended = new Promise<'ended'>((resolve) => {
    endNow = () => resolve('ended');
  });
  let checkedAt = Date.now();
  const check = async (): Promise<boolean> => {
    const valid = await session.stillValid().catch(() => true);
    checkedAt = Date.now();
    if (!valid) endNow();
    return valid;
  };
  const timer = setInterval(() => void check(), session.everyMs);
  timer.unref?.();
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), ended]);
      if (next === 'ended' || next.done) return;
      if (Date.now() - checkedAt > EVENT_CHECK_AGE_MS && !(await check())) return;
      yield next.value;
    }
  } finally {
    clearInterval(timer);
    // A source waiting for its next event is closed once that wait ends (the request's signal aborts it).
    iterator.return?.().catch(() => undefined);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
