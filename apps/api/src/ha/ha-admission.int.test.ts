import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryFor, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// HA admission control over the real API and Postgres (issue 11): with it on, a create or a start
// that would leave the cluster unable to restart its running HA VMs after the failures it promises
// to tolerate is refused (412) with the limit named. Hosts are registered over the agent protocol
// without agent processes (monitor off): placement and admission are the subject, not the agents.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let clusterId: string;
const GiB = 1024;

const vm = (name: string, memoryGiB: number, startAfterCreate = true) => ({
  name,
  vcpus: 1,
  memory: { mode: 'static', sizeMiB: memoryGiB * GiB },
  disks: [{ sizeGiB: 10 }],
  haPriority: 'high',
  startAfterCreate,
});

async function addHost(name: string, memoryGiB: number) {
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId });
  const r = await register(api.url, token, name, inventoryFor(name, { memoryMiB: memoryGiB * GiB }));
  expect(r.status).toBe(201);
}

async function create(name: string, memoryGiB: number, startAfterCreate = true) {
  return c.blueAdmin.call('vms.create', 'mutation', vm(name, memoryGiB, startAfterCreate));
}

async function hostOf(id: string) {
  return (await c.admin.query<{ hostName?: string | null }>('vms.get', { id })).hostName;
}

function admission(settings: Record<string, unknown>) {
  return c.admin.mutate('ha.updateSettings', { clusterId, settings });
}

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  await c.admin.mutate('quotas.set', {
    tenantId: blueId,
    quota: {
      maxVms: 1000,
      maxVcpus: 1000,
      maxMemoryMiB: 10_000_000,
      maxStorageBytes: 1024 ** 5,
      maxRunningVms: 1000,
      maxRunningVcpus: 1000,
      maxRunningMemoryMiB: 10_000_000,
    },
  });
  clusterId = (await c.admin.mutate<{ id: string }>('clusters.create', { name: 'Admission' })).id;
}, 60_000);

afterAll(() => api?.close());

describe('HA admission control', () => {
  let a = '';
  let d = '';
  it('sets up: c on the small host, a (running) and d (stopped) on the big one, admission off', async () => {
    await admission({ enabled: true });
    await addHost('adm-small', 34);
    const cVm = await create('adm-c', 8);
    expect(cVm.ok).toBe(true);
    await addHost('adm-big', 66);
    const aVm = await create('adm-a', 16);
    const dVm = await create('adm-d', 16, false);
    expect(aVm.ok && dVm.ok).toBe(true);
    a = aVm.ok ? (aVm.data as { vm: { id: string } }).vm.id : '';
    d = dVm.ok ? (dVm.data as { vm: { id: string } }).vm.id : '';
    expect(await hostOf(a)).toBe('adm-big');
    expect(await hostOf(d)).toBe('adm-big');
    // No agent here: the stopped VM's create is taken as done (what its host would report).
    await withSql(api.databaseUrl, (sql) => sql.query(`UPDATE vms SET state = 'off' WHERE id = $1`, [d]));
  });

  it('refuses a create that leaves a host’s HA VMs without room elsewhere, naming the limit and host', async () => {
    await admission({ admissionControl: true, admissionPolicy: 'host-failures', hostFailuresToTolerate: 1 });
    // 24 GiB on adm-big: losing it would leave 40 GiB of running HA VMs for adm-small's ≈24 GiB free.
    const refused = await create('adm-e', 24);
    expect(refused).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
    if (!refused.ok) {
      expect(refused.message).toContain('HA admission control (tolerate 1 host failure)');
      // A tenant reads no host names: "if a host failed" (it read adm-big while the API's names were up to 10 s old).
      expect(refused.message).toContain('if a host failed');
      expect(refused.message).not.toContain('adm-big');
    }
    const vms = await c.blueAdmin.query<{ rows: { name: string }[] }>('vms.list', { search: 'adm-e' });
    expect(vms.rows).toEqual([]);
    // A small one still fits the promise.
    expect((await create('adm-f', 4)).ok).toBe(true);
  });

  it('refuses the start of a stopped HA VM that would then need room nobody has', async () => {
    const refused = await c.blueAdmin.call('vms.act', 'mutation', { id: d, action: 'start' });
    expect(refused).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
    if (!refused.ok) expect(refused.message).toMatch(/adm-d: HA admission control .* if a host failed/);
    const after = await c.blueAdmin.query<{ state: string }>('vms.get', { id: d });
    expect(after.state).toBe('off');
  });

  it('with a reserved percentage instead, admits the start and refuses what passes the reserve', async () => {
    await admission({ admissionPolicy: 'reserved-percentage', reservedCapacityPercent: 50 });
    // Running: 8 + 16 + 4 + 16 = 44 GiB of ≈ 96 GiB usable: within the 50 % left to running VMs.
    expect((await c.blueAdmin.call('vms.act', 'mutation', { id: d, action: 'start' })).ok).toBe(true);
    const refused = await create('adm-g', 8);
    expect(refused).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
    if (!refused.ok) {
      expect(refused.message).toContain('keep 50 % of the cluster');
      expect(refused.message).toContain('of its memory');
    }
    // Created stopped, it runs nothing: admitted.
    expect((await create('adm-g', 8, false)).ok).toBe(true);
  });

  it('admits everything once admission control is off again', async () => {
    await admission({ admissionControl: false });
    expect((await create('adm-h', 8)).ok).toBe(true);
  });
});
