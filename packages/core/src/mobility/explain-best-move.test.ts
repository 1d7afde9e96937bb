import { describe, expect, it } from 'vitest';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import type { HostSnapshot } from '../placement/snapshot';
import { aCluster, aHost } from '../placement/testing/builders';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import { MigrateVm, type MobilityStore } from './migrate-vm';
import { MobilityError } from './mobility.errors';

const VM = '20000000-0000-4000-8000-000000000001';
const GiB = 1024;

/** A VM of 8 GiB on hv-01 (its source) in a cluster of the given other hosts. */
function previewBest(others: HostSnapshot[]) {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const cluster = aCluster([
    aHost({ id: 'hv-01', allocated: { vcpus: 4, memoryMiB: 8 * GiB, vmCount: 1 } }),
    ...others,
  ]);
  const placement = {
    clusterSnapshot: async () => cluster,
    clusterOfHost: async (id: string) => (cluster.hosts.some((h) => h.id === id) ? 'c1' : null),
    placementClusters: async () => [{ id: 'c1', name: 'Production' }],
    vmsInCluster: async () => [],
  } as unknown as PlacementStore;
  const store = {
    findVm: async () => ({
      id: VM,
      name: 'web-1',
      tenantId: 't1',
      hostId: 'hv-01',
      clusterId: 'c1',
      state: 'off',
      vcpus: 4,
      memoryMiB: 8 * GiB,
    }),
    cpuShare: async () => null,
  } as unknown as MobilityStore;
  const useCase = new MigrateVm({
    uow: inMemoryUnitOfWork({ jobs }),
    placement,
    store,
    agents: { run: async () => ({}) },
    workflows: new InMemoryWorkflowEngine(),
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId: () => '90000000-0000-4000-8000-000000000001',
  });
  return useCase.preview({ kind: 'provider' }, { vmId: VM, to: 'best' });
}

describe('migration to "best": the VM’s own host is neither offered nor counted', () => {
  it('counts the other hosts only: the source is not one of the hosts that fit or not', async () => {
    const plan = await previewBest([aHost({ id: 'hv-02' }), aHost({ id: 'hv-03', state: 'maintenance' })]);
    expect(plan.toHostId).toBe('hv-02');
    expect(plan.explanation).toMatch(/^Placed on hv-02 \(score [\d.]+ of 100; 1 of 2 other hosts fit\)$/);
  });

  it('when nothing fits, the maintenance count is the real one (the source is not "in maintenance")', async () => {
    const error = await previewBest([
      aHost({ id: 'hv-02', state: 'maintenance' }),
      aHost({ id: 'hv-03', memoryMiB: 6 * GiB }),
      aHost({ id: 'hv-04', state: 'suspect' }),
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MobilityError);
    expect((error as MobilityError).code).toBe('MIGRATION_NO_TARGET');
    expect((error as MobilityError).message).toMatch(/No other host fits: /);
    expect((error as MobilityError).message).toMatch(/\b1 host in maintenance\b/);
    expect((error as MobilityError).message).not.toMatch(/2 hosts in maintenance/);
    expect((error as MobilityError).message).toMatch(/1 host suspect/);
  });

  it('one other host that does not fit gives its own reason, with its numbers', async () => {
    const error = await previewBest([aHost({ id: 'hv-02', memoryMiB: 6 * GiB })]).catch((e: unknown) => e);
    expect((error as MobilityError).message).toMatch(/No other host fits: hv-02: .*memory/);
  });

  it('a cluster of one host says so, instead of calling the source "in maintenance"', async () => {
    const error = await previewBest([]).catch((e: unknown) => e);
    expect((error as MobilityError).message).toBe(
      'web-1 cannot move: No other host: the cluster has only the one this VM runs on',
    );
  });
});
