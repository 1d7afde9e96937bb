import { describe, expect, it } from 'vitest';
import { aCluster, aHost, aRequest } from '../placement/testing/builders';
import { planEvacuation } from './evacuate-host';
import { describeEvacuation } from './evacuation-summary';

const GiB = 1024;

describe('planEvacuation', () => {
  const hosts = [
    aHost({ id: 'hv-01', allocated: { vcpus: 12, memoryMiB: 96 * GiB, vmCount: 6 } }),
    aHost({ id: 'hv-02' }),
    aHost({ id: 'hv-03' }),
    aHost({ id: 'hv-04' }),
    aHost({ id: 'hv-05', state: 'maintenance' }),
  ];
  const vms = Array.from({ length: 6 }, (_, i) => ({
    request: aRequest({ vmId: `vm-${i}`, name: `web-${i}`, vcpus: 2, memoryMiB: 16 * GiB }),
    currentHostId: 'hv-01',
  }));

  it('spreads the VMs over the other connected hosts, never onto itself or a host in maintenance', () => {
    const plan = planEvacuation(aCluster(hosts), 'hv-01', vms);
    expect(plan.moves).toHaveLength(6);
    expect(plan.unmovable).toEqual([]);
    expect(Object.keys(plan.perTarget).sort()).toEqual(['hv-02', 'hv-03', 'hv-04']);
    expect(Object.values(plan.perTarget)).toEqual([2, 2, 2]);
  });

  it('lists a VM that fits nowhere with the engine’s reason', () => {
    const big = { request: aRequest({ vmId: 'vm-big', name: 'db-big', memoryMiB: 300 * GiB }), currentHostId: 'hv-01' };
    const plan = planEvacuation(aCluster(hosts), 'hv-01', [...vms, big]);
    expect(plan.unmovable).toEqual([
      { vmId: 'vm-big', vmName: 'db-big', reason: expect.stringMatching(/^No other host fits/) },
    ]);
  });

  it('counts only the other hosts: the host being evacuated is not "in maintenance" in the reason', () => {
    // No host of this cluster is in maintenance; the evacuated one is only so on the plan's working copy.
    const cluster = aCluster([
      aHost({ id: 'hv-01', allocated: { vcpus: 2, memoryMiB: 300 * GiB, vmCount: 1 } }),
      aHost({ id: 'hv-02' }),
    ]);
    const big = { request: aRequest({ vmId: 'vm-big', name: 'db-big', memoryMiB: 300 * GiB }), currentHostId: 'hv-01' };
    const plan = planEvacuation(cluster, 'hv-01', [big]);
    expect(plan.unmovable).toHaveLength(1);
    expect(plan.unmovable[0]?.reason).toMatch(/^No other host fits: hv-02/);
    expect(plan.unmovable[0]?.reason).not.toMatch(/maintenance/);
  });

  it('a real host in maintenance is still counted, the evacuated one is not', () => {
    const big = { request: aRequest({ vmId: 'vm-big', name: 'db-big', memoryMiB: 300 * GiB }), currentHostId: 'hv-01' };
    const reason = planEvacuation(aCluster(hosts), 'hv-01', [big]).unmovable[0]?.reason;
    expect(reason).toMatch(/\b1 host in maintenance\b/);
    expect(reason).toMatch(/\b3 hosts\b/);
  });

  it('a host whose VMs all cannot move does not say it has none', () => {
    const cluster = aCluster([aHost({ id: 'hv-01', allocated: { vcpus: 2, memoryMiB: 300 * GiB, vmCount: 1 } })]);
    const big = { request: aRequest({ vmId: 'vm-big', name: 'db-big', memoryMiB: 300 * GiB }), currentHostId: 'hv-01' };
    const plan = planEvacuation(cluster, 'hv-01', [big]);
    expect(plan.heading).toBe('Evacuate first: 0 VMs move, 1 cannot');
    expect(plan.nothingMoves).toBe('Its VM cannot move to any other host; the reason is below.');
    expect(plan.unmovable[0]?.reason).toBe('No other host: the cluster has only the one this VM runs on');
  });

  it('each move says how many of the other hosts fit', () => {
    const plan = planEvacuation(aCluster(hosts), 'hv-01', vms.slice(0, 1));
    expect(plan.moves[0]?.explanation).toMatch(/of 4 other hosts fit/);
  });

  it('hard anti-affinity holds across the whole plan', () => {
    const group = [{ name: 'web', kind: 'anti-affinity' as const, hard: true }];
    const grouped = vms.slice(0, 4).map((v) => ({ ...v, request: { ...v.request, groups: group } }));
    const plan = planEvacuation(aCluster(hosts), 'hv-01', grouped);
    expect(plan.moves).toHaveLength(3);
    expect(new Set(plan.moves.map((m) => m.toHostId)).size).toBe(3);
    expect(plan.unmovable[0]?.reason).toMatch(/anti-affinity/);
  });
});

describe('describeEvacuation', () => {
  const vm = { vmId: 'v', vmName: 'a', reason: 'r' };
  it('does not say "No VMs on this host" when the host has VMs that cannot move', () => {
    const text = describeEvacuation({ moves: [], unmovable: [vm, vm, vm, vm, vm] });
    expect(text.heading).toBe('Evacuate first: 0 VMs move, 5 cannot');
    expect(text.nothingMoves).toBe('None of its 5 VMs can move to another host; the reasons are below.');
    expect(`${text.heading} ${text.nothingMoves}`).not.toMatch(/No VMs on this host/);
  });
  it('says "No VMs on this host" only when it has none', () => {
    expect(describeEvacuation({ moves: [], unmovable: [] })).toEqual({
      heading: 'No VMs on this host: nothing to evacuate',
      nothingMoves: null,
    });
  });
  it('a plan with moves needs no extra line', () => {
    expect(describeEvacuation({ moves: [vm], unmovable: [vm] })).toEqual({
      heading: 'Evacuate first: 1 VM moves, 1 cannot',
      nothingMoves: null,
    });
  });
});
