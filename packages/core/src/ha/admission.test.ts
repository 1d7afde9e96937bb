import { describe, expect, it } from 'vitest';
import { applyPlacement } from '../placement/place';
import type { PlacementStore } from '../placement/placement-store';
import type { ClusterSnapshot, HaPriority, PlacementRequest } from '../placement/snapshot';
import { aCluster, aHost, aRequest } from '../placement/testing/builders';
import type { VmOnHost } from '../placement/what-if';
import { admissionRefusal, HaAdmission } from './admission';
import { type HaSettings, haSettingsSchema } from './ha-settings';

const GiB = 1024;

const vm = (
  name: string,
  memoryGiB: number,
  hostId: string,
  opts: { priority?: HaPriority; live?: boolean; vcpus?: number } = {},
): VmOnHost => ({
  request: aRequest({
    vmId: name,
    name,
    memoryMiB: memoryGiB * GiB,
    vcpus: opts.vcpus ?? 1,
    haPriority: opts.priority ?? 'medium',
  }),
  currentHostId: hostId,
  live: opts.live ?? true,
});

/** The cluster with the VMs really placed (stopped ones hold their reservation too), and the VM list. */
function cluster(base: ClusterSnapshot, vms: VmOnHost[]) {
  return { snapshot: vms.reduce((c, v) => applyPlacement(c, v.request, v.currentHostId), base), vms };
}

const on = (patch: Partial<HaSettings> = {}) =>
  haSettingsSchema.parse({ enabled: true, admissionControl: true, ...patch });

// hv-big: 64 GiB usable, hv-small: 32 GiB usable (each host keeps 2 GiB for the parent partition).
const twoHosts = aCluster([
  aHost({ id: 'hv-big', memoryMiB: 66 * GiB }),
  aHost({ id: 'hv-small', memoryMiB: 34 * GiB }),
]);

describe('host failures to tolerate', () => {
  const before = [vm('a', 16, 'hv-big'), vm('b', 16, 'hv-big', { live: false }), vm('c', 8, 'hv-small')];

  it('admits a cluster that can restart every running HA VM after losing any one host', () => {
    const { snapshot, vms } = cluster(twoHosts, before);
    expect(admissionRefusal(on(), snapshot, vms)).toBeNull();
  });

  it('refuses the start that would leave a host’s HA VMs without room, naming the limit and the host', () => {
    // Started, b must restart with a after hv-big fails: 32 GiB, and hv-small has 24 GiB free.
    const started = before.map((v) => (v.request.name === 'b' ? { ...v, live: true } : v));
    const { snapshot, vms } = cluster(twoHosts, started);
    const refusal = admissionRefusal(on(), snapshot, vms);
    expect(refusal?.policy).toBe('host-failures');
    expect(refusal?.message).toContain('tolerate 1 host failure');
    expect(refusal?.message).toContain('if hv-big failed, 1 of 2 running HA VMs');
  });

  it('does not count VMs with no automatic restart as needing room, but counts the room they take', () => {
    const started = before.map((v) =>
      v.request.name === 'b' ? { ...v, live: true, request: { ...v.request, haPriority: 'off' as const } } : v,
    );
    const { snapshot, vms } = cluster(twoHosts, started);
    expect(admissionRefusal(on(), snapshot, vms)).toBeNull();
    // 20 GiB more on hv-big (HA off) leaves 12 free there: hv-small's c (8) still fits, so admitted; 28 does not.
    const more = cluster(twoHosts, [...started, vm('d', 28, 'hv-big', { priority: 'off' })]);
    expect(admissionRefusal(on(), more.snapshot, more.vms)?.message).toContain('if hv-small failed');
  });

  it('is not enforced with admission control off or HA off', () => {
    const started = before.map((v) => ({ ...v, live: true }));
    const { snapshot, vms } = cluster(twoHosts, started);
    expect(admissionRefusal(on({ admissionControl: false }), snapshot, vms)).toBeNull();
    expect(admissionRefusal(on({ enabled: false }), snapshot, vms)).toBeNull();
    expect(admissionRefusal(on(), snapshot, vms)).not.toBeNull();
  });

  it('with two failures to tolerate, checks every pair of hosts', () => {
    const three = aCluster(['hv-1', 'hv-2', 'hv-3'].map((id) => aHost({ id, memoryMiB: 34 * GiB })));
    const { snapshot, vms } = cluster(three, [vm('a', 10, 'hv-1'), vm('b', 10, 'hv-2'), vm('c', 10, 'hv-3')]);
    // One lost: 10 GiB onto two hosts with 22 free each. Two lost: 20 GiB onto one host with 22 free.
    expect(admissionRefusal(on({ hostFailuresToTolerate: 1 }), snapshot, vms)).toBeNull();
    expect(admissionRefusal(on({ hostFailuresToTolerate: 2 }), snapshot, vms)).toBeNull();
    const fuller = cluster(three, [...vms, vm('d', 4, 'hv-3')]);
    const refusal = admissionRefusal(on({ hostFailuresToTolerate: 2 }), fuller.snapshot, fuller.vms);
    expect(refusal?.message).toContain('tolerate 2 host failures');
    expect(refusal?.message).toMatch(/if hv-\d and hv-\d failed/);
    expect(admissionRefusal(on({ hostFailuresToTolerate: 1 }), fuller.snapshot, fuller.vms)).toBeNull();
  });

  it('refuses when the cluster has no more connected hosts than failures to tolerate', () => {
    const one = aCluster([aHost({ id: 'hv-only', memoryMiB: 66 * GiB })]);
    const { snapshot, vms } = cluster(one, [vm('a', 4, 'hv-only')]);
    expect(admissionRefusal(on(), snapshot, vms)?.message).toContain('the cluster has 1 connected host');
    // Nothing running with HA: nothing to restart, nothing to refuse.
    const idle = cluster(one, [vm('a', 4, 'hv-only', { live: false })]);
    expect(admissionRefusal(on(), idle.snapshot, idle.vms)).toBeNull();
  });
});

describe('reserved percentage', () => {
  // Two hosts of 32 GiB usable and 8 vCPUs (8 LPs, no overcommit): 25 % reserved leaves 48 GiB and 12 vCPUs.
  const base = aCluster(
    ['hv-1', 'hv-2'].map((id) => aHost({ id, memoryMiB: 34 * GiB, logicalProcessors: 8 })),
    { cpuOvercommitRatio: 1 },
  );
  const settings = on({ admissionPolicy: 'reserved-percentage', reservedCapacityPercent: 25 });

  it.each([
    { name: 'up to the limit', extra: vm('n', 8, 'hv-2'), refused: null },
    { name: 'memory past it', extra: vm('n', 12, 'hv-2'), refused: 'would use 81 % of its memory' },
    { name: 'a stopped VM (runs nothing)', extra: vm('n', 12, 'hv-2', { live: false }), refused: null },
    { name: 'vCPUs past it', extra: vm('n', 1, 'hv-2', { vcpus: 3 }), refused: 'would use 81 % of its vCPUs' },
  ])('$name', ({ extra, refused }) => {
    const { snapshot, vms } = cluster(base, [
      vm('a', 20, 'hv-1', { vcpus: 5 }),
      vm('b', 20, 'hv-2', { vcpus: 5 }),
      extra,
    ]);
    const refusal = admissionRefusal(settings, snapshot, vms);
    if (refused === null) expect(refusal).toBeNull();
    else {
      expect(refusal?.policy).toBe('reserved-percentage');
      expect(refusal?.message).toContain('keep 25 % of the cluster');
      expect(refusal?.message).toContain(refused);
    }
  });
});

describe('HaAdmission over a placement store', () => {
  const placed = cluster(twoHosts, [
    vm('a', 16, 'hv-big'),
    vm('b', 16, 'hv-big', { live: false }),
    vm('c', 8, 'hv-small'),
  ]);
  const store: PlacementStore = {
    vmsInCluster: async () => placed.vms,
    clusterOfHost: async () => 'c1',
    placementClusters: async () => [{ id: 'c1', name: 'cluster-1' }],
    lockCluster: async () => undefined,
    clusterSnapshot: async () => placed.snapshot,
  };
  const admission = (haSettings: unknown) =>
    new HaAdmission({ ha: { clusterSettings: async () => [{ id: 'c1', name: 'cluster-1', haSettings }] } });
  const newVm = (memoryGiB: number, live: boolean): { request: PlacementRequest; hostId: string; live: boolean } => ({
    request: aRequest({ name: 'new', memoryMiB: memoryGiB * GiB, haPriority: 'high' }),
    hostId: 'hv-big',
    live,
  });

  it('a start turns the stopped VM into one that must restart', async () => {
    const refusal = await admission(on()).refusal(store, 'c1', { kind: 'start', vmId: 'b' });
    expect(refusal?.message).toContain('if hv-big failed');
    expect(await admission(on()).refusal(store, 'c1', { kind: 'start', vmId: 'c' })).toBeNull();
  });

  it('a create is checked with the new VM on the host placement chose', async () => {
    expect(await admission(on()).refusal(store, 'c1', { kind: 'create', vms: [newVm(4, true)] })).toBeNull();
    const refusal = await admission(on()).refusal(store, 'c1', { kind: 'create', vms: [newVm(12, true)] });
    expect(refusal?.message).toContain('if hv-big failed');
  });

  it('stored settings without admission control (the default) refuse nothing', async () => {
    expect(await admission({}).refusal(store, 'c1', { kind: 'start', vmId: 'b' })).toBeNull();
  });
});
