import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

describe('ConcurrencyGate', () => {
  it('lets `limit` in, queues the next in order, refuses past the queue', async () => {
    const gate = new ConcurrencyGate(2, 1);
    const a = await gate.tryEnter();
    const b = await gate.tryEnter();
    expect(gate.load).toEqual({ active: 2, waiting: 0 });
    let cEntered = false;
    const c = gate.tryEnter().then((release) => {
      cEntered = true;
      return release;
    });
    expect(gate.load.waiting).toBe(1);
    expect(await gate.tryEnter()).toBeNull();
    a?.();
    const releaseC = await c;
    expect(cEntered).toBe(true);
    expect(gate.load).toEqual({ active: 2, waiting: 0 });
    b?.();
    releaseC?.();
    releaseC?.(); // releasing twice frees one slot only
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });
});
