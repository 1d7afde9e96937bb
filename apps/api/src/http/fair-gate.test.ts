import { describe, expect, it } from 'vitest';
import { FairGate } from './fair-gate';

const ticks = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('FairGate', () => {
  it('keeps one key below every slot and serves waiting keys in turn, not in arrival order', async () => {
    const gate = new FairGate({ limit: 3, perKeyLimit: 2, maxWaitingPerKey: 10 });
    const heavy = [await gate.tryEnter('heavy'), await gate.tryEnter('heavy')];
    const order: string[] = [];
    // The heavy tenant queues a backlog before the light one asks.
    const backlog = [1, 2, 3].map((n) =>
      gate.tryEnter('heavy').then((release) => {
        order.push(`heavy${n}`);
        return release;
      }),
    );
    // A free slot remains for another tenant at once, whatever the heavy one has queued.
    const light = await gate.tryEnter('light');
    expect(light).not.toBeNull();
    expect(gate.load).toEqual({ active: 3, waiting: 3 });
    const lightNext = gate.tryEnter('light').then((release) => {
      order.push('light2');
      return release;
    });
    // The light tenant's slot frees: it goes to the light tenant's call, not to the heavy backlog that came first.
    light?.();
    await ticks();
    expect(order).toEqual(['light2']);
    heavy[0]?.();
    await ticks();
    expect(order).toEqual(['light2', 'heavy1']);
    (await lightNext)?.();
    heavy[1]?.();
    await ticks();
    expect(order).toEqual(['light2', 'heavy1', 'heavy2']);
    const released = await Promise.all(backlog.slice(0, 2));
    for (const release of released) release?.();
    (await backlog[2])?.();
    expect(order).toEqual(['light2', 'heavy1', 'heavy2', 'heavy3']);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('refuses past a key’s waiting room, and releasing twice frees one slot', async () => {
    const gate = new FairGate({ limit: 1, perKeyLimit: 1, maxWaitingPerKey: 1 });
    const first = await gate.tryEnter('a');
    const waiting = gate.tryEnter('a');
    expect(await gate.tryEnter('a')).toBeNull();
    first?.();
    first?.();
    const second = await waiting;
    expect(gate.load).toEqual({ active: 1, waiting: 0 });
    second?.();
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });
});
