import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inMemoryCompute } from '../testing/in-memory-compute';
import type { WorkflowContext } from '../workflows/workflow';
import { awaitAgentTask, queueAgentTask, runAgentTask } from './agent-task-await';
import { AgentTaskQueue } from './agent-task-queue';

const host = { id: 'hv-01', name: 'hv-01' };

function world() {
  const w = inMemoryCompute();
  const queue = new AgentTaskQueue({ ...w.taskQueueDeps, taskLeaseMs: 60_000 });
  const vm = w.vms.seed({ tenantId: 'blue', name: 'web-01', state: 'running', hostId: 'hv-01' });
  // Each poll moves the fake clock by the poll interval, as real sleeping would.
  const deps = { uow: w.uow, clock: w.clock, sleep: async (ms: number) => w.clock.advance(ms) };
  return { w, queue, vm, deps };
}

function task(vmId: string, id: string = randomUUID()) {
  return {
    id,
    kind: 'replica.cycle' as const,
    vmId,
    hostId: 'hv-01',
    tenantId: 'blue',
    requestedBy: 'replica workflow',
    params: { pointId: 'p-1', mode: 'delta' },
  };
}

describe('a workflow queues an agent task with params and awaits its result', () => {
  it('hands out the params, stores the result, leaves the VM state alone, and the waiter reads it', async () => {
    const { w, queue, vm, deps } = world();
    const taskId = await queueAgentTask(deps, task(vm.id));
    expect(w.taskQueue.notified).toEqual(['hv-01']);

    const [handed] = await queue.claimTasks('hv-01', { max: 8 });
    expect(handed).toMatchObject({ taskId, kind: 'replica.cycle', params: { pointId: 'p-1', mode: 'delta' } });
    await queue.reportTask(host, taskId, {
      seq: 1,
      status: 'succeeded',
      vmState: 'running',
      message: 'cycle done',
      result: { bytesSent: 4096 },
    });

    const outcome = await awaitAgentTask(deps, taskId, { timeoutMs: 1000 });
    expect(outcome).toEqual({ taskId, state: 'succeeded', result: { bytesSent: 4096 }, message: 'cycle done' });
    // A replica task is the workflow's business: the VM keeps its state, no VM audit line.
    expect(w.vms.vms.get(vm.id)?.state).toBe('running');
    expect(w.audit.events).toEqual([]);
  });

  it('gives the failure code, and times out (saying how far it got) when no terminal report comes', async () => {
    const { queue, vm, deps } = world();
    const failed = await queueAgentTask(deps, task(vm.id));
    const silent = await queueAgentTask(deps, task(vm.id));
    await queue.claimTasks('hv-01', { max: 8 });
    await queue.reportTask(host, failed, {
      seq: 1,
      status: 'failed',
      code: 'CHANGE_TRACKING_LOST',
      message: 'no change log',
      vmState: 'running',
    });
    await queue.reportTask(host, silent, { seq: 2, status: 'running', progress: 40, message: 'sending' });

    expect(await awaitAgentTask(deps, failed, { timeoutMs: 1000 })).toMatchObject({
      state: 'failed',
      errorCode: 'CHANGE_TRACKING_LOST',
    });
    expect(await awaitAgentTask(deps, silent, { timeoutMs: 1000, pollMs: 100 })).toMatchObject({
      state: 'timed-out',
      lastState: 'running',
      progress: 40,
    });
  });

  it('queues once per task id, so a step that runs again finds its task', async () => {
    const { w, vm, deps } = world();
    const id = randomUUID();
    const steps = new Map<string, unknown>();
    // A context whose queue step "crashed" after it ran: the step runs again.
    const ctx: WorkflowContext = {
      workflowId: 'wf-1',
      step: async <T>(name: string, fn: () => Promise<T>) => {
        const value = await fn();
        if (name.endsWith('queue') && !steps.has(name)) {
          steps.set(name, value);
          await fn();
        }
        return value;
      },
    };
    const queue = new AgentTaskQueue({ ...w.taskQueueDeps, taskLeaseMs: 60_000 });
    const waiting = runAgentTask(ctx, deps, 'cycle', task(vm.id, id), { timeoutMs: 5000 });
    const [handed] = await queue.claimTasks('hv-01', { max: 8 });
    await queue.reportTask(host, id, { seq: 1, status: 'succeeded', vmState: 'running', message: '', result: {} });
    expect(await waiting).toMatchObject({ taskId: id, state: 'succeeded' });
    expect(handed?.taskId).toBe(id);
    expect(w.taskQueue.tasks.filter((t) => t.id === id)).toHaveLength(1);
  });
});
