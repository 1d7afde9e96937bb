import { describe, expect, it } from 'vitest';
import { applyPlacement } from './place';
import { PlacementError } from './placement.errors';
import type { ClusterSnapshot, HaPriority, PlacementRequest } from './snapshot';
import { aCluster, aRequest, hosts } from './testing/builders';
import { evacuationPlan, nPlusOne, type VmOnHost } from './what-if';

const GiB = 1024;

/** Builds a cluster by really placing the VMs, so the snapshot and the VM list agree. */
function populated(cluster: ClusterSnapshot, vms: readonly VmOnHost[]): ClusterSnapshot {
  return vms.reduce((c, vm) => applyPlacement(c, vm.request, vm.currentHostId), cluster);
}

const vm = (
  name: string,
  memoryGiB: number,
  hostId: string,
  haPriority: HaPriority = 'medium',
  extra: Partial<PlacementRequest> = {},
): VmOnHost => ({
  request: aRequest({ vmId: name, name, memoryMiB: memoryGiB * GiB, haPriority, ...extra }),
  currentHostId: hostId,
});

// Three hosts of 34 GiB (32 GiB usable each).
const small = aCluster(hosts(3, { memoryMiB: 34 * GiB }));

describe('evacuationPlan', () => {
  it('moves every VM when the others have room, high priority and bigger first', () => {
    const vms = [
      vm('a', 8, 'hv-01', 'low'),
      vm('b', 16, 'hv-01', 'low'),
      vm('c', 4, 'hv-01', 'high'),
      vm('x', 8, 'hv-02'),
    ];
    const plan = evacuationPlan(populated(small, vms), 'hv-01', vms, { seed: 1 });
    expect(plan.ok).toBe(true);
    expect(plan.moves.map((m) => m.name)).toEqual(['c', 'b', 'a']);
    expect(plan.moves.every((m) => m.toHostId === 'hv-02' || m.toHostId === 'hv-03')).toBe(true);
  });

  it('says which VM cannot move and why', () => {
    const vms = [
      vm('big', 24, 'hv-01'),
      vm('fill-2', 20, 'hv-02'),
      vm('fill-3', 20, 'hv-03'),
      vm('tiny', 2, 'hv-01', 'off'),
    ];
    const plan = evacuationPlan(populated(small, vms), 'hv-01', vms, { seed: 1 });
    expect(plan.ok).toBe(false);
    expect(plan.unmovable).toBe(1);
    const big = plan.moves.find((m) => m.name === 'big');
    expect(big?.toHostId).toBeNull();
    expect(big?.summary).toBe('No host fits: 2 hosts short of memory');
    expect(plan.moves.find((m) => m.name === 'tiny')?.toHostId).not.toBeNull();
  });

  it('moves account for each other: two 10 GiB VMs do not both land in 12 GiB', () => {
    const vms = [vm('a', 10, 'hv-01'), vm('b', 10, 'hv-01'), vm('f2', 20, 'hv-02'), vm('f3', 20, 'hv-03')];
    const plan = evacuationPlan(populated(small, vms), 'hv-01', vms, { seed: 1 });
    expect(new Set(plan.moves.map((m) => m.toHostId))).toEqual(new Set(['hv-02', 'hv-03']));
  });

  it('keeps hard anti-affinity among the moved VMs', () => {
    const web = [{ name: 'web', kind: 'anti-affinity' as const, hard: true }];
    const vms = [vm('w1', 2, 'hv-01', 'high', { groups: web }), vm('w2', 2, 'hv-02', 'high', { groups: web })];
    const plan = evacuationPlan(populated(small, vms), 'hv-01', vms, { seed: 1 });
    expect(plan.moves[0]?.toHostId).toBe('hv-03');
  });

  it('an unknown host is a typed error', () => {
    expect(() => evacuationPlan(small, 'nope', [], { seed: 1 })).toThrow(PlacementError);
  });
});

describe('nPlusOne', () => {
  it('ok when any one host can be lost', () => {
    const vms = [vm('a', 10, 'hv-01'), vm('b', 10, 'hv-02'), vm('c', 10, 'hv-03')];
    const result = nPlusOne(populated(small, vms), vms, { seed: 1 });
    expect(result.ok).toBe(true);
    expect(result.perHost).toHaveLength(3);
    expect(result.perHost.every((h) => h.placed === 1)).toBe(true);
  });

  it('names the worst host and the VMs that would stay down', () => {
    const vms = [
      vm('big', 24, 'hv-01', 'high'),
      vm('b', 20, 'hv-02'),
      vm('c', 20, 'hv-03'),
      vm('scratch', 6, 'hv-01', 'off'), // not HA: not re-placed, so it cannot fail the check
    ];
    const result = nPlusOne(populated(small, vms), vms, { seed: 1 });
    expect(result.ok).toBe(false);
    expect(result.hostName).toBe('hv-01');
    expect(result.unplaced).toEqual([{ vmId: 'big', name: 'big', summary: 'No host fits: 2 hosts short of memory' }]);
    // Losing hv-02 or hv-03 fails too: its 20 GiB VM fits neither the other (12 GiB free) nor hv-01 (2 GiB free).
    expect(result.perHost.map((h) => [h.hostName, h.ok])).toEqual([
      ['hv-01', false],
      ['hv-02', false],
      ['hv-03', false],
    ]);
  });

  it('only HA VMs are re-placed', () => {
    const vms = [vm('a', 30, 'hv-01', 'off'), vm('b', 30, 'hv-02', 'off'), vm('c', 30, 'hv-03', 'off')];
    const result = nPlusOne(populated(small, vms), vms, { seed: 1 });
    expect(result.ok).toBe(true);
    expect(result.placed).toBe(0);
  });

  it("'largest' checks only the host with the most allocated memory", () => {
    const vms = [vm('a', 4, 'hv-01'), vm('b', 12, 'hv-02'), vm('c', 8, 'hv-03')];
    const result = nPlusOne(populated(small, vms), vms, { seed: 1, hosts: 'largest' });
    expect(result.perHost.map((h) => h.hostName)).toEqual(['hv-02']);
    expect(result.ok).toBe(true);
  });

  it('a one-host cluster cannot lose its host', () => {
    const one = aCluster(hosts(1));
    const vms = [vm('a', 4, 'hv-01')];
    const result = nPlusOne(populated(one, vms), vms, { seed: 1 });
    expect(result.ok).toBe(false);
    expect(result.unplaced[0]?.summary).toBe('No host fits: the cluster has no hosts');
  });
});
