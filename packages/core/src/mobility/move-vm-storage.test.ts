import { describe, expect, it } from 'vitest';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import { aCluster, aHost } from '../placement/testing/builders';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import {
  MIGRATE_VM_JOB_KIND,
  type MigrationAgentPort,
  MigrationTaskFailed,
  type MigrationTaskRequest,
  type MobilityStore,
  type MobilityVm,
} from './migrate-vm';
import { MoveVmStorage, type StorageMoveRecord, type StorageMoveStore, type VmDiskPlacement } from './move-vm-storage';

const GIB = 1024 ** 3;
const T1 = '10000000-0000-4000-8000-000000000001';
const T2 = '10000000-0000-4000-8000-000000000002';
const vmId = (i: number) => `20000000-0000-4000-8000-00000000000${i}`;
const ADMIN: Actor = { type: 'user', id: 'u1', label: 'admin' };
const PROVIDER: TenantScope = { kind: 'provider' };

function setup(options: { failOn?: string; hold?: boolean } = {}) {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const cluster = aCluster(
    [
      aHost({
        id: 'hv-01',
        storagePools: [
          { name: 'slow', capacityBytes: 1000 * GIB, allocatedBytes: 500 * GIB },
          { name: 'fast', capacityBytes: 100 * GIB, allocatedBytes: 40 * GIB }, // 60 GiB free
        ],
      }),
    ],
    { id: 'c1' },
  );
  const vms: MobilityVm[] = [1, 2, 3].map((i) => ({
    id: vmId(i),
    name: `web-${i}`,
    tenantId: T1,
    hostId: 'hv-01',
    clusterId: 'c1',
    state: 'running',
    vcpus: 1,
    memoryMiB: 1024,
  }));
  const disks = new Map<string, VmDiskPlacement[]>(
    vms.map((vm) => [
      vm.id,
      [
        { name: 'os', pool: 'slow', sizeBytes: 20 * GIB },
        { name: 'data', pool: 'slow', sizeBytes: 100 * GIB },
      ],
    ]),
  );
  const placement = { clusterSnapshot: async () => cluster } as unknown as PlacementStore;
  const records = new Map<string, StorageMoveRecord>();
  const store = {
    findVm: async (scope: TenantScope, id: string) =>
      vms.find((vm) => vm.id === id && (scope.kind === 'provider' || scope.tenantId === vm.tenantId)) ?? null,
  } as unknown as MobilityStore;
  const diskStore: StorageMoveStore = {
    disks: async (id) => disks.get(id) ?? [],
    setDiskPool: async (id, names, pool) => {
      disks.set(
        id,
        (disks.get(id) ?? []).map((d) => (names.includes(d.name) ? { ...d, pool } : d)),
      );
    },
    readRecord: async (id) => records.get(id) ?? null,
    writeRecord: async (id, r) => {
      records.set(id, r);
    },
  };
  const ran: MigrationTaskRequest[] = [];
  const copying = new Map<string, () => void>();
  const agents: MigrationAgentPort = {
    run: async (req) => {
      ran.push(req);
      if (req.kind === options.failOn) throw new MigrationTaskFailed('BOOM', `${req.kind} broke`);
      if (req.kind === 'storage.copy' && options.hold) {
        await new Promise<void>((resolve) => copying.set(req.vmId, resolve));
      }
      if (req.kind === 'storage.copy') return { guestWriteSeqAtStart: 10, guestWriteSeq: 30, copiedBytes: 4 * 2 ** 20 };
      if (req.kind === 'storage.sync') return { guestWriteSeq: 40 };
      if (req.kind === 'storage.switch') return { guestWriteSeq: 45, removed: ['disks/x/d0.img'] };
      return {};
    },
  };
  const engine = new InMemoryWorkflowEngine();
  let n = 0;
  const useCase = new MoveVmStorage({
    uow: inMemoryUnitOfWork({ jobs }),
    placement,
    store,
    disks: diskStore,
    agents,
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId: () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    sleep: () => new Promise((resolve) => setTimeout(resolve, 2)),
  });
  engine.register(useCase.workflow);
  return { useCase, engine, ran, records, disks, jobs, copying };
}

const until = async (check: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 500 && !(await check()); i += 1) await new Promise((r) => setTimeout(r, 2));
  expect(await check()).toBe(true);
};

describe('MoveVmStorage', () => {
  it("runs the whitepaper's five steps on the VM's host and records the new pool", async () => {
    const t = setup();
    const { taskId, plan } = await t.useCase.request(ADMIN, PROVIDER, { vmId: vmId(1), toPool: 'fast', disks: ['os'] });
    expect(plan).toMatchObject({ bytes: 20 * GIB, freeBytes: 60 * GIB, live: true });
    await t.engine.wait(taskId, 1000);
    expect(t.ran.map((r) => `${r.kind}@${r.hostId}`)).toEqual([
      'storage.copy@hv-01',
      'storage.sync@hv-01',
      'storage.switch@hv-01',
      'storage.cleanup@hv-01',
    ]);
    expect(t.ran[0]?.params).toEqual({ moveId: taskId, toPool: 'fast', disks: ['os'] });
    const job = await t.jobs.find(PROVIDER, taskId);
    expect(job?.state).toBe('succeeded');
    expect(job?.steps.map((s) => `${s.key}:${s.state}`)).toEqual([
      'queue:done',
      'copy:done',
      'mirror:done',
      'switch:done',
      'delete:done',
    ]);
    expect(t.disks.get(vmId(1))?.map((d) => d.pool)).toEqual(['fast', 'slow']);
    // The guest's write numbers the agent reported, shown with each phase.
    expect(job?.steps.map((s) => s.detail ?? '').join(' | ')).toMatch(
      /guest writes 10 → 30 meanwhile \| destination equals source at guest write 40 \| on fast from guest write 45 \| 1 source files deleted/,
    );
  });

  it('refuses with the reason and writes nothing', async () => {
    const t = setup();
    const refuse = (
      scope: TenantScope,
      request: { vmId: string; toPool: string; disks?: string[] },
      code: string,
      message: RegExp,
    ) =>
      expect(t.useCase.request(ADMIN, scope, request)).rejects.toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    await refuse(PROVIDER, { vmId: vmId(1), toPool: 'nvme' }, 'STORAGE_POOL_NOT_FOUND', /it has: slow, fast/);
    await refuse(PROVIDER, { vmId: vmId(1), toPool: 'slow' }, 'STORAGE_SAME_POOL', /in slow already/);
    // 120 GiB at full size into 60 GiB free.
    await refuse(
      PROVIDER,
      { vmId: vmId(1), toPool: 'fast' },
      'STORAGE_NO_SPACE',
      /60\.0 GiB free; web-1.s disks need 120 GiB/,
    );
    await refuse(
      PROVIDER,
      { vmId: vmId(1), toPool: 'fast', disks: ['swap'] },
      'STORAGE_DISK_NOT_FOUND',
      /no disk "swap"/,
    );
    // Another tenant's VM is not found, exactly like a missing one.
    await refuse(
      { kind: 'tenant', tenantId: T2 },
      { vmId: vmId(1), toPool: 'fast' },
      'MIGRATION_VM_NOT_FOUND',
      /No VM/,
    );
    await t.jobs.create(
      {
        id: '90000000-0000-4000-8000-0000000000ff',
        kind: MIGRATE_VM_JOB_KIND,
        targetType: 'vm',
        targetId: vmId(2),
        targetLabel: 'web-2',
        tenantId: T1,
        requestedBy: 'admin',
        requestedById: 'u1',
        steps: [{ key: 'queue', label: 'queue' }],
        message: '',
      },
      new Date(),
    );
    await refuse(
      PROVIDER,
      { vmId: vmId(2), toPool: 'fast', disks: ['os'] },
      'MIGRATION_ALREADY_ACTIVE',
      /is migrating/,
    );
    expect(t.ran).toEqual([]);
    expect(t.records.size).toBe(0);
  });

  it('at most 2 storage migrations per host at once; a third waits for a slot', async () => {
    const t = setup({ hold: true });
    const ids: string[] = [];
    for (const i of [1, 2, 3]) {
      ids.push((await t.useCase.request(ADMIN, PROVIDER, { vmId: vmId(i), toPool: 'fast', disks: ['os'] })).taskId);
    }
    await until(() => t.copying.size === 2);
    // The third stays queued while two copy; a VM already moving is not moved twice.
    await expect(
      t.useCase.request(ADMIN, PROVIDER, { vmId: vmId(1), toPool: 'fast', disks: ['os'] }),
    ).rejects.toMatchObject({ code: 'MIGRATION_ALREADY_ACTIVE' });
    expect([...t.copying.keys()]).toEqual([vmId(1), vmId(2)]);
    expect((await t.jobs.find(PROVIDER, ids[2] as string))?.steps[0]?.state).toBe('running');
    t.copying.get(vmId(1))?.();
    await t.engine.wait(ids[0] as string, 1000);
    await until(() => t.copying.has(vmId(3)));
    t.copying.get(vmId(2))?.();
    t.copying.get(vmId(3))?.();
    for (const id of ids) expect(await t.engine.wait(id, 1000)).toBe('succeeded');
    expect((await t.jobs.find(PROVIDER, ids[2] as string))?.steps[0]?.detail).toMatch(/within the cap of 2 \(waited\)/);
  });

  it('a failure before the switch aborts: the destination goes, the VM keeps its source pool', async () => {
    const t = setup({ failOn: 'storage.sync' });
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: vmId(1), toPool: 'fast', disks: ['os'] });
    expect(await t.engine.wait(taskId, 1000)).toBe('failed');
    expect(t.ran.map((r) => r.kind)).toEqual(['storage.copy', 'storage.sync', 'storage.abort']);
    expect(t.disks.get(vmId(1))?.map((d) => d.pool)).toEqual(['slow', 'slow']);
    const job = await t.jobs.find(PROVIDER, taskId);
    expect(job?.errorCode).toBe('STORAGE_HOST_FAILED');
    expect(job?.steps.find((s) => s.key === 'mirror')?.state).toBe('failed');
    expect(t.records.get(taskId)?.outcome).toBe('failed');
  });

  it('after the switch there is no undo: a failed cleanup leaves the VM on the destination', async () => {
    const t = setup({ failOn: 'storage.cleanup' });
    const { taskId } = await t.useCase.request(ADMIN, PROVIDER, { vmId: vmId(1), toPool: 'fast', disks: ['os'] });
    expect(await t.engine.wait(taskId, 1000)).toBe('failed');
    expect(t.ran.map((r) => r.kind)).not.toContain('storage.abort');
    expect(t.disks.get(vmId(1))?.map((d) => d.pool)).toEqual(['fast', 'slow']);
  });
});
