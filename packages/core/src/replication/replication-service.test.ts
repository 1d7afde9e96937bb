import { describe, expect, it } from 'vitest';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import { aCluster, aHost } from '../placement/testing/builders';
import { CoreError } from '../shared/errors';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { FakeOwnership, FakeReplicaAgents, InMemoryReplicationRepository } from '../testing/in-memory-replication';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import { enableReplicationSchema } from './replication.schema';
import { ReplicationQueries } from './replication-queries';
import type { HostInfo } from './replication-repository';
import { cycleWorkflowId, ReplicationService } from './replication-service';

const T1 = '10000000-0000-4000-8000-000000000001';
const T2 = '10000000-0000-4000-8000-000000000002';
const VM = '20000000-0000-4000-8000-000000000001';
const PRIMARY = { cluster: '30000000-0000-4000-8000-000000000001', host: '40000000-0000-4000-8000-000000000001' };
const REPLICA = { cluster: '30000000-0000-4000-8000-000000000002', host: '40000000-0000-4000-8000-000000000002' };
const OTHER_HOST = '40000000-0000-4000-8000-000000000003';
const tenant: TenantScope = { kind: 'tenant', tenantId: T1 };
const actor: Actor = { type: 'user', id: 'u1', label: 'ann@tenant.test' };
const WAIT = 2_000;

function world() {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const repo = new InMemoryReplicationRepository();
  repo.clusters.add(PRIMARY.cluster).add(REPLICA.cluster);
  repo.hosts.set(PRIMARY.host, {
    id: PRIMARY.host,
    name: 'hv-a1',
    clusterId: PRIMARY.cluster,
    state: 'connected',
    peerUrl: 'http://127.0.0.1:1/',
  });
  repo.hosts.set(REPLICA.host, {
    id: REPLICA.host,
    name: 'hv-b1',
    clusterId: REPLICA.cluster,
    state: 'connected',
    peerUrl: 'http://127.0.0.1:2/',
  });
  repo.hosts.set(OTHER_HOST, {
    id: OTHER_HOST,
    name: 'hv-a2',
    clusterId: PRIMARY.cluster,
    state: 'connected',
    peerUrl: 'http://127.0.0.1:3/',
  });
  repo.vms.set(VM, {
    id: VM,
    tenantId: T1,
    name: 'web-1',
    state: 'running',
    hostId: PRIMARY.host,
    clusterId: PRIMARY.cluster,
    ownerEpoch: 1,
    disks: [{ name: 'disk0', sizeBytes: 16 * 1024 ** 2 }],
  });
  const placement = {
    clusterSnapshot: async (id: string) =>
      aCluster(
        [
          aHost({
            id: REPLICA.host,
            clusterId: REPLICA.cluster,
            storagePools: [{ name: 'replicas', capacityBytes: 1e12, allocatedBytes: 0 }],
          }),
        ],
        { id },
      ),
  } as unknown as PlacementStore;
  const agents = new FakeReplicaAgents();
  const ownership = new FakeOwnership();
  const engine = new InMemoryWorkflowEngine();
  let n = 0;
  const newId = () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const service = new ReplicationService({
    uow: inMemoryUnitOfWork({ replication: repo, jobs }),
    placement,
    agents,
    ownership,
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId,
    credentialFor: (id, g) => `cred-${id}-${g}`,
  });
  for (const wf of service.workflows) engine.register(wf);
  const authorize = (
    over: Partial<{ tenantId: string | null; primaryClusterId: string | null; replicaHostId: string | null }> = {},
  ) =>
    repo.createAuthorization({
      id: newId(),
      replicaClusterId: REPLICA.cluster,
      replicaHostId: null,
      tenantId: T1,
      primaryClusterId: null,
      storagePool: 'replicas',
      createdBy: 'admin',
      ...over,
    });
  const enableInput = (over: Record<string, unknown> = {}) =>
    enableReplicationSchema.parse({
      vmId: VM,
      target: { kind: 'cluster', clusterId: REPLICA.cluster },
      frequencySeconds: 30,
      ...over,
    });
  return { clock, jobs, repo, agents, ownership, engine, service, authorize, enableInput };
}

async function replicating(w: ReturnType<typeof world>) {
  await w.authorize();
  const { relationshipId, taskId } = await w.service.enable(tenant, actor, w.enableInput({ additionalPoints: 2 }));
  expect(await w.engine.wait(taskId, WAIT)).toBe('succeeded');
  return relationshipId;
}

async function expectRefused(p: Promise<unknown>, code: string) {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CoreError);
  expect((error as CoreError).code).toBe(code);
}

describe('enable replication', () => {
  it('refuses a frequency not in the list and more than 24 points, naming the limits', () => {
    const freq = enableReplicationSchema.safeParse({
      vmId: VM,
      target: { kind: 'cluster', clusterId: REPLICA.cluster },
      frequencySeconds: 60,
    });
    expect(freq.success).toBe(false);
    expect(freq.error?.issues[0]?.message).toMatch(/30, 300, 900/);
    const points = enableReplicationSchema.safeParse({
      vmId: VM,
      target: { kind: 'cluster', clusterId: REPLICA.cluster },
      frequencySeconds: 300,
      additionalPoints: 25,
    });
    expect(points.error?.issues[0]?.message).toMatch(/at most 24/);
  });

  it('refuses the primary host or cluster as target, and an unauthorized target; nothing is written', async () => {
    const w = world();
    await expectRefused(
      w.service.enable(tenant, actor, w.enableInput({ target: { kind: 'host', hostId: PRIMARY.host } })),
      'REPLICA_TARGET_IS_PRIMARY',
    );
    await expectRefused(
      w.service.enable(tenant, actor, w.enableInput({ target: { kind: 'host', hostId: OTHER_HOST } })),
      'REPLICA_TARGET_IS_PRIMARY',
    );
    await expectRefused(
      w.service.enable(tenant, actor, w.enableInput({ target: { kind: 'cluster', clusterId: PRIMARY.cluster } })),
      'REPLICA_TARGET_IS_PRIMARY',
    );
    await expectRefused(w.service.enable(tenant, actor, w.enableInput()), 'REPLICA_TARGET_NOT_AUTHORIZED');
    await w.authorize({ tenantId: T2 });
    await expectRefused(
      w.service.enable(tenant, actor, w.enableInput({ target: { kind: 'host', hostId: REPLICA.host } })),
      'REPLICA_TARGET_NOT_AUTHORIZED',
    );
    expect(w.repo.relationships.size).toBe(0);
    expect(w.agents.calls).toHaveLength(0);
  });

  it('another tenant cannot see or replicate the VM', async () => {
    const w = world();
    await w.authorize({ tenantId: null });
    await expectRefused(w.service.enable({ kind: 'tenant', tenantId: T2 }, actor, w.enableInput()), 'VM_NOT_FOUND');
  });

  it('the broker picks an authorized host; initial replication makes the first point and the relationship replicates', async () => {
    const w = world();
    const id = await replicating(w);
    const rel = w.repo.relationships.get(id);
    expect(rel?.replicaHostId).toBe(REPLICA.host);
    expect(rel?.state).toBe('replicating');
    expect(rel?.nextCycleSeq).toBe(2);
    expect(w.agents.calls.map((c) => c.kind)).toEqual(['replica.accept', 'replica.cycle', 'replica.retain']);
    expect(w.agents.calls[1]?.params.mode).toBe('initial');
    expect(w.agents.calls[1]?.hostId).toBe(PRIMARY.host);
    const points = await w.repo.listPoints(tenant, id);
    expect(points).toHaveLength(1);
    await expectRefused(w.service.enable(tenant, actor, w.enableInput()), 'REPLICATION_EXISTS');
  });
});

describe('cycles', () => {
  it('the scheduler runs each due cycle once, even when a tick repeats after a crash', async () => {
    const w = world();
    const id = await replicating(w);
    w.clock.advance(30_000);
    w.agents.write(VM, 5);
    expect(await w.service.tickCycles()).toBe(1);
    const wfId = cycleWorkflowId(id, 1, 2);
    expect(await w.engine.wait(wfId, WAIT)).toBe('succeeded');
    // The tick again at the same time: nothing is due.
    expect(await w.service.tickCycles()).toBe(0);
    // A repeated start of the same cycle (a tick that crashed before advancing the seq) runs nothing.
    await w.repo.updateRelationship(id, { nextCycleSeq: 2, nextDueAt: w.clock.now() });
    await w.service.tickCycles();
    await w.engine.wait(wfId, WAIT);
    const shipped = w.agents.calls.filter((c) => c.kind === 'replica.cycle');
    expect(shipped).toHaveLength(2);
    const cycle = [...w.repo.cycles.values()].find((c) => c.seq === 2);
    expect(cycle?.state).toBe('succeeded');
    expect(cycle?.checksums).toEqual([{ name: 'disk0', sha256: `sha-${VM}-5` }]);
  });

  it('cycles follow a VM that moved (an HA restart, a migration): shipped from its new host, resyncing', async () => {
    const w = world();
    const id = await replicating(w);
    const vm = w.repo.vms.get(VM);
    if (!vm) throw new Error('no VM');
    w.repo.vms.set(VM, { ...vm, hostId: OTHER_HOST });
    w.clock.advance(30_000);
    expect(await w.service.tickCycles()).toBe(1);
    expect(await w.engine.wait(cycleWorkflowId(id, 1, 2), WAIT)).toBe('succeeded');
    const shipped = w.agents.calls.filter((c) => c.kind === 'replica.cycle').at(-1);
    expect(shipped).toMatchObject({ hostId: OTHER_HOST, params: { mode: 'resync' } });
    expect((await w.repo.findRelationship(tenant, id))?.primaryHostId).toBe(OTHER_HOST);
    // The next one is a plain delta from there.
    w.clock.advance(30_000);
    await w.service.tickCycles();
    expect(await w.engine.wait(cycleWorkflowId(id, 1, 3), WAIT)).toBe('succeeded');
    expect(w.agents.calls.filter((c) => c.kind === 'replica.cycle').at(-1)).toMatchObject({
      hostId: OTHER_HOST,
      params: { mode: 'delta' },
    });
  });

  it('a cycle that crashed after shipping is finished by a resume without shipping again', async () => {
    const w = world();
    const id = await replicating(w);
    w.clock.advance(30_000);
    const wfId = cycleWorkflowId(id, 1, 2);
    w.engine.crashAfter('cycle-ship', wfId);
    await w.service.tickCycles();
    await new Promise((r) => setTimeout(r, 20));
    await w.engine.resume(wfId);
    expect(await w.engine.wait(wfId, WAIT)).toBe('succeeded');
    // The re-run step awaits the same task id: the queue runs it once.
    const cycles = w.agents.calls.filter((c) => c.kind === 'replica.cycle');
    expect(cycles).toHaveLength(3);
    expect(new Set(cycles.map((c) => c.taskId)).size).toBe(2);
    expect([...w.repo.cycles.values()].filter((c) => c.state === 'succeeded')).toHaveLength(2);
    expect(await w.repo.listPoints(tenant, id, true)).toHaveLength(2);
  });

  it('lost change tracking turns resync-needed (critical); the next cycle resyncs and replication recovers', async () => {
    const w = world();
    const id = await replicating(w);
    w.clock.advance(30_000);
    w.agents.failNextCycle = 'CHANGE_TRACKING_LOST';
    await w.service.tickCycles();
    await w.engine.wait(cycleWorkflowId(id, 1, 2), WAIT);
    expect(w.repo.relationships.get(id)?.state).toBe('resync-needed');
    expect(w.repo.relationships.get(id)?.health).toBe('critical');
    w.clock.advance(30_000);
    await w.service.tickCycles();
    await w.engine.wait(cycleWorkflowId(id, 1, 3), WAIT);
    expect(w.agents.calls.filter((c) => c.kind === 'replica.cycle').at(-1)?.params.mode).toBe('resync');
    expect(w.repo.relationships.get(id)?.state).toBe('replicating');
    await w.service.tickHealth();
    expect(w.repo.relationships.get(id)?.health).toBe('normal');
  });

  it('an application-consistent point every N hours only when the guest quiesced; a refused quiesce gives a standard point that says so, asked again next cycle', async () => {
    const w = world();
    await w.authorize();
    const { relationshipId: id, taskId } = await w.service.enable(
      tenant,
      actor,
      w.enableInput({ appConsistentHours: 1 }),
    );
    expect(await w.engine.wait(taskId, WAIT)).toBe('succeeded');
    const cycle = async () => {
      w.clock.advance(30_000);
      const seq = w.repo.relationships.get(id)?.nextCycleSeq as number;
      await w.service.tickCycles();
      expect(await w.engine.wait(cycleWorkflowId(id, 1, seq), WAIT)).toBe('succeeded');
      return (await w.repo.listPoints(tenant, id, true))[0];
    };
    // The first point: due at once, the guest quiesced.
    const first = (await w.repo.listPoints(tenant, id))[0];
    expect(first).toMatchObject({ kind: 'app-consistent', quiesce: { status: 'quiesced' } });
    // Within the hour: standard points, no quiesce asked.
    expect(await cycle()).toMatchObject({ kind: 'standard', quiesce: null });
    expect(w.agents.calls.filter((c) => c.kind === 'replica.cycle').at(-1)?.params.appConsistent).toBe(false);
    // An hour on, the guest refuses: a standard point naming why, and the next cycle asks again.
    w.clock.advance(3_600_000);
    w.agents.quiesceRefused = true;
    expect(await cycle()).toMatchObject({ kind: 'standard', quiesce: { status: 'failed' } });
    expect((await w.repo.listPoints(tenant, id, true))[0]?.quiesce?.message).toMatch(/refused/);
    w.agents.quiesceRefused = false;
    expect(await cycle()).toMatchObject({ kind: 'app-consistent', quiesce: { status: 'quiesced' } });
    expect(await cycle()).toMatchObject({ kind: 'standard', quiesce: null });
  });

  it('keeps the latest point and one per hour for the additional points', async () => {
    const w = world();
    const id = await replicating(w); // 2 additional points
    for (let i = 0; i < 8; i++) {
      w.clock.advance(30 * 60_000);
      await w.repo.updateRelationship(id, { nextDueAt: w.clock.now() });
      const seq = w.repo.relationships.get(id)?.nextCycleSeq as number;
      await w.service.tickCycles();
      await w.engine.wait(cycleWorkflowId(id, 1, seq), WAIT);
    }
    expect(await w.repo.listPoints(tenant, id)).toHaveLength(3);
    const retain = w.agents.calls.filter((c) => c.kind === 'replica.retain').at(-1);
    expect(retain?.params.keepPointIds).toHaveLength(3);
  });

  it('health turns warning when the replica stops answering, from the due-time index alone', async () => {
    const w = world();
    const id = await replicating(w);
    await w.service.tickHealth();
    expect(w.repo.relationships.get(id)?.health).toBe('normal');
    // No cycles arrive: 30 s frequency, 120 expected per hour, more than 24 missed is a warning.
    w.clock.advance(10 * 60_000);
    expect((await w.service.tickHealth()).evaluated).toBe(0);
    w.clock.advance(5 * 60_000);
    const pass = await w.service.tickHealth();
    expect(pass).toEqual({ evaluated: 1, changed: 1 });
    expect(w.repo.relationships.get(id)?.health).toBe('warning');
  });
});

describe('failovers', () => {
  it('refuses failover of a VM that is not replicated, twice at once, and a test from a missing point', async () => {
    const w = world();
    await expectRefused(w.service.failover(tenant, actor, VM), 'VM_NOT_REPLICATED');
    await expectRefused(w.service.testFailover(tenant, actor, VM), 'VM_NOT_REPLICATED');
    await replicating(w);
    await expectRefused(
      w.service.testFailover(tenant, actor, VM, '90000000-0000-4000-8000-0000000009ff'),
      'RECOVERY_POINT_NOT_FOUND',
    );
    w.agents.down.add(REPLICA.host); // the failover hangs on its first task in real life; here it fails, after the refusal below
    const first = w.service.failover(tenant, actor, VM);
    await expectRefused(w.service.failover(tenant, actor, VM), 'REPLICATION_BUSY');
    await first;
  });

  it('test failover starts a test VM from a point while cycles continue; stop removes it', async () => {
    const w = world();
    const id = await replicating(w);
    const { taskId } = await w.service.testFailover(tenant, actor, VM);
    expect(await w.engine.wait(taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.get(id)?.state).toBe('test-failover');
    w.clock.advance(30_000);
    expect(await w.service.tickCycles()).toBe(1);
    expect(await w.engine.wait(cycleWorkflowId(id, 1, 2), WAIT)).toBe('succeeded');
    await expectRefused(w.service.testFailover(tenant, actor, VM), 'REPLICATION_BUSY');
    const stop = await w.service.stopTest(tenant, actor, VM);
    expect(await w.engine.wait(stop.taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.get(id)?.state).toBe('replicating');
    expect(w.agents.calls.map((c) => c.kind)).toContain('replica.stop-test');
  });

  it('remove: cycles stop at once, the replica host deletes the replica, then the relationship goes', async () => {
    const w = world();
    const id = await replicating(w);
    const { taskId } = await w.service.remove(tenant, actor, VM);
    // Another tenant: NOT_FOUND; a second remove while this one runs: refused.
    await expectRefused(w.service.remove({ kind: 'tenant', tenantId: T2 }, actor, VM), 'VM_NOT_FOUND');
    expect(await w.engine.wait(taskId, WAIT)).toBe('succeeded');
    const removal = w.agents.calls.find((c) => c.kind === 'replica.remove');
    expect(removal).toMatchObject({ hostId: REPLICA.host, vmId: VM, params: { relationshipId: id } });
    expect(w.repo.relationships.has(id)).toBe(false);
    const job = await w.jobs.find({ kind: 'provider' }, taskId);
    expect(job?.kind).toBe('replication.remove');
    expect(job?.state).toBe('succeeded');
    // Nothing runs for it any more, and the VM can replicate again.
    w.clock.advance(60_000);
    expect(await w.service.tickCycles()).toBe(0);
    const again = await w.service.enable(tenant, actor, w.enableInput());
    expect(await w.engine.wait(again.taskId, WAIT)).toBe('succeeded');
  });

  it('remove after an unplanned failover also deletes what the old primary kept, once it answers; a silent one is skipped', async () => {
    const w = world();
    const id = await replicating(w);
    const fail = (state: string) =>
      w.repo.hosts.set(PRIMARY.host, { ...(w.repo.hosts.get(PRIMARY.host) as HostInfo), state });
    w.agents.down.add(PRIMARY.host);
    fail('failed');
    const f = await w.service.failover(tenant, actor, VM);
    expect(await w.engine.wait(f.taskId, WAIT)).toBe('succeeded');
    const done = await w.service.completeFailover(tenant, actor, VM);
    expect(await w.engine.wait(done.taskId, WAIT)).toBe('succeeded');
    // The old primary is back (its HA discard set the VM's disks aside): the removal asks it too, after the replica.
    w.agents.down.delete(PRIMARY.host);
    fail('connected');
    const removed = await w.service.remove(tenant, actor, VM);
    expect(await w.engine.wait(removed.taskId, WAIT)).toBe('succeeded');
    const removals = w.agents.calls.filter((c) => c.kind === 'replica.remove');
    expect(removals.map((c) => [c.hostId, c.vmId, c.params.relationshipId])).toEqual([
      [REPLICA.host, VM, id],
      [PRIMARY.host, VM, id],
    ]);
    expect((await w.jobs.find({ kind: 'provider' }, removed.taskId))?.steps.map((st) => st.key)).toEqual([
      'replica',
      'primary',
      'record',
    ]);

    // Still gone: the replica's removal is not held up by a primary that does not answer.
    const again = await replicating(w);
    fail('failed');
    const second = await w.service.remove(tenant, actor, VM);
    expect(await w.engine.wait(second.taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.has(again)).toBe(false);
    const job = await w.jobs.find({ kind: 'provider' }, second.taskId);
    expect(job?.steps.find((st) => st.key === 'primary')?.detail).toMatch(/not answering \(failed\)/);
  });

  it('remove refused while a failover runs; a replica host that cannot delete leaves it in error to remove again', async () => {
    const w = world();
    const id = await replicating(w);
    await w.repo.updateRelationship(id, { state: 'failing-over' });
    await expectRefused(w.service.remove(tenant, actor, VM), 'REPLICATION_BUSY');
    await w.repo.updateRelationship(id, { state: 'replicating' });
    w.agents.down.add(REPLICA.host);
    const failed = await w.service.remove(tenant, actor, VM);
    expect(await w.engine.wait(failed.taskId, WAIT)).toBe('failed');
    expect(w.repo.relationships.get(id)).toMatchObject({ state: 'error', health: 'critical' });
    expect(w.repo.relationships.get(id)?.stateReason).toMatch(/remove replication again/);
    w.agents.down.delete(REPLICA.host);
    const retried = await w.service.remove(tenant, actor, VM);
    expect(await w.engine.wait(retried.taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.has(id)).toBe(false);
  });

  it('a deleted replicated VM has its replica removed, even during a test failover', async () => {
    const w = world();
    const id = await replicating(w);
    const test = await w.service.testFailover(tenant, actor, VM);
    expect(await w.engine.wait(test.taskId, WAIT)).toBe('succeeded');
    w.repo.vms.delete(VM); // its host confirmed vm.delete
    const started = await w.service.removeAfterVmDeleted(VM);
    expect(started).not.toBeNull();
    expect(await w.service.removeAfterVmDeleted(VM)).toBeNull(); // once
    expect(await w.engine.wait(started?.taskId as string, WAIT)).toBe('succeeded');
    expect(w.agents.calls.find((c) => c.kind === 'replica.remove')).toMatchObject({ tenantId: T1 });
    expect(w.repo.relationships.has(id)).toBe(false);
    expect(await w.service.removeAfterVmDeleted(VM)).toBeNull(); // not replicated any more
  });

  it('the sweep removes the replica of a VM deleted while its cleanup never started, and starts a removal whose workflow never ran', async () => {
    const w = world();
    const id = await replicating(w);
    // Nothing to sweep while the VM exists.
    expect(await w.service.sweep()).toEqual({ removalsStarted: 0, removalsResumed: 0 });
    // The VM's delete committed, then the API died before removeAfterVmDeleted: the relationship is left.
    const vm = w.repo.vms.get(VM);
    w.repo.vms.delete(VM);
    const swept = await w.service.sweep();
    expect(swept.removalsStarted).toBe(1);
    const job = [...(await w.jobs.list({ kind: 'provider' }, { page: 1, pageSize: 10 } as never)).rows].find(
      (j) => j.kind === 'replication.remove',
    );
    expect(job?.targetId).toBe(VM);
    expect(await w.engine.wait(job?.id as string, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.has(id)).toBe(false);
    expect(w.agents.calls.filter((c) => c.kind === 'replica.remove')[0]).toMatchObject({ hostId: REPLICA.host });
    expect(await w.service.sweep()).toEqual({ removalsStarted: 0, removalsResumed: 0 });

    // A removal written (state removing, its job open) whose workflow never started: the sweep starts it, once.
    if (vm) w.repo.vms.set(VM, vm);
    const again = await replicating(w);
    const jobId = '90000000-0000-4000-8000-00000000dead';
    await w.repo.updateRelationship(again, { state: 'removing' });
    await w.jobs.create(
      {
        id: jobId,
        kind: 'replication.remove',
        targetType: 'vm',
        targetId: VM,
        targetLabel: 'web-1',
        tenantId: T1,
        requestedBy: 'ann',
        requestedById: 'u1',
        steps: [
          { key: 'replica', label: 'r' },
          { key: 'primary', label: 'p' },
          { key: 'record', label: 'f' },
        ],
        message: 'Removing replication of web-1',
      },
      w.clock.now(),
    );
    expect((await w.service.sweep()).removalsResumed).toBe(1);
    expect(await w.engine.wait(jobId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.has(again)).toBe(false);
  });

  it('a silent replica host turns health warning at the next cycle, naming the host (to the provider only)', async () => {
    const w = world();
    const id = await replicating(w);
    const queries = new ReplicationQueries({ repo: w.repo, clock: w.clock });
    w.clock.advance(30_000);
    expect(await w.service.tickCycles()).toBe(1);
    expect(await w.engine.wait(cycleWorkflowId(id, 1, 2), WAIT)).toBe('succeeded');
    await w.service.tickHealth();
    expect((await queries.forVm(tenant, VM))?.relationship).toMatchObject({ health: 'normal' });

    // The replica host's heartbeats stop (the host monitor marks it suspect).
    w.repo.hosts.set(REPLICA.host, { ...(w.repo.hosts.get(REPLICA.host) as HostInfo), state: 'suspect' });
    const shipped = w.agents.calls.filter((c) => c.kind === 'replica.cycle').length;
    w.clock.advance(30_000);
    expect(await w.service.tickCycles()).toBe(1);
    expect(await w.engine.wait(cycleWorkflowId(id, 1, 3), WAIT)).toBe('succeeded');
    // Failed at once: nothing was shipped to a host that cannot take it.
    expect(w.agents.calls.filter((c) => c.kind === 'replica.cycle')).toHaveLength(shipped);
    const cycles = await w.repo.listCycles({ kind: 'provider' }, id, new Date(0), 10);
    expect(cycles[0]).toMatchObject({ state: 'failed', errorCode: 'REPLICA_HOST_UNREACHABLE' });
    expect(cycles[0]?.errorMessage).toMatch(/hv-b1 is not answering/);
    // One health pass, in the same cycle: warning (one miss of 120 would not be).
    await w.service.tickHealth();
    expect(w.repo.relationships.get(id)?.health).toBe('warning');
    expect((await queries.forVm({ kind: 'provider' }, VM))?.relationship).toMatchObject({
      health: 'warning',
      healthReason: 'Replica host hv-b1 is not answering',
    });
    const own = (await queries.forVm(tenant, VM))?.relationship;
    expect(own).toMatchObject({ health: 'warning', healthReason: 'The replica host is not answering' });
    expect((await queries.dashboard()).counts.warning).toBe(1);

    // Back: the next cycle lands and health is normal again.
    w.repo.hosts.set(REPLICA.host, { ...(w.repo.hosts.get(REPLICA.host) as HostInfo), state: 'connected' });
    w.clock.advance(30_000);
    expect(await w.service.tickCycles()).toBe(1);
    expect(await w.engine.wait(cycleWorkflowId(id, 1, 4), WAIT)).toBe('succeeded');
    await w.service.tickHealth();
    expect(w.repo.relationships.get(id)?.health).toBe('normal');
    expect((await queries.forVm({ kind: 'provider' }, VM))?.relationship.healthReason).not.toMatch(/not answering/);
  });

  it('planned failover: primary shut down, last changes sent, checksums equal, VM moved, direction reversed', async () => {
    const w = world();
    const id = await replicating(w);
    w.agents.write(VM, 7);
    const { taskId } = await w.service.plannedFailover(tenant, actor, VM);
    expect(await w.engine.wait(taskId, WAIT)).toBe('succeeded');
    const kinds = w.agents.calls.map((c) => c.kind);
    expect(kinds.slice(3)).toEqual([
      'vm.stop',
      'replica.cycle',
      'replica.retain',
      'replica.failover',
      'replica.accept',
    ]);
    expect(w.agents.calls.find((c) => c.kind === 'replica.cycle' && c.params.mode === 'final')).toBeTruthy();
    const rel = w.repo.relationships.get(id);
    expect(rel?.primaryHostId).toBe(REPLICA.host);
    expect(rel?.replicaHostId).toBe(PRIMARY.host);
    expect(rel?.generation).toBe(2);
    expect(rel?.state).toBe('replicating');
    expect(w.ownership.placement.get(VM)?.hostId).toBe(REPLICA.host);
    expect(w.ownership.epochs.get(VM)).toBe(2);
    const job = await w.jobs.find({ kind: 'provider' }, taskId);
    expect(job?.steps.find((s) => s.key === 'start')?.detail).toMatch(/Checksums equal/);
    // The reversed direction's first cycle resyncs from the new primary.
    await w.service.tickCycles();
    expect(await w.engine.wait(cycleWorkflowId(id, 2, 1), WAIT)).toBe('succeeded');
    const last = w.agents.calls.filter((c) => c.kind === 'replica.cycle').at(-1);
    expect(last?.hostId).toBe(REPLICA.host);
    expect(last?.params.mode).toBe('resync');
  });

  it('planned failover stops when checksums differ, and nothing moves', async () => {
    const w = world();
    const id = await replicating(w);
    const original = w.agents.run.bind(w.agents);
    w.agents.run = async (req) => {
      const out = await original(req);
      return req.kind === 'replica.failover' ? { disks: [{ name: 'disk0', sha256: 'different' }] } : out;
    };
    const { taskId } = await w.service.plannedFailover(tenant, actor, VM);
    expect(await w.engine.wait(taskId, WAIT)).toBe('failed');
    const job = await w.jobs.find({ kind: 'provider' }, taskId);
    expect(job?.errorCode).toBe('REPLICA_CHECKSUM_MISMATCH');
    expect(w.ownership.placement.get(VM)).toBeUndefined();
    expect(w.repo.relationships.get(id)?.state).toBe('error');
  });

  it('unplanned failover to a chosen point; cancel returns to replicating, complete keeps it; reverse resyncs', async () => {
    const w = world();
    const id = await replicating(w);
    const first = (await w.repo.listPoints(tenant, id))[0];
    w.agents.write(VM, 3);
    w.clock.advance(3_600_000); // next hour: the first point stays as an hourly point
    await w.service.tickCycles();
    await w.engine.wait(cycleWorkflowId(id, 1, 2), WAIT);
    w.agents.down.add(PRIMARY.host);
    w.repo.hosts.set(PRIMARY.host, { ...(w.repo.hosts.get(PRIMARY.host) as HostInfo), state: 'failed' });

    const a = await w.service.failover(tenant, actor, VM, first?.id);
    expect(await w.engine.wait(a.taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.get(id)?.state).toBe('failover-pending');
    expect(w.agents.primaryWrites.get(VM)).toBe(0); // the writes after that point are lost: 3 of them
    const c = await w.service.cancelFailover(tenant, actor, VM);
    expect(await w.engine.wait(c.taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.get(id)?.state).toBe('replicating');

    const b = await w.service.failover(tenant, actor, VM);
    expect(await w.engine.wait(b.taskId, WAIT)).toBe('succeeded');
    const done = await w.service.completeFailover(tenant, actor, VM);
    expect(await w.engine.wait(done.taskId, WAIT)).toBe('succeeded');
    expect(w.repo.relationships.get(id)?.state).toBe('failed-over');
    await expectRefused(w.service.reverse(tenant, actor, VM), 'REPLICATION_INVALID_STATE');

    w.agents.down.delete(PRIMARY.host);
    w.repo.hosts.set(PRIMARY.host, { ...(w.repo.hosts.get(PRIMARY.host) as HostInfo), state: 'connected' });
    const r = await w.service.reverse(tenant, actor, VM);
    expect(await w.engine.wait(r.taskId, WAIT)).toBe('succeeded');
    const rel = w.repo.relationships.get(id);
    expect(rel?.state).toBe('replicating');
    expect(rel?.primaryHostId).toBe(REPLICA.host);
    const resync = w.agents.calls.filter((x) => x.kind === 'replica.cycle').at(-1);
    expect(resync?.params.mode).toBe('resync');
    expect(resync?.hostId).toBe(REPLICA.host);
  });
});
