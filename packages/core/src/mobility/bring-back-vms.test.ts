import { describe, expect, it } from 'vitest';
import { aCluster, aHost, aRequest } from '../placement/testing/builders';
import { type BringBackInput, describeBringBack, type EvacuatedMove, planBringBack } from './bring-back-vms';
import type { MobilityVm } from './migrate-vm';

const GiB = 1024;
const host = {
  id: 'hv-01',
  name: 'hv-01',
  clusterId: 'c1',
  state: 'maintenance',
  stateChangedAt: new Date('2026-12-01T10:00:00Z'),
};

function move(vmId: string, overrides: Partial<EvacuatedMove> = {}): EvacuatedMove {
  return {
    jobId: `job-${vmId}`,
    vmId,
    vmName: vmId,
    toHostId: 'hv-02',
    live: true,
    jobState: 'succeeded',
    requestedAt: '2026-12-01T10:00:01Z',
    ...overrides,
  };
}

function vm(id: string, overrides: Partial<MobilityVm> = {}): MobilityVm {
  return {
    id,
    name: id,
    tenantId: 't1',
    hostId: 'hv-02',
    clusterId: 'c1',
    state: 'running',
    vcpus: 2,
    memoryMiB: 4 * GiB,
    ...overrides,
  };
}

function input(moves: EvacuatedMove[], vms: MobilityVm[], overrides: Partial<BringBackInput> = {}): BringBackInput {
  const cluster = aCluster([
    aHost({ id: 'hv-01', state: 'maintenance' }),
    aHost({ id: 'hv-02', allocated: { vcpus: 8, memoryMiB: 16 * GiB, vmCount: 4 } }),
    aHost({ id: 'hv-03' }),
  ]);
  return {
    host,
    moves,
    vms: new Map<string, MobilityVm | null>([
      ...moves.map((m) => [m.vmId, null] as const),
      ...vms.map((v) => [v.id, v] as const),
    ]),
    migrating: new Set(),
    cluster,
    placed: vms.map((v) => ({
      request: aRequest({ vmId: v.id, name: v.name, vcpus: v.vcpus, memoryMiB: v.memoryMiB }),
      currentHostId: v.hostId ?? '',
    })),
    ...overrides,
  };
}

describe('planBringBack', () => {
  it('brings back running VMs live and off ones cold, through a host in maintenance taken as connected', () => {
    const plan = planBringBack(
      input([move('web-1'), move('db-1', { live: false })], [vm('web-1'), vm('db-1', { state: 'off' })]),
    );
    expect(plan.back.map((v) => [v.vmName, v.live, v.fromHostName])).toEqual([
      ['db-1', false, 'hv-02'],
      ['web-1', true, 'hv-02'],
    ]);
    expect(plan.skipped).toEqual([]);
    expect(plan.heading).toBe('Bring back 2 VMs moved off by its maintenance');
  });

  it.each([
    ['deleted', move('a'), null, 'deleted', /deleted since/],
    ['being deleted', move('a'), vm('a', { state: 'deleting' }), 'deleted', /deleted since/],
    [
      'its move failed',
      move('a', { jobState: 'failed' }),
      vm('a', { hostId: 'hv-01' }),
      'not-moved',
      /failed: it never left/,
    ],
    [
      'its move is queued',
      move('a', { jobState: 'queued' }),
      vm('a', { hostId: 'hv-01' }),
      'still-evacuating',
      /not finished/,
    ],
    ['back already', move('a'), vm('a', { hostId: 'hv-01' }), 'already-back', /already on hv-01/],
    [
      'in another cluster',
      move('a'),
      vm('a', { hostId: 'hv-99', clusterId: 'c2' }),
      'other-cluster',
      /another cluster/,
    ],
    ['moved again', move('a'), vm('a', { hostId: 'hv-03' }), 'moved', /moved again since, to hv-03/],
    ['was running, off now', move('a'), vm('a', { state: 'off' }), 'state-changed', /was running .* off now/],
    ['was off, running now', move('a', { live: false }), vm('a'), 'state-changed', /was off .* running now/],
    ['failed', move('a'), vm('a', { state: 'failed' }), 'state-changed', /failed now/],
    [
      'too big for the host',
      move('a'),
      vm('a', { memoryMiB: 300 * GiB }),
      'no-fit',
      /hv-01 cannot take 'a': .*memory/i,
    ],
  ] as const)('%s: not brought back, with why', (_, m, v, code, reason) => {
    const plan = planBringBack(input([m], v ? [v] : []));
    expect(plan.back).toEqual([]);
    expect(plan.skipped).toEqual([{ vmId: 'a', vmName: 'a', code, reason: expect.stringMatching(reason) }]);
    expect(plan.heading).toBe('None of the 1 VM moved off by its maintenance can come back');
  });

  it('a VM with another migration under way stays', () => {
    const plan = planBringBack(input([move('a')], [vm('a')], { migrating: new Set(['a']) }));
    expect(plan.skipped[0]?.code).toBe('migrating');
  });

  it('counts a VM once, by its newest move', () => {
    const plan = planBringBack(
      input([move('a', { jobId: 'new' }), move('a', { jobId: 'old', jobState: 'failed' })], [vm('a')]),
    );
    expect(plan.back.map((v) => v.vmId)).toEqual(['a']);
    expect(plan.skipped).toEqual([]);
  });

  it('what comes back fits together: the host fills, the rest is refused by the engine', () => {
    // hv-01 holds 256 GiB less its reservation: two VMs of 120 GiB fit, the third does not.
    const vms = ['a', 'b', 'c'].map((id) => vm(id, { memoryMiB: 120 * GiB }));
    const plan = planBringBack(
      input(
        vms.map((v) => move(v.id)),
        vms,
      ),
    );
    expect(plan.back).toHaveLength(2);
    expect(plan.skipped).toEqual([expect.objectContaining({ code: 'no-fit' })]);
    expect(plan.heading).toBe('Bring back 2 VMs moved off by its maintenance (1 cannot)');
  });

  it('hard anti-affinity is respected: a group member already on the host keeps the other away', () => {
    const group = [{ name: 'web', kind: 'anti-affinity' as const, hard: true }];
    const base = input([move('a')], [vm('a')]);
    const stays = { request: aRequest({ vmId: 'z', name: 'web-z', groups: group }), currentHostId: 'hv-01' };
    const cluster = {
      ...base.cluster,
      hosts: base.cluster.hosts.map((h) =>
        h.id === 'hv-01' ? { ...h, allocated: { vcpus: 2, memoryMiB: 4 * GiB, vmCount: 1 }, groups: { web: 1 } } : h,
      ),
    };
    const placed = [
      { ...stays },
      { request: aRequest({ vmId: 'a', name: 'a', groups: group }), currentHostId: 'hv-02' },
    ];
    const plan = planBringBack({ ...base, cluster, placed });
    expect(plan.back).toEqual([]);
    expect(plan.skipped[0]).toMatchObject({ code: 'no-fit', reason: expect.stringMatching(/anti-affinity/) });
  });

  it('says so when its maintenance moved nothing off', () => {
    expect(describeBringBack({ back: [], skipped: [] })).toBe('Nothing to bring back: its maintenance moved no VM off');
    expect(planBringBack(input([], [])).heading).toBe('Nothing to bring back: its maintenance moved no VM off');
  });
});
