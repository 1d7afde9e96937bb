import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../workflows/workflow';
import { InMemoryWorkflowEngine } from './in-memory-workflow-engine';

// The unit tests of long operations trust this engine to behave like DBOS
// where a use case can tell: these pin the semantics they rely on.

/** Three steps; counts how often each step's function and the workflow body ran. */
function counting(name = 'test.counting') {
  const calls: Record<string, number> = { body: 0, a: 0, b: 0, c: 0 };
  const results: string[] = [];
  const definition: WorkflowDefinition<{ base: number }> = {
    name,
    async run(ctx, input) {
      calls.body = (calls.body ?? 0) + 1;
      const a = await ctx.step('a', async () => {
        calls.a = (calls.a ?? 0) + 1;
        return { n: input.base + 1, at: new Date('2026-11-01T00:00:00Z') };
      });
      const b = await ctx.step('b', async () => {
        calls.b = (calls.b ?? 0) + 1;
        return a.n * 10;
      });
      await ctx.step('c', async () => {
        calls.c = (calls.c ?? 0) + 1;
        results.push(`${ctx.workflowId}:${b}:${typeof a.at}`);
      });
    },
  };
  return { definition, calls, results };
}

describe('the in-memory workflow engine', () => {
  it('runs a started workflow in the background to success, each step once', async () => {
    const engine = new InMemoryWorkflowEngine();
    const { definition, calls, results } = counting();
    engine.register(definition);

    await engine.start(definition, { base: 1 }, { workflowId: 'w1' });

    expect(await engine.wait('w1', 1_000)).toBe('succeeded');
    expect(calls).toEqual({ body: 1, a: 1, b: 1, c: 1 });
    // The first run gets the step's own value (a Date stays a Date).
    expect(results).toEqual(['w1:20:object']);
    expect(engine.recordedSteps('w1')).toEqual(['a', 'b', 'c']);
  });

  it('runs nothing for a second start of the same id', async () => {
    const engine = new InMemoryWorkflowEngine();
    const { definition, calls } = counting();
    engine.register(definition);

    await engine.start(definition, { base: 1 }, { workflowId: 'w1' });
    await engine.start(definition, { base: 5 }, { workflowId: 'w1' });

    expect(await engine.wait('w1', 1_000)).toBe('succeeded');
    expect(calls.body).toBe(1);
    expect(engine.attempts('w1')).toBe(1);
  });

  it('refuses an unregistered workflow, a name registered twice and an id taken by another workflow', async () => {
    const engine = new InMemoryWorkflowEngine();
    const first = counting('test.first');
    const second = counting('test.second');
    await expect(engine.start(first.definition, { base: 1 }, { workflowId: 'w1' })).rejects.toThrow('not registered');
    engine.register(first.definition);
    expect(() => engine.register(first.definition)).toThrow('registered twice');
    engine.register(second.definition);
    await engine.start(first.definition, { base: 1 }, { workflowId: 'w1' });
    await expect(engine.start(second.definition, { base: 1 }, { workflowId: 'w1' })).rejects.toThrow(
      'already used by test.first',
    );
  });

  it('after a crash before a step, leaves the workflow pending; a resume replays the recorded steps', async () => {
    const engine = new InMemoryWorkflowEngine();
    const { definition, calls, results } = counting();
    engine.register(definition);
    engine.crashBefore('c', 'w1');

    await engine.start(definition, { base: 1 }, { workflowId: 'w1' });

    expect(await engine.wait('w1', 20)).toBe('running');
    expect(engine.status('w1')).toBe('pending');
    expect(engine.recordedSteps('w1')).toEqual(['a', 'b']);
    expect(calls).toEqual({ body: 1, a: 1, b: 1, c: 0 });

    await engine.resume('w1');

    expect(engine.status('w1')).toBe('succeeded');
    expect(await engine.wait('w1', 0)).toBe('succeeded');
    // The function ran again from the top; a and b came from the record, as JSON (the Date is now a string).
    expect(calls).toEqual({ body: 2, a: 1, b: 1, c: 1 });
    expect(results).toEqual(['w1:20:string']);
    expect(engine.attempts('w1')).toBe(2);
  });

  it('after a crash after a step ran but before it was recorded, runs that step again on resume', async () => {
    const engine = new InMemoryWorkflowEngine();
    const { definition, calls } = counting();
    engine.register(definition);
    engine.crashAfter('b');

    await engine.start(definition, { base: 1 }, { workflowId: 'w1' });
    expect(await engine.wait('w1', 20)).toBe('running');
    expect(engine.recordedSteps('w1')).toEqual(['a']);
    expect(calls.b).toBe(1);

    expect(await engine.recoverPending()).toEqual(['w1']);

    expect(engine.status('w1')).toBe('succeeded');
    expect(calls).toEqual({ body: 2, a: 1, b: 2, c: 1 });
  });

  it('stops a crashed attempt for good: the workflow catching the crash runs none of its own code', async () => {
    const engine = new InMemoryWorkflowEngine();
    const after: string[] = [];
    const definition: WorkflowDefinition<null> = {
      name: 'test.catching',
      async run(ctx) {
        try {
          await ctx.step('a', async () => 1);
        } catch {
          after.push('catch');
        } finally {
          after.push('finally');
        }
      },
    };
    engine.register(definition);
    engine.crashBefore('a');

    await engine.start(definition, null, { workflowId: 'w1' });
    await engine.wait('w1', 20);

    expect(after).toEqual([]);
    expect(engine.status('w1')).toBe('pending');
    await engine.resume('w1');
    expect(after).toEqual(['finally']);
  });

  it('ends failed when the workflow throws; a failed step is recorded with its error and not resumed', async () => {
    const engine = new InMemoryWorkflowEngine();
    let runs = 0;
    const definition: WorkflowDefinition<null> = {
      name: 'test.failing',
      async run(ctx) {
        await ctx.step('boom', async () => {
          runs++;
          throw new Error('boom');
        });
      },
    };
    engine.register(definition);

    await engine.start(definition, null, { workflowId: 'w1' });

    expect(await engine.wait('w1', 1_000)).toBe('failed');
    expect(engine.errorOf('w1')).toMatchObject({ message: 'boom' });
    expect(engine.recordedSteps('w1')).toEqual(['boom']);
    await expect(engine.resume('w1')).rejects.toThrow('has ended (failed)');
    expect(await engine.recoverPending()).toEqual([]);
    expect(runs).toBe(1);
  });

  it('refuses to resume a workflow that is still running, and holds one at a step until released', async () => {
    const engine = new InMemoryWorkflowEngine();
    const { definition, calls } = counting();
    engine.register(definition);
    const gate = engine.holdBefore('b');

    await engine.start(definition, { base: 1 }, { workflowId: 'w1' });

    expect(await gate.reached).toBe('w1');
    expect(await engine.wait('w1', 10)).toBe('running');
    await expect(engine.resume('w1')).rejects.toThrow('still running');
    expect(await engine.recoverPending()).toEqual([]);
    expect(calls.b).toBe(0);

    gate.release();

    expect(await engine.wait('w1', 1_000)).toBe('succeeded');
    expect(calls).toEqual({ body: 1, a: 1, b: 1, c: 1 });
  });

  it('refuses a resumed workflow whose steps come in another order (not deterministic)', async () => {
    const engine = new InMemoryWorkflowEngine();
    let attempt = 0;
    const definition: WorkflowDefinition<null> = {
      name: 'test.nondeterministic',
      async run(ctx) {
        attempt++;
        await ctx.step(attempt === 1 ? 'a' : 'other', async () => 1);
        await ctx.step('b', async () => 2);
      },
    };
    engine.register(definition);
    engine.crashBefore('b');
    await engine.start(definition, null, { workflowId: 'w1' });
    await engine.wait('w1', 20);

    await engine.resume('w1');

    expect(engine.status('w1')).toBe('failed');
    expect(engine.errorOf('w1')).toMatchObject({ message: expect.stringContaining('not deterministic') });
  });

  it('answers running for an id it never saw, after the timeout', async () => {
    const engine = new InMemoryWorkflowEngine();
    expect(await engine.wait('nobody', 5)).toBe('running');
  });
});
