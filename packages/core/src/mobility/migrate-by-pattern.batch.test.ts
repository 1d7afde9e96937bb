/**
 * Migrate by pattern with the real single migration (MigrateVm) and placement
 * engine: the matching VMs are decided as one batch, so "best" spreads them as
 * the engine scores and a named host refuses the VMs it has no room left for.
 */
import { describe, expect, it } from 'vitest';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot } from '../placement/snapshot';
import { aCluster, aHost } from '../placement/testing/builders';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import type { WorkflowEngine } from '../workflows/workflow';
import { MigrateByPattern } from './migrate-by-pattern';
import { MigrateVm, type MigrationRecord, type MobilityStore, type MobilityVm } from './migrate-vm';
import { migrateByPatternInput } from './mobility.schema';

const GiB = 1024;
const T1 = '10000000-0000-4000-8000-000000000001';
const ADMIN: Actor = { type: 'user', id: 'u1', label: 'admin' };
const PROVIDER: TenantScope = { kind: 'provider' };
const hostId = (n: number) => `30000000-0000-4000-8000-00000000000${n}`;

/** Three 8 GiB web VMs on hv-01; three empty hosts of 64 GiB usable and hv-05 with room for two of them (18 GiB free). */
function setup(policy: ClusterSnapshot['policy'] = 'balance') {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const vms: MobilityVm[] = [1, 2, 3].map((i) => ({
    id: `20000000-0000-4000-8000-00000000000${i}`,
    name: `web-0${i}`,
    tenantId: T1,
    hostId: hostId(1),
    clusterId: 'c1',
    state: 'running',
    vcpus: 2,
    memoryMiB: 8 * GiB,
  }));
  const host = (n: number, allocated = { vcpus: 0, memoryMiB: 0, vmCount: 0 }) =>
    aHost({ id: hostId(n), name: `hv-0${n}`, memoryMiB: 66 * GiB, reservedMemoryMiB: 2 * GiB, allocated });
  const cluster = aCluster(
    [
      host(1, { vcpus: 6, memoryMiB: 24 * GiB, vmCount: 3 }),
      host(2),
      host(3),
      host(4),
      host(5, { vcpus: 6, memoryMiB: 46 * GiB, vmCount: 3 }),
    ],
    { id: 'c1', policy },
  );
  const placement = {
    clusterSnapshot: async () => cluster,
    clusterOfHost: async (id: string) => (cluster.hosts.some((h) => h.id === id) ? 'c1' : null),
    placementClusters: async () => [{ id: 'c1', name: 'Production' }],
    vmsInCluster: async () => [],
  } as unknown as PlacementStore;
  const records = new Map<string, MigrationRecord>();
  const store: MobilityStore = {
    findVm: async (_scope, id) => vms.find((vm) => vm.id === id) ?? null,
    cpuShare: async () => 0.2,
    epochOf: async () => 1,
    transfer: async () => 2,
    spec: async (vmId) => ({ vmId }),
    readRecord: async (id) => records.get(id) ?? null,
    writeRecord: async (id, r) => {
      records.set(id, r);
    },
    history: async () => [],
  };
  const started: string[] = [];
  // Started workflows are only counted: what matters here is each request's plan.
  const workflows: WorkflowEngine = {
    register: () => undefined,
    start: async (_definition, _input, { workflowId }) => {
      started.push(workflowId);
    },
    wait: async () => 'running' as never,
  };
  let n = 0;
  const migrate = new MigrateVm({
    uow: inMemoryUnitOfWork({ jobs }),
    placement,
    store,
    agents: { run: async () => ({}) },
    workflows,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId: () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  const byPattern = new MigrateByPattern({
    migrate,
    findVms: async (_scope, re) => vms.filter((vm) => re.test(vm.name)),
  });
  return { byPattern, migrate, records, started };
}

const input = (to: string) => migrateByPatternInput.parse({ pattern: 'web*', to });

describe('migrate by pattern decides the matching VMs as one batch', () => {
  it('"best" spreads them as the engine scores (balance): each sees the ones before it booked', async () => {
    const t = setup();
    // Alone, each VM would go to the same emptiest host (the engine's tie order).
    const alone = await Promise.all(
      ['1', '2', '3'].map((i) =>
        t.migrate.preview(PROVIDER, { vmId: `20000000-0000-4000-8000-00000000000${i}`, to: 'best' }),
      ),
    );
    expect(new Set(alone.map((p) => p.toHostId)).size).toBe(1);
    const preview = await t.byPattern.preview(PROVIDER, input('best'));
    const previewed = preview.items.map((i) => i.detail?.match(/to (hv-\d+)/)?.[1]);
    expect(new Set(previewed).size).toBe(3);
    expect(previewed.every((h) => h && ['hv-02', 'hv-03', 'hv-04'].includes(h))).toBe(true);
    const result = await t.byPattern.migrate(ADMIN, PROVIDER, input('best'));
    expect(result.items.every((i) => i.ok)).toBe(true);
    const destinations = [...t.records.values()].map((r) => r.toHostName);
    expect(destinations).toEqual(previewed);
    expect(t.started).toHaveLength(3);
  });

  it('"best" under pack fills one host, as the engine scores packing', async () => {
    const t = setup('pack');
    const preview = await t.byPattern.preview(PROVIDER, input('best'));
    const previewed = preview.items.map((i) => i.detail?.match(/to (hv-\d+)/)?.[1]);
    // hv-05 (18 GiB free of 64) takes two; the third goes to an empty host.
    expect(previewed.filter((h) => h === 'hv-05')).toHaveLength(2);
    expect(new Set(previewed).size).toBe(2);
  });

  it('a named host takes the VMs it has room for and refuses the rest, saying why; nothing is requested for those', async () => {
    const t = setup();
    const preview = await t.byPattern.preview(PROVIDER, input(hostId(5)));
    expect(preview.items.map((i) => i.ok)).toEqual([true, true, false]);
    expect(preview.items[2]?.reason).toMatch(/hv-05 cannot take 'web-03'.*memory/);
    const result = await t.byPattern.migrate(ADMIN, PROVIDER, input(hostId(5)));
    expect(result.items.map((i) => i.ok)).toEqual([true, true, false]);
    expect([...t.records.values()].map((r) => r.toHostName)).toEqual(['hv-05', 'hv-05']);
    expect(t.started).toHaveLength(2);
  });
});
