import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

describe('ConcurrencyGate', () => {
  it('lets `limit` in, queues the next in order, refuses past the queue', async () => {
    const gate = new ConcurrencyGate(2, 1);
    const a = await gate.tryEnter();
    const b = await gate.tryEnter();
    expect(gate.load).toEqual({ active: 2, reading: 0, waiting: 0 });
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
    expect(gate.load).toEqual({ active: 2, reading: 0, waiting: 0 });
    b?.();
    releaseC?.();
    releaseC?.(); // releasing twice frees one slot only
    expect(gate.load).toEqual({ active: 0, reading: 0, waiting: 0 });
  });

  it('a place taken to read a body holds no slot: others enter and write past a slow reader', async () => {
    const gate = new ConcurrencyGate(1, 2);
    const slow = gate.tryReserve();
    const slower = gate.tryReserve();
    expect(gate.load).toEqual({ active: 0, reading: 2, waiting: 0 });
    // The two slow readers still reading, a third request enters the only slot at once.
    const release = await gate.tryEnter();
    expect(release).not.toBeNull();
    expect(gate.load).toEqual({ active: 1, reading: 2, waiting: 0 });
    // Places are bounded (limit + maxWaiting): the line is full.
    expect(gate.tryReserve()).toBeNull();
    release?.();
    slow?.leave();
    slow?.leave(); // leaving twice frees one place only
    expect(gate.load).toEqual({ active: 0, reading: 1, waiting: 0 });
    const releaseSlower = await slower?.enter();
    expect(gate.load).toEqual({ active: 1, reading: 0, waiting: 0 });
    await expect(slower?.enter()).rejects.toThrow('already used');
    releaseSlower?.();
    expect(gate.load).toEqual({ active: 0, reading: 0, waiting: 0 });
  });
});
