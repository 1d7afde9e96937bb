import { type EventEmitter, on } from 'node:events';

/**
 * The first argument of each `event` from `emitter` until `signal` aborts, then
 * the end: a live stream's source (tasks, hosts, VMs over SSE). `on()` alone
 * rejects its pending wait with an AbortError when the client goes away; a
 * wrapper that no longer awaits that wait turns it into an unhandled rejection,
 * which ended the API process (CI, the e2e stack's API).
 */
export async function* eventsUntilAborted<T>(
  emitter: EventEmitter,
  event: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  if (signal?.aborted) return;
  try {
    for await (const [value] of on(emitter, event, { signal })) yield value as T;
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
}
