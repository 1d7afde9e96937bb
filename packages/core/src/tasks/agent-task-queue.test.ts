import { describe, expect, it } from 'vitest';
import { inMemoryCompute } from '../testing/in-memory-compute';
import { AgentTaskQueue, LOST_AFTER_MS } from './agent-task-queue';
import type { TaskKind } from './task-protocol.schema';

const host = { id: 'hv-01', name: 'hv-01' };
const LEASE_MS = 60_000;

/** A VM on hv-01 with one queued task of `kind`. */
async function queued(kind: TaskKind, state: 'creating' | 'starting' | 'off' = 'creating') {
  const world = inMemoryCompute();
  const queue = new AgentTaskQueue({ ...world.taskQueueDeps, taskLeaseMs: LEASE_MS });
  const vm = world.vms.seed({ tenantId: 'blue', name: 'web-01', state, hostId: 'hv-01' });
  const task = await world.taskQueue.createTask({
    kind,
    vmId: vm.id,
    hostId: 'hv-01',
    tenantId: 'blue',
    requestedBy: 'ann',
  });
  return { world, queue, vm, task };
}

describe('handing tasks to a host', () => {
  it('hands a task out once while its lease runs, and again with the next attempt once it ran out', async () => {
    const { world, queue, vm, task } = await queued('vm.create');

    const first = await queue.claimTasks('hv-01', { max: 8 });
    expect(first).toEqual([
      { taskId: task.id, kind: 'vm.create', vmId: vm.id, spec: vm.spec, attempt: 1, params: null },
    ]);
    expect(await queue.claimTasks('hv-01', { max: 8 })).toEqual([]);

    world.clock.advance(LEASE_MS - 1);
    expect(await queue.claimTasks('hv-01', { max: 8 })).toEqual([]);
    world.clock.advance(2);
    expect(await queue.claimTasks('hv-01', { max: 8 })).toMatchObject([{ taskId: task.id, attempt: 2 }]);
  });

  it('hands a task out again at once when the host says it does not hold it (the answer was lost), not while fresh', async () => {
    const { world, queue, task } = await queued('vm.create');
    await queue.claimTasks('hv-01', { max: 8 });
    // A poll right after the hand-out (another poll's answer may still be on its way): not yet.
    world.clock.advance(LOST_AFTER_MS - 1);
    expect(await queue.claimTasks('hv-01', { max: 8, holding: [] })).toEqual([]);
    world.clock.advance(2);
    // The host holds it: it runs there, nothing goes out again.
    expect(await queue.claimTasks('hv-01', { max: 8, holding: [task.id] })).toEqual([]);
    // An older agent says nothing: only the lease hands it out again.
    expect(await queue.claimTasks('hv-01', { max: 8 })).toEqual([]);
    // The host does not have it: lost with its answer, handed out again with the next attempt.
    expect(await queue.claimTasks('hv-01', { max: 8, holding: [] })).toMatchObject([{ taskId: task.id, attempt: 2 }]);
  });

  it('a progress report extends the lease', async () => {
    const { world, queue, task } = await queued('vm.create');
    await queue.claimTasks('hv-01', { max: 8 });
    world.clock.advance(50_000);
    await queue.reportTask(host, task.id, { seq: 1, status: 'running', progress: 40, message: 'copying disk' });

    world.clock.advance(LEASE_MS - 1);
    expect(await queue.claimTasks('hv-01', { max: 8 })).toEqual([]);
  });

  it('hands out no spec for tasks other than create, and nothing of another host', async () => {
    const { queue } = await queued('vm.start', 'starting');
    expect(await queue.claimTasks('hv-02', { max: 8 })).toEqual([]);
    expect(await queue.claimTasks('hv-01', { max: 8 })).toMatchObject([{ kind: 'vm.start', spec: null }]);
  });
});

describe('reports from a host', () => {
  it("a create's result delivered after its start's does not set the VM back to off", async () => {
    const { world, queue, vm, task: create } = await queued('vm.create');
    const start = await world.taskQueue.createTask({
      kind: 'vm.start',
      vmId: vm.id,
      hostId: 'hv-01',
      tenantId: 'blue',
      requestedBy: 'ann',
    });
    await queue.claimTasks('hv-01', { max: 8 });
    await queue.reportTask(host, start.id, { seq: 2, status: 'succeeded', vmState: 'running', message: '' });
    expect(world.vms.vms.get(vm.id)?.state).toBe('running');
    const late = await queue.reportTask(host, create.id, { seq: 3, status: 'succeeded', vmState: 'off', message: '' });
    expect(late).toEqual({ accepted: true, cancel: false });
    expect(world.vms.vms.get(vm.id)?.state).toBe('running');
    expect(world.taskQueue.tasks.find((t) => t.id === create.id)?.state).toBe('succeeded');
  });

  it('a successful start moves the VM to the state the host reports, audited as the agent', async () => {
    const { world, queue, vm, task } = await queued('vm.start', 'starting');
    await queue.claimTasks('hv-01', { max: 8 });

    const answer = await queue.reportTask(host, task.id, {
      seq: 2,
      status: 'succeeded',
      vmState: 'running',
      message: '',
    });

    expect(answer).toEqual({ accepted: true, cancel: false });
    expect(world.vms.vms.get(vm.id)?.state).toBe('running');
    expect(world.taskQueue.tasks[0]).toMatchObject({ state: 'succeeded', progress: 100, leaseUntil: null });
    expect(world.audit.events).toMatchObject([
      { actor: { type: 'agent', id: 'hv-01' }, action: 'vm.start', result: 'success' },
    ]);
  });

  it('a failed create leaves the VM failed with the reason', async () => {
    const { world, queue, vm, task } = await queued('vm.create');
    await queue.reportTask(host, task.id, {
      seq: 2,
      status: 'failed',
      code: 'INSUFFICIENT_MEMORY',
      message: 'not enough memory',
      vmState: null,
    });
    expect(world.vms.vms.get(vm.id)).toMatchObject({
      state: 'failed',
      stateReason: 'vm.create failed: not enough memory',
    });
    expect(world.taskQueue.tasks[0]).toMatchObject({ state: 'failed', errorCode: 'INSUFFICIENT_MEMORY' });
  });

  it('a successful delete removes the VM', async () => {
    const { world, queue, vm, task } = await queued('vm.delete', 'off');
    await queue.reportTask(host, task.id, { seq: 2, status: 'succeeded', vmState: null, message: '' });
    expect(world.vms.vms.has(vm.id)).toBe(false);
    expect(world.vms.events).toMatchObject([{ vmId: vm.id, state: 'deleted' }]);
  });

  it('a repeated final report changes nothing; a stale one that contradicts it is not accepted', async () => {
    const { world, queue, vm, task } = await queued('vm.start', 'starting');
    await queue.reportTask(host, task.id, { seq: 2, status: 'succeeded', vmState: 'running', message: '' });

    const again = await queue.reportTask(host, task.id, {
      seq: 3,
      status: 'succeeded',
      vmState: 'running',
      message: '',
    });
    const stale = await queue.reportTask(host, task.id, {
      seq: 4,
      status: 'failed',
      code: 'DRIVER_ERROR',
      message: 'late',
      vmState: 'off',
    });
    const lateProgress = await queue.reportTask(host, task.id, {
      seq: 5,
      status: 'running',
      progress: 50,
      message: '',
    });

    expect(again).toEqual({ accepted: true, cancel: false });
    expect(stale).toEqual({ accepted: false, cancel: false });
    expect(lateProgress).toEqual({ accepted: false, cancel: false });
    expect(world.vms.vms.get(vm.id)?.state).toBe('running');
    expect(world.taskQueue.tasks[0]).toMatchObject({ state: 'succeeded', progress: 100 });
    expect(world.audit.events).toHaveLength(1);
  });

  it('a report on another host’s task is refused as not found', async () => {
    const { queue, task } = await queued('vm.create');
    await expect(
      queue.reportTask({ id: 'hv-02', name: 'hv-02' }, task.id, {
        seq: 1,
        status: 'running',
        progress: 1,
        message: '',
      }),
    ).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
  });
});
