import { describe, expect, it } from 'vitest';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot } from '../placement/snapshot';
import { aCluster, aHost } from '../placement/testing/builders';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import {
  MigrateVm,
  type MigrationAgentPort,
  type MigrationRecord,
  MigrationTaskFailed,
  type MigrationTaskRequest,
  type MobilityStore,
  type MobilityVm,
} from './migrate-vm';
import { MobilityError } from './mobility.errors';

const GiB = 1024;
const T1 = '10000000-0000-4000-8000-000000000001';
const T2 = '10000000-0000-4000-8000-000000000002';
const VM = '20000000-0000-4000-8000-000000000001';
const ADMIN: Actor = { type: 'user', id: 'u1', label: 'admin' };
const PROVIDER: TenantScope = { kind: 'provider' };

function setup(options: { failOn?: string; vmState?: string } = {}) {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const cluster: ClusterSnapshot = aCluster(
    [
      aHost({ id: 'hv-01', allocated: { vcpus: 4, memoryMiB: 8 * GiB, vmCount: 1 } }),
      aHost({ id: 'hv-02' }),
      aHost({ id: 'hv-03', state: 'maintenance' }),
      aHost({ id: 'hv-04', memoryMiB: 6 * GiB }),
      aHost({ id: 'hv-05', dedicatedTenantId: T2 }),
    ],
    { id: 'c1' },
  );
  const vm: { -readonly [K in keyof MobilityVm]: MobilityVm[K] } = {
    id: VM,
    name: 'web-1',
    tenantId: T1,
    hostId: 'hv-01',
    clusterId: 'c1',
    state: options.vmState ?? 'running',
    vcpus: 4,
    memoryMiB: 8 * GiB,
  };
  const placement = {
    clusterSnapshot: async () => cluster,
    clusterOfHost: async (id: string) => (cluster.hosts.some((h) => h.id === id) ? 'c1' : null),
    placementClusters: async () => [{ id: 'c1', name: 'Production' }],
    vmsInCluster: async () => [],
  } as unknown as PlacementStore;
  const records = new Map<string, MigrationRecord>();
  let epoch = 1;
  const store: MobilityStore = {
    findVm: async (scope, id) =>
      id === vm.id && (scope.kind === 'provider' || scope.tenantId === vm.tenantId) ? vm : null,
    cpuShare: async () => 0.4,
    epochOf: async () => epoch,
    transfer: async (_id, to, expect) => {
      if (expect !== epoch) throw new Error('stale');
      epoch += 1;
      vm.hostId = to.hostId;
      return epoch;
    },
    spec: async () => ({ vmId: VM }),
    readRecord: async (id) => records.get(id) ?? null,
    writeRecord: async (id, r) => {
      records.set(id, r);
    },
    history: async () => [],
  };
  const ran: MigrationTaskRequest[] = [];
  const agents: MigrationAgentPort = {
    run: async (req) => {
      ran.push(req);
      if (req.kind === options.failOn) throw new MigrationTaskFailed('BOOM', `${req.kind} broke`);
      if (req.kind === 'migration.precopy') {
        return { passes: [{ pass: 0, mib: 8192, seconds: 7 }], blackoutMs: 90, sentMiB: 8300, converged: true };
      }
      if (req.kind === 'migration.final') return { blackoutMs: 95 };
      if (req.kind === 'migration.disks-receive')
        return { peerUrl: 'http://127.0.0.1:7001', credential: 'c'.repeat(64) };
      if (req.kind === 'migration.disks-copy') {
        return {
          disks: [{ name: 'os', blocks: 256 }],
          bytes: 16 * 1024 * 1024,
          durationMs: 200,
          guestWriteSeqAtStart: 3,
        };
      }
      if (req.kind === 'migration.disks-handover') {
        return { disks: [{ name: 'os', blocks: 260 }], guestWriteSeq: 40, mirroredWrites: 37 };
      }
      return {};
    },
  };
  const engine = new InMemoryWorkflowEngine();
  let n = 0;
  const useCase = new MigrateVm({
    uow: inMemoryUnitOfWork({ jobs }),
    placement,
    store,
    agents,
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId: () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    sleep: async () => undefined,
  });
  engine.register(useCase.workflow);
  return {
    useCase,
    engine,
    ran,
    records,
    vm,
    jobs,
    get epoch() {
      return epoch;
    },
  };
}

describe('MigrateVm', () => {
  it('live-migrates through both hosts in the whitepaper order, ownership moved once', async () => {
    const t = setup();
    const { taskId, plan } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'best' });
    expect(plan.toHostId).not.toBe('hv-01');
    expect(plan.explanation).toMatch(/^Placed on/);
    await t.engine.wait(taskId, 1000);
    expect(t.ran.map((r) => `${r.kind}@${r.hostId}`)).toEqual([
      `migration.prepare@${plan.toHostId}`,
      `migration.disks-receive@${plan.toHostId}`,
      'migration.disks-copy@hv-01',
      'migration.precopy@hv-01',
      'migration.final@hv-01',
      'migration.disks-handover@hv-01',
      `migration.activate@${plan.toHostId}`,
      'migration.cleanup@hv-01',
    ]);
    // The source sends the disks where, and with what, the destination said.
    expect(t.ran.find((r) => r.kind === 'migration.disks-copy')?.params).toMatchObject({
      peerUrl: 'http://127.0.0.1:7001',
      credential: 'c'.repeat(64),
    });
    expect(t.vm.hostId).toBe(plan.toHostId);
    expect(t.epoch).toBe(2);
    const job = await t.jobs.find(PROVIDER, taskId);
    expect(job?.state).toBe('succeeded');
    expect(job?.steps.map((s) => s.key)).toEqual([
      'queue',
      'setup',
      'storage-copy',
      'precopy',
      'final',
      'storage',
      'online',
      'cleanup',
    ]);
    expect(job?.steps.map((s) => s.state)).toEqual(Array(8).fill('done'));
    expect(job?.steps.find((s) => s.key === 'storage-copy')?.detail).toMatch(
      /^1 disks, 16\.0 MiB copied to .* in 200 ms, 80 MiB\/s; writes mirrored since guest write 3$/,
    );
    expect(job?.steps.find((s) => s.key === 'storage')?.detail).toMatch(
      /1 disks equal on .* at guest write 40 \(37 writes/,
    );
  });

  it('a cold move copies the disks too, then hands them over, without memory passes', async () => {
    const t = setup({ vmState: 'off' });
    const { taskId, plan } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await t.engine.wait(taskId, 1000);
    expect(t.ran.map((r) => r.kind)).toEqual([
      'migration.prepare',
      'migration.disks-receive',
      'migration.disks-copy',
      'migration.disks-handover',
      'migration.activate',
      'migration.cleanup',
    ]);
    expect(t.ran.find((r) => r.kind === 'migration.activate')?.params).toMatchObject({ start: false });
    expect(t.vm.hostId).toBe(plan.toHostId);
    const job = await t.jobs.find(PROVIDER, taskId);
    expect(job?.steps.map((s) => s.key)).toEqual(['queue', 'setup', 'storage-copy', 'storage', 'online', 'cleanup']);
  });

  it('a failure while the disks copy: the mirror stops, the destination copy goes, the VM stays on the source', async () => {
    const t = setup({ failOn: 'migration.disks-copy' });
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await t.engine.wait(taskId, 1000);
    expect(t.vm.hostId).toBe('hv-01');
    expect(t.epoch).toBe(1);
    expect(t.ran.map((r) => `${r.kind}@${r.hostId}`)).toEqual([
      'migration.prepare@hv-02',
      'migration.disks-receive@hv-02',
      'migration.disks-copy@hv-01',
      'migration.disks-abort@hv-01',
      'migration.abort@hv-02',
    ]);
    const job = await t.jobs.find(PROVIDER, taskId);
    expect(job?.state).toBe('failed');
    expect(job?.steps.find((s) => s.key === 'storage-copy')?.state).toBe('failed');
    expect(job?.steps.find((s) => s.key === 'precopy')?.state).toBe('pending');
  });

  it('cancel while the disks copy: cancelled, the mirror stopped and the destination copy deleted', async () => {
    const t = setup();
    const gate = t.engine.holdBefore('storage-copy-done');
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await gate.reached;
    await t.useCase.cancel(PROVIDER, taskId);
    gate.release();
    await t.engine.wait(taskId, 1000);
    expect(t.vm.hostId).toBe('hv-01');
    expect(t.records.get(taskId)?.outcome).toBe('cancelled');
    expect(t.ran.map((r) => `${r.kind}@${r.hostId}`).slice(-2)).toEqual([
      'migration.disks-abort@hv-01',
      'migration.abort@hv-02',
    ]);
    expect(t.ran.map((r) => r.kind)).not.toContain('migration.precopy');
  });

  it('the destination refusing the handover after the final copy: the VM runs on the source again', async () => {
    const t = setup({ failOn: 'migration.disks-handover' });
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await t.engine.wait(taskId, 1000);
    expect(t.vm.hostId).toBe('hv-01');
    expect(t.ran.map((r) => r.kind).slice(-4)).toEqual([
      'migration.disks-handover',
      'migration.disks-abort',
      'migration.abort',
      'migration.abort',
    ]);
    expect(t.ran.at(-1)?.params).toMatchObject({ side: 'source' });
    expect(t.ran.map((r) => r.kind)).not.toContain('migration.activate');
  });

  it('refuses bad targets with the reason and writes nothing', async () => {
    const t = setup();
    const refuse = (to: string, code: string, message: RegExp) =>
      expect(t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to })).rejects.toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    await refuse('hv-03', 'MIGRATION_TARGET_REFUSED', /maintenance/);
    await refuse('hv-04', 'MIGRATION_TARGET_REFUSED', /memory short/);
    await refuse('hv-05', 'MIGRATION_TARGET_REFUSED', /dedicated/);
    await refuse('hv-01', 'MIGRATION_SAME_HOST', /already runs/);
    await refuse('hv-99', 'MIGRATION_TARGET_NOT_FOUND', /No host/);
    // "best" in a cluster that does not exist (hostile probe: it was a 500 from the cluster read).
    await expect(
      t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'best', toClusterId: '00000000-0000-4000-8000-00000000c999' }),
    ).rejects.toMatchObject({ code: 'MIGRATION_TARGET_NOT_FOUND', message: expect.stringMatching(/No cluster/) });
    await expect(
      t.useCase.request(ADMIN, { kind: 'tenant', tenantId: T2 }, { vmId: VM, to: 'hv-02' }),
    ).rejects.toBeInstanceOf(MobilityError);
    expect(t.ran).toEqual([]);
    expect(t.records.size).toBe(0);
  });

  it('a VM already migrating is refused', async () => {
    const t = setup();
    const gate = t.engine.holdBefore('queue');
    await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await expect(t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' })).rejects.toMatchObject({
      code: 'MIGRATION_ALREADY_ACTIVE',
    });
    gate.release();
  });

  it('a failure before the final copy leaves the VM on the source and removes the skeleton', async () => {
    const t = setup({ failOn: 'migration.precopy' });
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await t.engine.wait(taskId, 1000);
    expect(t.vm.hostId).toBe('hv-01');
    expect(t.epoch).toBe(1);
    expect(t.ran.map((r) => r.kind)).toEqual([
      'migration.prepare',
      'migration.disks-receive',
      'migration.disks-copy',
      'migration.precopy',
      'migration.disks-abort',
      'migration.abort',
    ]);
    const job = await t.jobs.find(PROVIDER, taskId);
    expect(job?.state).toBe('failed');
    expect(job?.errorCode).toBe('MIGRATION_HOST_FAILED');
    expect(t.records.get(taskId)?.outcome).toBe('failed');
  });

  it('cancel before the final copy: cancelled, VM stays on the source', async () => {
    const t = setup();
    const gate = t.engine.holdBefore('final-gate');
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: VM, to: 'hv-02' });
    await gate.reached;
    await t.useCase.cancel(PROVIDER, taskId);
    gate.release();
    await t.engine.wait(taskId, 1000);
    expect(t.vm.hostId).toBe('hv-01');
    expect(t.records.get(taskId)?.outcome).toBe('cancelled');
    expect((await t.jobs.find(PROVIDER, taskId))?.errorCode).toBe('MIGRATION_CANCELLED');
    expect(t.ran.map((r) => r.kind)).not.toContain('migration.final');
  });
});
