import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { demoTenantIds, registerProductionHost } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Scheduled background work in the Tasks panel (the demo's dr-web-01 added a
// "Replica cycle" and a "Replica retain" every 30 s, pushing a tenant's own
// Create/Start tasks off page 1): tasks.list leaves replication cycles and
// their retention out unless `background` asks for them (or the Kind filter
// names one), in rows and in the counts alike. Replication someone started
// (its job, its host steps) stays listed, and a tenant still sees only its own.

interface Row {
  id: string;
  kind: string;
  tenantId: string | null;
}
interface List {
  rows: Row[];
  total: number;
  active: number;
}

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
const ids = {
  blueCycleRunning: randomUUID(),
  yellowCycle: randomUUID(),
  blueTestFailover: randomUUID(),
  blueEnable: randomUUID(),
};

/** Blue: 3 cycles (one running) and 3 retains after its own create and start; Yellow: a cycle and a start. */
beforeAll(async () => {
  api = await startTestApi();
  c = await seedAndSignIn(api);
  ({ blueId, yellowId } = await demoTenantIds(c));
  const host = await registerProductionHost(api, c.admin, 'hv-background-01');
  const base = Date.parse('2026-12-04T10:00:00Z');
  let n = 0;
  const at = () => new Date(base + 1000 * n++);
  await withSql(api.databaseUrl, async (sql) => {
    const task = async (kind: string, tenantId: string, opts: { id?: string; state?: string; by?: string } = {}) =>
      sql.query(
        `INSERT INTO tasks (id, kind, state, tenant_id, host_id, requested_by, created_at)
         VALUES ($1, $2, $3::"TaskState", $4, $5, $6, $7)`,
        [
          opts.id ?? randomUUID(),
          kind,
          opts.state ?? 'succeeded',
          tenantId,
          host.hostId,
          opts.by ?? 'replication',
          at(),
        ],
      );
    await task('vm.create', blueId, { by: 'alice@blue.example' });
    await task('vm.start', blueId, { by: 'alice@blue.example' });
    await sql.query(
      `INSERT INTO jobs (id, kind, target_type, target_id, target_label, tenant_id, requested_by, state, created_at)
       VALUES ($1, 'replication.enable', 'vm', $2, 'dr-web-01', $3, 'alice@blue.example', 'succeeded', $4)`,
      [ids.blueEnable, randomUUID(), blueId, at()],
    );
    await task('replica.test-failover', blueId, { id: ids.blueTestFailover });
    for (let i = 0; i < 3; i++) {
      await task('replica.cycle', blueId, i === 2 ? { id: ids.blueCycleRunning, state: 'running' } : {});
      await task('replica.retain', blueId);
    }
    await task('vm.start', yellowId, { by: 'yves@yellow.example' });
    await task('replica.cycle', yellowId, { id: ids.yellowCycle });
  });
});

afterAll(async () => {
  await api?.close();
});

const kinds = (list: List) => list.rows.map((r) => r.kind);

describe('tasks.list and scheduled background work', () => {
  it('a tenant sees its own actions and replication it started, without the cycles, by default', async () => {
    const list = await c.blueUser.query<List>('tasks.list', {});
    expect(kinds(list)).toEqual(['replica.test-failover', 'replication.enable', 'vm.start', 'vm.create']);
    expect(list.total).toBe(4);
    // The running cycle is not "1 running" in the panel's badge either.
    expect(list.active).toBe(0);
    expect(list.rows.every((r) => r.tenantId === blueId)).toBe(true);
  });

  it('with background, the cycles and retains are listed too, still only the tenant’s own', async () => {
    const list = await c.blueUser.query<List>('tasks.list', { background: true });
    expect(list.total).toBe(10);
    expect(kinds(list).filter((k) => k === 'replica.cycle')).toHaveLength(3);
    expect(kinds(list).filter((k) => k === 'replica.retain')).toHaveLength(3);
    expect(list.active).toBe(1);
    expect(list.rows.every((r) => r.tenantId === blueId)).toBe(true);
    expect(list.rows.map((r) => r.id)).not.toContain(ids.yellowCycle);
    // The first page is all cycles now, as before the fix; page 2 holds the tenant's own work.
    expect(kinds(list).slice(0, 2)).toEqual(['replica.retain', 'replica.cycle']);
  });

  it('naming a background kind in the Kind filter lists it without the flag', async () => {
    const cycles = await c.blueAdmin.query<List>('tasks.list', { kind: 'replica.cycle' });
    expect(cycles.total).toBe(3);
    expect(cycles.active).toBe(1);
    // A prefix is not a name: the replica host steps someone started, without the cycles.
    const replica = await c.blueAdmin.query<List>('tasks.list', { kind: 'replica.' });
    expect(kinds(replica)).toEqual(['replica.test-failover']);
  });

  it('the provider sees every tenant’s work, cycles only with background', async () => {
    const plain = await c.admin.query<List>('tasks.list', { pageSize: 100 });
    expect(kinds(plain).some((k) => k === 'replica.cycle' || k === 'replica.retain')).toBe(false);
    expect(plain.rows.map((r) => r.tenantId)).toEqual(expect.arrayContaining([blueId, yellowId]));
    const all = await c.admin.query<List>('tasks.list', { background: true, pageSize: 100 });
    expect(all.rows.map((r) => r.id)).toEqual(expect.arrayContaining([ids.yellowCycle, ids.blueCycleRunning]));
    expect(all.total - plain.total).toBe(7);
  });

  it('a hidden cycle still opens by id for its tenant, and is NOT_FOUND for another', async () => {
    expect((await c.blueUser.query<Row>('tasks.get', { id: ids.blueCycleRunning })).kind).toBe('replica.cycle');
    expect(await c.yellowAdmin.call('tasks.get', 'query', { id: ids.blueCycleRunning })).toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('the VM page lists the VM’s own tasks, not its replication cycles', async () => {
    const { vm } = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name: 'background-vm-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
    });
    await withSql(api.databaseUrl, async (sql) => {
      for (const kind of ['replica.cycle', 'replica.retain', 'replica.cycle']) {
        await sql.query(
          `INSERT INTO tasks (id, kind, state, tenant_id, host_id, vm_id, requested_by)
           SELECT $1, $2, 'succeeded'::"TaskState", tenant_id, host_id, id, 'replication' FROM vms WHERE id = $3`,
          [randomUUID(), kind, vm.id],
        );
      }
    });
    const detail = await c.blueAdmin.query<{ tasks: { kind: string }[] }>('vms.get', { id: vm.id });
    const kinds = detail.tasks.map((t) => t.kind);
    expect(kinds).toContain('vm.create');
    expect(kinds.filter((k) => k.startsWith('replica.'))).toEqual([]);
  });

  it('background is a boolean', async () => {
    expect(await c.blueUser.call('tasks.list', 'query', { background: 'yes' })).toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
