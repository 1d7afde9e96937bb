import { describe, expect, it } from 'vitest';
import type { Actor } from '../shared/tenant-scope';
import { inMemoryCompute } from '../testing/in-memory-compute';
import { DEFAULT_QUOTA } from './quota';
import { actOnPattern, actOnVm } from './vm-actions';

const actor: Actor = { type: 'user', id: 'u1', label: 'ann@blue.test' };
const blue = { kind: 'tenant', tenantId: 'blue' } as const;

function withVm(state: 'off' | 'running' | 'creating' = 'off') {
  const world = inMemoryCompute();
  const vm = world.vms.seed({ tenantId: 'blue', name: 'web-01', state, hostId: 'hv-01', clusterId: 'c1' });
  return { world, vm };
}

describe('acting on a VM', () => {
  it('start on a stopped VM shows it starting and queues a start task for its host', async () => {
    const { world, vm } = withVm('off');

    const { taskId } = await actOnVm(world.deps, actor, blue, vm.id, 'start');

    expect(world.vms.vms.get(vm.id)?.state).toBe('starting');
    expect(world.taskQueue.tasks).toMatchObject([
      { id: taskId, kind: 'vm.start', vmId: vm.id, hostId: 'hv-01', state: 'queued', requestedBy: actor.label },
    ]);
    expect(world.taskQueue.notified).toEqual(['hv-01']);
    expect(world.audit.events).toMatchObject([{ action: 'vm.start', targetId: vm.id, details: { taskId } }]);
    expect(world.vms.events).toMatchObject([{ vmId: vm.id, state: 'starting', taskId, message: 'start queued' }]);
  });

  it.each([
    ['start', 'running', 'Cannot start a VM that is running (allowed when off, saved)'],
    ['stop', 'off', 'Cannot stop a VM that is off (allowed when running)'],
    ['delete', 'running', 'Cannot delete a VM that is running (allowed when off, saved, failed)'],
  ] as const)('%s on a %s VM is refused with the reason and changes nothing', async (action, state, message) => {
    const { world, vm } = withVm(state);

    await expect(actOnVm(world.deps, actor, blue, vm.id, action)).rejects.toMatchObject({
      code: 'INVALID_VM_STATE',
      message,
    });
    expect(world.vms.vms.get(vm.id)?.state).toBe(state);
    expect(world.taskQueue.tasks).toEqual([]);
    expect(world.audit.events).toEqual([]);
  });

  it('another tenant’s VM is not found, exactly like a missing one', async () => {
    const { world, vm } = withVm('off');
    const yellow = { kind: 'tenant', tenantId: 'yellow' } as const;
    await expect(actOnVm(world.deps, actor, yellow, vm.id, 'start')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    expect(world.taskQueue.tasks).toEqual([]);
  });

  it('start past the running quota is refused and the VM stays off', async () => {
    const { world, vm } = withVm('off');
    world.vms.seed({ tenantId: 'blue', name: 'db-01', state: 'running' });
    world.quotas.quotas.set('blue', { ...DEFAULT_QUOTA, maxRunningVms: 1 });

    await expect(actOnVm(world.deps, actor, blue, vm.id, 'start')).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: 'Quota exceeded: running VMs: 1 of 1 running',
    });
    expect(world.vms.vms.get(vm.id)?.state).toBe('off');
    expect(world.taskQueue.tasks).toEqual([]);
  });
});

describe('acting on VMs by wildcard', () => {
  it('acts on each matching VM and reports each result, refusals included', async () => {
    const world = inMemoryCompute();
    world.vms.seed({ tenantId: 'blue', name: 'web-01', state: 'off', hostId: 'hv-01' });
    world.vms.seed({ tenantId: 'blue', name: 'web-02', state: 'running', hostId: 'hv-01' });
    world.vms.seed({ tenantId: 'blue', name: 'db-01', state: 'off', hostId: 'hv-01' });
    world.vms.seed({ tenantId: 'yellow', name: 'web-03', state: 'off', hostId: 'hv-01' });

    const results = await actOnPattern(world.deps, actor, blue, 'WEB*', 'start');

    expect(results).toMatchObject([
      { name: 'web-01', ok: true, message: 'start queued' },
      {
        name: 'web-02',
        ok: false,
        message: 'Cannot start a VM that is running (allowed when off, saved)',
        taskId: null,
      },
    ]);
    expect(world.taskQueue.tasks).toHaveLength(1);
  });
});
