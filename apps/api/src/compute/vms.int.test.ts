import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryFor, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Tenants' VMs against the real API and Postgres: quotas that hold under
// concurrency, placements that never double-book a host, and decisions that
// explain themselves.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let clusterId: string;

const GiB = 1024;
const smallVm = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  vcpus: 1,
  memory: { mode: 'static', sizeMiB: 1024 },
  disks: [{ sizeGiB: 10 }],
  startAfterCreate: false,
  ...over,
});

async function addHost(name: string, memoryMiB: number, cluster = clusterId) {
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: cluster });
  const r = await register(api.url, token, name, inventoryFor(name, { memoryMiB }));
  expect(r.status).toBe(201);
  return r.body as { hostId: string };
}

beforeAll(async () => {
  // The quota race below sends 50 creates at once from one user: the per-user and per-tenant
  // admission limits (429 beyond 8 / 16 in flight) would answer most of them before the quota does.
  api = await startTestApi({ monitor: false, env: { FABRIC_USER_IN_FLIGHT: '64', FABRIC_TENANT_IN_FLIGHT: '64' } });
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  yellowId = tenants.find((t) => t.name === 'Yellow Corp')?.id ?? '';
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  clusterId = clusters.find((cl) => cl.name === 'Production')?.id ?? '';
});
afterAll(() => api?.close());

describe('creating VMs', () => {
  it('validates the Hyper-V limits with messages that name them, and writes nothing', async () => {
    const before = await countRows(api.databaseUrl, 'vms');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ vcpus: 65 }, /at most 64 vCPUs/],
      [{ memory: { mode: 'static', sizeMiB: 1024 * 1024 + 1 } }, /at most 1 TiB \(1,024 GiB\)/],
      [{ disks: [{ sizeGiB: 64 * 1024 + 1 }] }, /64 TiB \(65,536 GiB\)/],
      [{ disks: [{ sizeGiB: 10, logicalSectorBytes: 1024 }] }, /512 or 4,096/],
      [{ memory: { mode: 'dynamic', startupMiB: 4096, minimumMiB: 8192, maximumMiB: 16384 } }, /Minimum memory/],
      [{ memory: { mode: 'dynamic', startupMiB: 4096, minimumMiB: 1024, maximumMiB: 2048 } }, /Startup memory/],
      [{ disks: [{ name: 'd1', sizeGiB: 10, kind: 'differencing' }] }, /parent disk/],
      [{ nics: [{ minimumBandwidthMbps: 100, minimumBandwidthWeight: 10 }] }, /absolute .* or a weight/],
    ];
    for (const [over, message] of cases) {
      const result = await c.blueAdmin.call('vms.create', 'mutation', smallVm('bad-vm', over));
      expect(result.ok).toBe(false);
      // The message itself says the rule (not zod's JSON dump), after the field it is about.
      if (!result.ok) expect(result.message).toMatch(message);
    }
    const vcpus = await c.blueAdmin.call('vms.create', 'mutation', smallVm('bad-vm', { vcpus: 65 }));
    expect(vcpus).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    if (!vcpus.ok) expect(vcpus.message).toMatch(/^vcpus: .*at most 64 vCPUs/);
    expect(await countRows(api.databaseUrl, 'vms')).toBe(before);
  });

  it('with no host, refuses and keeps the decision that says why', async () => {
    const result = await c.blueAdmin.call('vms.create', 'mutation', smallVm('nowhere-01'));
    expect(result).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    if (!result.ok) expect(result.message).toMatch(/No host/);
    expect(await countRows(api.databaseUrl, 'vms', `name = 'nowhere-01'`)).toBe(0);
    expect(await countRows(api.databaseUrl, 'placement_decisions', `vm_name = 'nowhere-01'`)).toBe(1);
  });

  it('places a VM, queues its task, and explains the choice host by host', async () => {
    const big = await addHost('vms-big-01', 512 * GiB);
    const tiny = await addHost('vms-tiny-01', 6 * GiB);
    const created = await c.blueAdmin.mutate<{ vm: { id: string }; decisionId: string; taskId: string }>(
      'vms.create',
      smallVm('blue-app-01', { memory: { mode: 'static', sizeMiB: 8 * GiB } }),
    );
    const vm = await c.admin.query<{ hostId: string; state: string; tasks: { kind: string }[] }>('vms.get', {
      id: created.vm.id,
    });
    expect(vm.hostId).toBe(big.hostId);
    expect(vm.state).toBe('creating');
    expect(vm.tasks.map((t) => t.kind)).toEqual(['vm.create']);
    // The tenant sees its VM but not where it runs.
    const own = await c.blueAdmin.query<{ hostId: string | null; hostName: string | null }>('vms.get', {
      id: created.vm.id,
    });
    expect(own).toMatchObject({ hostId: null, hostName: null });

    // The host cannot be removed while it has VMs.
    const removal = await c.admin.call('hosts.remove', 'mutation', { id: big.hostId });
    expect(removal).toMatchObject({ ok: false, code: 'CONFLICT' });
    if (!removal.ok) expect(removal.message).toMatch(/still has \d+ VMs?/);

    const decision = await c.admin.query<{
      hostId: string;
      summary: string;
      trace: { hostId: string; verdicts: { ok: boolean; reason?: string }[] }[];
    }>('placement.decision', { id: created.decisionId });
    expect(decision.hostId).toBe(big.hostId);
    const whyNotTiny = decision.trace.find((h) => h.hostId === tiny.hostId);
    const failed = whyNotTiny?.verdicts.filter((v) => !v.ok) ?? [];
    expect(failed.map((v) => v.reason).join(' ')).toMatch(/memory/i);
    // Tenants do not get decisions (they name hosts).
    expect(await c.blueAdmin.call('placement.decision', 'query', { id: created.decisionId })).toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('refuses a duplicate name in the same tenant, allows it in another', async () => {
    await c.blueAdmin.mutate('vms.create', smallVm('shared-name'));
    const again = await c.blueUser.call('vms.create', 'mutation', smallVm('SHARED-NAME'));
    expect(again).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect((await c.yellowAdmin.call('vms.create', 'mutation', smallVm('shared-name'))).ok).toBe(true);
  });
});

describe('quotas', () => {
  it('50 concurrent creates cannot exceed the VM quota by even one', async () => {
    const usage = await c.admin.query<{ usage: { vms: number } }>('quotas.get', { tenantId: yellowId });
    const limit = usage.usage.vms + 7;
    await c.admin.mutate('quotas.set', {
      tenantId: yellowId,
      quota: {
        maxVms: limit,
        maxVcpus: 1000,
        maxMemoryMiB: 10_000_000,
        maxStorageBytes: 1024 ** 5,
        maxRunningVms: 1000,
        maxRunningVcpus: 1000,
        maxRunningMemoryMiB: 10_000_000,
      },
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.yellowUser.call('vms.create', 'mutation', smallVm(`burst-${i}`))),
    );
    const ok = results.filter((r) => r.ok).length;
    expect(ok).toBe(7);
    const refused = results.filter((r) => !r.ok);
    expect(
      refused.every((r) => !r.ok && r.code === 'UNPROCESSABLE_CONTENT' && /Quota exceeded: VMs/.test(r.message)),
    ).toBe(true);
    expect(await countRows(api.databaseUrl, 'vms', `tenant_id = '${yellowId}'`)).toBe(limit);
  });

  it('shows usage and headroom to the tenant, and names the limit that is hit', async () => {
    const mine = await c.blueUser.query<{ quota: { maxVcpus: number }; usage: { vcpus: number } }>('vms.myQuota');
    expect(mine.usage.vcpus).toBeGreaterThan(0);
    const tooMany = await c.blueUser.call(
      'vms.create',
      'mutation',
      smallVm('greedy', { vcpus: Math.min(64, mine.quota.maxVcpus - mine.usage.vcpus + 1) }),
    );
    expect(tooMany).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    if (!tooMany.ok) expect(tooMany.message).toMatch(/vCPUs: \d+ of \d+ in use/);
  });
});

describe('capacity under concurrency', () => {
  it('two tenants racing for the last slot of a host: one gets it, the other is told why not', async () => {
    const roomy = {
      maxVms: 1000,
      maxVcpus: 1000,
      maxMemoryMiB: 10_000_000,
      maxStorageBytes: 1024 ** 5,
      maxRunningVms: 1000,
      maxRunningVcpus: 1000,
      maxRunningMemoryMiB: 10_000_000,
    };
    await c.admin.mutate('quotas.set', { tenantId: blueId, quota: roomy });
    await c.admin.mutate('quotas.set', { tenantId: yellowId, quota: roomy });
    const lab = await c.admin.mutate<{ id: string }>('clusters.create', { name: 'Race' });
    // Only race-01 has room for a 550 GiB VM, and for one only.
    await addHost('race-01', 1000 * GiB, lab.id);
    const big = (name: string) => smallVm(name, { memory: { mode: 'static', sizeMiB: 550 * GiB } });
    const [a, b] = await Promise.all([
      c.blueAdmin.call('vms.create', 'mutation', big('race-blue')),
      c.yellowAdmin.call('vms.create', 'mutation', big('race-yellow')),
    ]);
    expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
    const loser = a.ok ? b : a;
    expect(loser).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    const reserved = await withSql(api.databaseUrl, async (sql) => {
      const r = await sql.query<{ mib: string }>(
        `SELECT coalesce(sum(v.memory_mib), 0)::text AS mib FROM vms v JOIN hosts h ON h.id = v.host_id WHERE h.name = 'race-01'`,
      );
      return Number(r.rows[0]?.mib ?? 0);
    });
    expect(reserved).toBe(550 * GiB);
  });
});

describe('actions', () => {
  it('refuses invalid transitions with the reason, and bulk actions report per VM', async () => {
    await c.blueAdmin.mutate('vms.create', smallVm('web-01'));
    await c.blueAdmin.mutate('vms.create', smallVm('web-02'));
    await c.blueAdmin.mutate('vms.create', smallVm('db-01'));
    const list = await c.blueAdmin.query<{ rows: { id: string; name: string }[] }>('vms.list', { search: 'web-0' });
    const web1 = list.rows.find((v) => v.name === 'web-01');
    const paused = await c.blueAdmin.call('vms.act', 'mutation', { id: web1?.id, action: 'pause' });
    expect(paused).toMatchObject({ ok: false, code: 'CONFLICT' });
    if (!paused.ok) expect(paused.message).toMatch(/Cannot pause a VM that is creating/);

    const results = await c.blueAdmin.mutate<{ name: string; ok: boolean; message: string }[]>('vms.actOnPattern', {
      pattern: 'web*',
      action: 'start',
    });
    expect(results.map((r) => r.name).sort()).toEqual(['web-01', 'web-02']);
    expect(results.every((r) => !r.ok && /creating/.test(r.message))).toBe(true);
    // Yellow's VMs never match Blue's pattern.
    const all = await c.blueAdmin.mutate<{ name: string }[]>('vms.actOnPattern', { pattern: '*', action: 'pause' });
    const yellowNames = await c.yellowAdmin.query<{ rows: { name: string }[] }>('vms.list', { pageSize: 100 });
    expect(all.map((r) => r.name)).not.toContain(yellowNames.rows.find((v) => v.name.startsWith('burst'))?.name);
  });
});

describe('what-if', () => {
  it('answers N+1, evacuation and batch questions without changing anything', async () => {
    const lab = await c.admin.mutate<{ id: string }>('clusters.create', { name: 'WhatIf' });
    const a = await addHost('whatif-01', 64 * GiB, lab.id);
    await addHost('whatif-02', 64 * GiB, lab.id);
    const before = await countRows(api.databaseUrl, 'vms');
    const batch = await c.admin.query<{ placed: number; results: { hostName: string | null }[] }>('placement.whatIf', {
      clusterId: lab.id,
      tenantId: blueId,
      vms: Array.from({ length: 4 }, (_, i) => smallVm(`plan-${i}`, { memory: { mode: 'static', sizeMiB: 40 * GiB } })),
    });
    // 62 GiB usable per host (2 GiB host reserve): one 40 GiB VM per host.
    expect(batch.placed).toBe(2);
    expect(await countRows(api.databaseUrl, 'vms')).toBe(before);

    const health = await c.admin.query<{ ok: boolean; hosts: number }>('placement.nPlusOne', { clusterId: lab.id });
    expect(health).toMatchObject({ ok: true, hosts: 2 });
    const plan = await c.admin.query<{ ok: boolean; moves: unknown[] }>('placement.evacuation', { hostId: a.hostId });
    expect(plan).toMatchObject({ ok: true, moves: [] });
    const all = await c.admin.query<{ clusterName: string }[]>('placement.clusterHealth');
    expect(all.map((h) => h.clusterName)).toContain('WhatIf');
  });
});

describe('a tier of VMs at once', () => {
  it('creates web-01 … web-05 together, each with its decision and task, and refuses all or nothing', async () => {
    const before = await countRows(api.databaseUrl, 'vms');
    const created = await c.blueAdmin.mutate<{ vms: { name: string; hostName: string | null }[] }>('vms.createMany', {
      vm: smallVm('tier'),
      count: 5,
    });
    expect(created.vms.map((v) => v.name)).toEqual(['tier-01', 'tier-02', 'tier-03', 'tier-04', 'tier-05']);
    // A tenant is never told which host (the provider's business): each VM is placed all the same.
    expect(created.vms.every((v) => v.hostName === null)).toBe(true);
    expect(await countRows(api.databaseUrl, 'vms', `name LIKE 'tier-%'`)).toBe(5);
    expect(await countRows(api.databaseUrl, 'vms', `name LIKE 'tier-%' AND host_id IS NOT NULL`)).toBe(5);
    expect(
      await countRows(
        api.databaseUrl,
        'tasks t JOIN vms v ON v.id = t.vm_id',
        `v.name LIKE 'tier-%' AND t.kind = 'vm.create'`,
      ),
    ).toBe(5);
    expect(await countRows(api.databaseUrl, 'placement_decisions', `vm_name LIKE 'tier-%'`)).toBe(5);

    // Room for 2 more VMs: a tier of 3 is refused whole.
    const usage = await c.admin.query<{ usage: { vms: number } }>('quotas.get', { tenantId: blueId });
    const quota = await c.admin.query<{ quota: Record<string, number> }>('quotas.get', { tenantId: blueId });
    await c.admin.mutate('quotas.set', { tenantId: blueId, quota: { ...quota.quota, maxVms: usage.usage.vms + 2 } });
    const refused = await c.blueAdmin.call('vms.createMany', 'mutation', { vm: smallVm('overflow'), count: 3 });
    expect(refused).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    if (!refused.ok) expect(refused.message).toMatch(/VMs: \d+ of \d+ defined, 3 more requested/);
    expect(await countRows(api.databaseUrl, 'vms', `name LIKE 'overflow-%'`)).toBe(0);
    expect(await countRows(api.databaseUrl, 'vms')).toBe(before + 5);
    // A name already taken refuses the tier too.
    await c.admin.mutate('quotas.set', { tenantId: blueId, quota: { ...quota.quota, maxVms: 1000 } });
    const clash = await c.blueAdmin.call('vms.createMany', 'mutation', { vm: smallVm('tier'), count: 6 });
    expect(clash).toMatchObject({ ok: false, code: 'CONFLICT' });
  });
});

describe('cluster placement settings and dedicated hosts', () => {
  it('a host dedicated to Yellow never takes Blue’s VMs, and the decision says so', async () => {
    const lab = await c.admin.mutate<{ id: string }>('clusters.create', { name: 'Dedicated' });
    const only = await addHost('dedicated-01', 256 * GiB, lab.id);
    await c.admin.mutate('clusters.setPlacement', { id: lab.id, policy: 'pack', cpuOvercommitRatio: 2 });
    const clusters =
      await c.admin.query<{ id: string; placementPolicy: string; cpuOvercommitRatio: number }[]>('clusters.list');
    expect(clusters.find((cl) => cl.id === lab.id)).toMatchObject({ placementPolicy: 'pack', cpuOvercommitRatio: 2 });
    await c.admin.mutate('hosts.setDedication', { id: only.hostId, tenantId: yellowId });
    expect(await c.admin.query('hosts.get', { id: only.hostId })).toMatchObject({ dedicatedTenantId: yellowId });
    const plan = await c.admin.query<{ results: { hostName: string | null; summary: string }[] }>('placement.whatIf', {
      clusterId: lab.id,
      tenantId: blueId,
      vms: [smallVm('blue-probe')],
    });
    expect(plan.results[0]?.hostName).toBeNull();
    expect(plan.results[0]?.summary).toMatch(/dedicated/i);
    const yellowPlan = await c.admin.query<{ placed: number }>('placement.whatIf', {
      clusterId: lab.id,
      tenantId: yellowId,
      vms: [smallVm('yellow-probe')],
    });
    expect(yellowPlan.placed).toBe(1);
    const bad = await c.admin.call('clusters.setPlacement', 'mutation', {
      id: lab.id,
      policy: 'pack',
      cpuOvercommitRatio: 40,
    });
    expect(bad).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    if (!bad.ok) expect(JSON.stringify(bad)).toMatch(/at most 16/);
  });
});
