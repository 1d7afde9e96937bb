import { describe, expect, it } from 'vitest';
import { aCluster, aHost, hosts } from '../placement/testing/builders';
import type { Caller } from '../shared/tenant-scope';
import { actorOf } from '../shared/tenant-scope';
import { inMemoryCompute } from '../testing/in-memory-compute';
import { createManyVms, createVm } from './create-vms';
import { DEFAULT_QUOTA } from './quota';
import { createManyVmsInput, createVmInput } from './vm.schema';

const blue: Caller = { userId: 'u1', email: 'ann@blue.test', name: 'Ann', role: 'tenant-admin', tenantId: 'blue' };
const actor = actorOf(blue);
const GiB = 1024;
const vm = (name: string, memoryMiB = 4 * GiB) =>
  createVmInput.parse({
    name,
    vcpus: 2,
    memory: { mode: 'static', sizeMiB: memoryMiB },
    disks: [{ sizeGiB: 10 }],
    startAfterCreate: false,
  });

/** Room for `vms` VMs of 4 GiB each, after the parent partition's 2 GiB. */
const hostFor = (id: string, vms: number) => aHost({ id, memoryMiB: 2 * GiB + vms * 4 * GiB, numaNodes: 1 });

describe('creating a VM', () => {
  it('places it on the host that fits, queues its create task and keeps the decision', async () => {
    const world = inMemoryCompute([aCluster([aHost({ id: 'hv-small', memoryMiB: 8 * GiB }), aHost({ id: 'hv-big' })])]);

    const created = await createVm(world.deps, actor, blue, vm('db-01', 16 * GiB));

    expect(created.vm).toMatchObject({ name: 'db-01', tenantId: 'blue', hostId: 'hv-big', state: 'creating' });
    expect(world.taskQueue.tasks).toMatchObject([{ id: created.taskId, kind: 'vm.create', hostId: 'hv-big' }]);
    expect(world.taskQueue.notified).toEqual(['hv-big']);
    const decision = await world.decisions.findDecision({ kind: 'provider' }, created.decisionId);
    expect(decision).toMatchObject({ vmId: created.vm.id, hostId: 'hv-big', seed: 42 });
    expect(world.audit.events).toMatchObject([{ action: 'vm.create', targetId: created.vm.id, result: 'success' }]);
    // The disk the user left to placement went to the pool placement chose.
    expect((await world.vms.vmSpec(created.vm.id))?.disks[0]?.pool).toBe('pool-a');
  });

  it('with start after create, queues the start behind the create', async () => {
    const world = inMemoryCompute([aCluster(hosts(2))]);
    await createVm(world.deps, actor, blue, { ...vm('web-01'), startAfterCreate: true });
    expect(world.taskQueue.tasks.map((t) => t.kind)).toEqual(['vm.create', 'vm.start']);
  });

  it('over the quota, is refused with the limit named and writes nothing', async () => {
    const world = inMemoryCompute([aCluster(hosts(2))]);
    world.quotas.quotas.set('blue', { ...DEFAULT_QUOTA, maxVms: 1 });
    world.vms.seed({ tenantId: 'blue', name: 'old-01' });

    await expect(createVm(world.deps, actor, blue, vm('web-01'))).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: 'Quota exceeded: VMs: 1 of 1 defined',
    });
    expect([...world.vms.vms.values()].map((v) => v.name)).toEqual(['old-01']);
    expect(world.taskQueue.tasks).toEqual([]);
    expect(world.decisions.decisions).toEqual([]);
    expect(world.audit.events).toEqual([]);
  });

  it('refuses a name the tenant already uses, whatever its case', async () => {
    const world = inMemoryCompute([aCluster(hosts(2))]);
    world.vms.seed({ tenantId: 'blue', name: 'Web-01' });
    await expect(createVm(world.deps, actor, blue, vm('web-01'))).rejects.toMatchObject({ code: 'DUPLICATE_VM_NAME' });
  });

  it('when no host fits, writes nothing but the decision that says why', async () => {
    const world = inMemoryCompute([aCluster([hostFor('hv-01', 1)])]);

    const refusal = createVm(world.deps, actor, blue, vm('huge', 64 * GiB));

    await expect(refusal).rejects.toMatchObject({ code: 'NO_HOST_FITS' });
    const decisionId = await refusal.catch((error: { decisionId?: string }) => error.decisionId);
    expect(world.decisions.decisions).toMatchObject([{ id: decisionId, vmId: null, vmName: 'huge', hostId: null }]);
    expect(world.vms.vms.size).toBe(0);
    expect(world.taskQueue.tasks).toEqual([]);
  });

  it('is refused for a caller without a tenant', async () => {
    const world = inMemoryCompute([aCluster(hosts(2))]);
    const admin: Caller = { ...blue, role: 'provider-admin', tenantId: null };
    await expect(createVm(world.deps, actor, admin, vm('web-01'))).rejects.toMatchObject({ code: 'INVALID_VM_STATE' });
  });
});

describe('creating a tier of VMs', () => {
  const tier = (count: number) => createManyVmsInput.parse({ vm: vm('web'), count });

  it('creates web-01 … web-04 in one cluster, each with its decision and create task', async () => {
    const world = inMemoryCompute([aCluster([hostFor('hv-01', 2), hostFor('hv-02', 2)])]);

    const created = await createManyVms(world.deps, actor, blue, tier(4));

    expect(created.vms.map((v) => v.name)).toEqual(['web-01', 'web-02', 'web-03', 'web-04']);
    const perHost = new Map<string | null, number>();
    for (const v of created.vms) perHost.set(v.hostName, (perHost.get(v.hostName) ?? 0) + 1);
    expect(Object.fromEntries(perHost)).toEqual({ 'hv-01': 2, 'hv-02': 2 });
    expect(world.decisions.decisions.map((d) => d.vmName)).toEqual(['web-01', 'web-02', 'web-03', 'web-04']);
    expect(world.taskQueue.tasks.map((t) => t.kind)).toEqual(Array(4).fill('vm.create'));
    expect(new Set(world.taskQueue.notified)).toEqual(new Set(['hv-01', 'hv-02']));
  });

  it('is all or nothing: five where four fit creates none and says how many fit', async () => {
    const world = inMemoryCompute([aCluster([hostFor('hv-01', 2), hostFor('hv-02', 2)])]);

    await expect(createManyVms(world.deps, actor, blue, tier(5))).rejects.toMatchObject({
      code: 'NO_HOST_FITS',
      message: expect.stringMatching(/^No cluster can run all 5 VMs: cluster-1 fits 4 of 5/),
    });
    expect(world.vms.vms.size).toBe(0);
    expect(world.decisions.decisions).toEqual([]);
    expect(world.taskQueue.tasks).toEqual([]);
    expect(world.audit.events).toEqual([]);
  });

  it('is admitted against the quota as a whole', async () => {
    const world = inMemoryCompute([aCluster(hosts(4))]);
    world.quotas.quotas.set('blue', { ...DEFAULT_QUOTA, maxVms: 3 });
    await expect(createManyVms(world.deps, actor, blue, tier(4))).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: 'Quota exceeded: VMs: 0 of 3 defined, 4 more requested',
    });
    expect(world.vms.vms.size).toBe(0);
  });
});
