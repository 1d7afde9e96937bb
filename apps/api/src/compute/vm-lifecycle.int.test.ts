import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// The whole VM life cycle through a real agent process: the API queues
// durable tasks, the agent long-polls them, its simulated host does the work
// (sped up 20×) and reports, and the VM's state follows.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let agent: AgentProcess;

interface VmView {
  id: string;
  state: string;
  stateReason: string;
  tasks: { kind: string; state: string; progress: number; errorCode: string | null }[];
}

const vmState = (id: string, state: string) => async () => {
  const vm = await c.blueAdmin.query<VmView>('vms.get', { id });
  return vm.state === state ? vm : null;
};

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
  agent = spawnAgent({
    api: api.url,
    hostname: 'vm-life-01',
    token,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-vm-agent-')),
    profile: 'standard-2x16-512g',
    extraArgs: ['--sim-speed', '20', '--sample-seconds', '1'],
  });
  await eventually(
    async () => {
      const hosts = await c.admin.query<{ rows: { name: string; state: string }[] }>('hosts.list', {
        search: 'vm-life',
      });
      return hosts.rows.some((h) => h.name === 'vm-life-01' && h.state === 'connected');
    },
    30_000,
    'the host to register',
  );
});
afterAll(async () => {
  await agent?.kill('SIGTERM');
  await api?.close();
});

describe('a VM through a real agent', () => {
  it('is created and started by the host, then stopped, started, saved and deleted', async () => {
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'life-web-01',
      vcpus: 2,
      memory: { mode: 'dynamic', startupMiB: 2048, minimumMiB: 1024, maximumMiB: 8192 },
      disks: [{ sizeGiB: 40 }],
      startAfterCreate: true,
    });
    const id = created.vm.id;
    const running = await eventually(vmState(id, 'running'), 40_000, 'the VM to run');
    expect(running.tasks.map((t) => `${t.kind}:${t.state}`).sort()).toEqual([
      'vm.create:succeeded',
      'vm.start:succeeded',
    ]);

    // The host meters the running VM: Measure-VM sees its samples.
    const measured = await eventually(
      async () => {
        const m = await c.blueUser.query<{ samples: number; avgCpuMhz: number; totalDiskGiB: number }>(
          'metering.measureVm',
          { id },
        );
        return m.samples >= 2 ? m : null;
      },
      30_000,
      'samples from the host',
    );
    expect(measured.avgCpuMhz).toBeGreaterThan(0);
    expect(measured.totalDiskGiB).toBe(40);

    await c.blueAdmin.mutate('vms.act', { id, action: 'stop' });
    await eventually(vmState(id, 'off'), 30_000, 'the VM to stop');
    await c.blueUser.mutate('vms.act', { id, action: 'start' });
    await eventually(vmState(id, 'running'), 30_000, 'the VM to start again');
    await c.blueAdmin.mutate('vms.act', { id, action: 'save' });
    await eventually(vmState(id, 'saved'), 30_000, 'the VM to be saved');
    await c.blueAdmin.mutate('vms.act', { id, action: 'delete' });
    await eventually(
      async () => (await c.blueAdmin.call('vms.get', 'query', { id })).ok === false,
      30_000,
      'the VM to be deleted',
    );
  });

  it('a VM no pool can hold is refused by placement, with the reason', async () => {
    // The host profile's pools are ~24 TiB: a 60 TiB fixed disk is refused by the host itself.
    await c.admin.mutate('quotas.set', {
      tenantId: (await c.blueAdmin.query<{ tenant: { id: string } }>('portal.overview')).tenant.id,
      quota: {
        maxVms: 100,
        maxVcpus: 1000,
        maxMemoryMiB: 10_000_000,
        maxStorageBytes: 1024 ** 5,
        maxRunningVms: 100,
        maxRunningVcpus: 1000,
        maxRunningMemoryMiB: 10_000_000,
      },
    });
    const result = await c.blueAdmin.call('vms.create', 'mutation', {
      name: 'too-big-disk',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 60 * 1024, kind: 'fixed' }],
      startAfterCreate: false,
    });
    // Placement already knows the pools: refused before any task, with the reason.
    expect(result).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    if (!result.ok) expect(result.message).toMatch(/storage|pool/i);
  });

  it('bulk actions by wildcard act on each matching VM and report each result', async () => {
    for (const name of ['bulk-web-1', 'bulk-web-2', 'bulk-db-1']) {
      await c.blueAdmin.mutate('vms.create', {
        name,
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 1024 },
        disks: [{ sizeGiB: 10 }],
        startAfterCreate: false,
      });
    }
    const list = await c.blueAdmin.query<{ rows: { id: string; name: string }[] }>('vms.list', { search: 'bulk-' });
    for (const vm of list.rows) await eventually(vmState(vm.id, 'off'), 30_000, `${vm.name} to be created`);
    const results = await c.blueAdmin.mutate<{ name: string; ok: boolean }[]>('vms.actOnPattern', {
      pattern: 'bulk-web-*',
      action: 'start',
    });
    expect(results).toEqual([
      expect.objectContaining({ name: 'bulk-web-1', ok: true }),
      expect.objectContaining({ name: 'bulk-web-2', ok: true }),
    ]);
    for (const vm of list.rows.filter((v) => v.name.startsWith('bulk-web'))) {
      await eventually(vmState(vm.id, 'running'), 30_000, `${vm.name} to run`);
    }
    const db = list.rows.find((v) => v.name === 'bulk-db-1');
    expect((await c.blueAdmin.query<VmView>('vms.get', { id: db?.id })).state).toBe('off');
  });

  it("the agents' tasks are in the Tasks panel: the tenant sees its own, another tenant none, the provider all", async () => {
    interface TaskRow {
      id: string;
      source: string;
      kind: string;
      targetLabel: string;
      tenantName: string | null;
      hostName: string | null;
      state: string;
      progress: number;
      requestedBy: string;
    }
    const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'tasks-panel-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: true,
    });
    await eventually(vmState(created.vm.id, 'running'), 40_000, 'the VM to run');
    const mine = await c.blueUser.query<{ rows: TaskRow[]; total: number }>('tasks.list', {
      targetId: created.vm.id,
    });
    expect(mine.rows.map((t) => `${t.kind}:${t.state}:${t.progress}`).sort()).toEqual([
      'vm.create:succeeded:100',
      'vm.start:succeeded:100',
    ]);
    expect(mine.rows[0]).toMatchObject({
      source: 'agent',
      targetLabel: 'tasks-panel-01',
      tenantName: 'Blue Corp',
      // Which host runs a VM is the provider's business.
      hostName: null,
      requestedBy: 'alice@blue.example',
    });
    // Filters run on the server: by kind, by state, by text.
    const starts = await c.blueAdmin.query<{ rows: TaskRow[] }>('tasks.list', {
      kind: 'vm.start',
      search: 'tasks-panel',
    });
    expect(starts.rows.map((t) => t.kind)).toEqual(['vm.start']);
    const failed = await c.blueAdmin.query<{ rows: TaskRow[] }>('tasks.list', {
      state: 'failed',
      search: 'tasks-panel',
    });
    expect(failed.rows).toEqual([]);
    // Yellow sees none of Blue's tasks, and one by id is NOT_FOUND; the provider sees them.
    const yellow = await c.yellowAdmin.query<{ rows: TaskRow[]; total: number }>('tasks.list', {});
    expect(yellow.rows.filter((t) => t.tenantName === 'Blue Corp')).toEqual([]);
    expect(await c.yellowAdmin.call('tasks.get', 'query', { id: mine.rows[0]?.id })).toMatchObject({
      code: 'NOT_FOUND',
    });
    const provider = await c.admin.query<{ rows: TaskRow[] }>('tasks.list', { search: 'tasks-panel-01' });
    expect(provider.rows.map((t) => t.hostName)).toEqual(['vm-life-01', 'vm-life-01']);
    // Search matches what the table shows: the tenant's name, and the host's for the provider only.
    const byTenant = await c.admin.query<{ rows: TaskRow[] }>('tasks.list', { search: 'blue corp', kind: 'vm.create' });
    expect(byTenant.rows.some((t) => t.targetLabel === 'tasks-panel-01')).toBe(true);
    const byHost = await c.admin.query<{ rows: TaskRow[] }>('tasks.list', { search: 'vm-life-01' });
    expect(byHost.rows.length).toBeGreaterThanOrEqual(2);
    expect((await c.blueAdmin.query<{ rows: TaskRow[] }>('tasks.list', { search: 'vm-life-01' })).rows).toEqual([]);
    // A VM id in upper case names the same VM.
    const upper = await c.admin.query<{ rows: TaskRow[] }>('tasks.list', { targetId: created.vm.id.toUpperCase() });
    expect(upper.rows).toHaveLength(2);
    // Bad filters are refused with the reason, and change nothing.
    expect(await c.admin.call('tasks.list', 'query', { search: 'a\u0000b' })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await c.admin.call('tasks.list', 'query', { pageSize: 1000 })).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
