import { describe, expect, it } from 'vitest';
import { createVmInput } from '../compute/vm.schema';
import { inMemoryCompute } from '../testing/in-memory-compute';
import { PlacementService } from './placement-service';
import { aCluster, aHost } from './testing/builders';

const GiB = 1024;
/** Room for `vms` VMs of 4 GiB each, after the parent partition's 2 GiB. */
const hostFor = (id: string, vms: number) => aHost({ id, memoryMiB: 2 * GiB + vms * 4 * GiB, numaNodes: 1 });

function world() {
  const w = inMemoryCompute([aCluster([hostFor('hv-01', 2), hostFor('hv-02', 2)])]);
  const service = new PlacementService({ store: w.placement, decisions: w.decisions });
  const place = (name: string, hostId: string) =>
    w.vms.seed({ tenantId: 'blue', name, state: 'running', hostId, clusterId: 'c1', memoryMiB: 4 * GiB, vcpus: 2 });
  return { ...w, service, place };
}

describe('placement what-ifs', () => {
  it('N+1: a cluster whose survivors can take a lost host’s VMs is ok, and stops being so when full', async () => {
    const w = world();
    w.place('web-01', 'hv-01');
    expect(await w.service.nPlusOne('c1')).toMatchObject({ ok: true, hosts: 2 });

    w.place('web-02', 'hv-01');
    w.place('web-03', 'hv-02');
    const full = await w.service.nPlusOne('c1');
    expect(full.ok).toBe(false);
    expect(full.worst.unplaced.length).toBeGreaterThan(0);
  });

  it('evacuation says where each VM of the host would go, and commits nothing', async () => {
    const w = world();
    const vm = w.place('web-01', 'hv-01');

    const plan = await w.service.evacuation('hv-01');

    expect(plan).toMatchObject({ ok: true, moves: [{ vmId: vm.id, name: 'web-01', toHostId: 'hv-02' }] });
    expect(w.vms.vms.get(vm.id)?.hostId).toBe('hv-01');
  });

  it('a batch what-if places what fits on a working copy', async () => {
    const w = world();
    const vm = (name: string) =>
      createVmInput.parse({ name, vcpus: 1, memory: { mode: 'static', sizeMiB: 4 * GiB }, disks: [{ sizeGiB: 10 }] });

    const answer = await w.service.whatIfBatch('c1', 'blue', ['a', 'b', 'c', 'd', 'e'].map(vm));

    expect(answer.placed).toBe(4);
    expect(answer.results[4]).toMatchObject({ name: 'e', hostId: null });
    expect(w.vms.vms.size).toBe(0);
  });

  it('an unknown cluster or host is refused as not found', async () => {
    const w = world();
    await expect(w.service.nPlusOne('nope')).rejects.toMatchObject({ code: 'CLUSTER_NOT_FOUND' });
    await expect(w.service.evacuation('nope')).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    await expect(w.service.decision({ kind: 'provider' }, 'nope')).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
  });
});
