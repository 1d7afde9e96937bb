import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsUntilAborted } from './events-until-aborted';

// tRPC's SSE ping (withPing) asks a stream for its next item before it sends
// the current one, so a wait can be pending that nobody awaits once the client
// has gone. If that wait rejects when the request's signal aborts, the
// rejection is unhandled and Node ends the API (CI: the e2e stack's API died
// of an AbortError). A live stream's source therefore ends; it never rejects.

describe('live stream sources end, never reject, when their client goes away', () => {
  it('a wait pending when the signal aborts resolves as the end', async () => {
    const bus = new EventEmitter();
    const abort = new AbortController();
    const source = eventsUntilAborted<{ n: number }>(bus, 'e', abort.signal);
    const first = source.next();
    bus.emit('e', { n: 1 });
    expect(await first).toEqual({ value: { n: 1 }, done: false });
    const pending = source.next();
    abort.abort();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(bus.listenerCount('e')).toBe(0);
  });

  it('a source opened after its signal aborted is already over', async () => {
    const abort = new AbortController();
    abort.abort();
    const source = eventsUntilAborted(new EventEmitter(), 'e', abort.signal);
    await expect(source.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it("an emitter's own error still reaches the stream", async () => {
    const bus = new EventEmitter();
    const source = eventsUntilAborted(bus, 'e', new AbortController().signal);
    const pending = source.next();
    bus.emit('error', new Error('bus broke'));
    await expect(pending).rejects.toThrow('bus broke');
  });

  it('a wait asked ahead and never awaited (as the SSE ping does) leaves no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const bus = new EventEmitter();
      const abort = new AbortController();
      // What a route's stream looks like: a generator over the source.
      const stream = (async function* () {
        for await (const event of eventsUntilAborted<number>(bus, 'e', abort.signal)) yield event;
      })();
      const first = stream.next();
      bus.emit('e', 1);
      await first;
      void stream.next(); // asked ahead; its answer is never read
      abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it("no route's stream uses node:events' on() directly", () => {
    const routers = path.join(import.meta.dirname, '../routers');
    const offenders = readdirSync(routers, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) =>
        /import\s*\{[^}]*\bon\b[^}]*\}\s*from\s*'node:events'/.test(readFileSync(path.join(routers, file), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });
});
