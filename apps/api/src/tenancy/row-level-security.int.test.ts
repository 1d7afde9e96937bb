import { randomUUID } from 'node:crypto';
import { listAuditInput } from '@fabric/core/audit/audit.schema';
import { listVmsInput } from '@fabric/core/compute/vm.schema';
import { listTasksInput } from '@fabric/core/jobs/job.schema';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgMeteringRepository } from '../repositories/pg-metering-repository';
import type { PrismaClient } from '../repositories/prisma';
import { inventoryFor, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { createStoppedVm, demoTenantIds, existedSince } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';
import { APP_ROLE } from './app-database-url';
import { runForTenant } from './db-scope';
import { tenantScopedPrisma } from './scoped-prisma';

// The second wall of tenancy: Postgres row-level security. Core already
// scopes every query to the caller's tenant (tenancy.int.test.ts); here that
// scoping is taken away (repositories called with a provider-wide scope, or
// the running API's repositories made to pass one) while the database scope
// is Blue's, and the database alone must still keep Yellow's rows out.

const PROVIDER: TenantScope = { kind: 'provider' };

/** Every table under a policy; `tenantOf` finds a row's tenant (disks and NICs through their VM). */
const TABLES: { table: string; tenantOf: string }[] = [
  { table: 'tenants', tenantOf: 'id' },
  { table: 'memberships', tenantOf: 'tenant_id' },
  { table: 'audit_events', tenantOf: 'tenant_id' },
  { table: 'tenant_quotas', tenantOf: 'tenant_id' },
  { table: 'vms', tenantOf: 'tenant_id' },
  { table: 'vm_disks', tenantOf: '(SELECT tenant_id FROM vms WHERE vms.id = vm_id)' },
  { table: 'vm_nics', tenantOf: '(SELECT tenant_id FROM vms WHERE vms.id = vm_id)' },
  { table: 'placement_decisions', tenantOf: 'tenant_id' },
  { table: 'tasks', tenantOf: 'tenant_id' },
  { table: 'tenant_plans', tenantOf: 'tenant_id' },
  { table: 'invoices', tenantOf: 'tenant_id' },
  { table: 'jobs', tenantOf: 'tenant_id' },
  { table: 'vm_samples', tenantOf: 'tenant_id' },
  { table: 'vm_usage_hourly', tenantOf: 'tenant_id' },
  { table: 'vm_usage_daily', tenantOf: 'tenant_id' },
  { table: 'vm_acl_samples', tenantOf: 'tenant_id' },
  { table: 'vm_acl_usage_hourly', tenantOf: 'tenant_id' },
  { table: 'vm_acl_usage_daily', tenantOf: 'tenant_id' },
];

/**
 * Tenant tables added with replication, HA and tenant networks: under a forced
 * policy like the rest (checked below), but this file does not seed rows in
 * them yet, so the "Blue sees exactly Blue's rows" proof does not cover them.
 * replica_authorizations has two policies on purpose: tenants read the ones
 * that name them (or every tenant), only the provider writes.
 */
const NEWER_TABLES: { table: string; policies: string }[] = [
  { table: 'ha_restarts', policies: '1' },
  { table: 'replica_authorizations', policies: '2' },
  { table: 'replication_cycles', policies: '1' },
  { table: 'replication_points', policies: '1' },
  { table: 'replication_relationships', policies: '1' },
  { table: 'virtual_subnets', policies: '1' },
  { table: 'vm_networks', policies: '1' },
];

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let blueVmId: string;
let yellowVmId: string;
/** The app's Prisma client as the repositories use it outside a unit of work. */
let scoped: PrismaClient;

/** Rows of `table` per tenant, as the owner (a superuser: no policy applies) sees them. */
async function ownerCounts(table: string, tenantOf: string) {
  return withSql(api.databaseUrl, async (sql) => {
    const r = await sql.query<{ tenant: string | null; n: string }>(
      `SELECT ${tenantOf}::text AS tenant, count(*)::text AS n FROM ${table} GROUP BY 1`,
    );
    return new Map(r.rows.map((row) => [row.tenant, Number(row.n)]));
  });
}

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api, { billingHistory: true });
  ({ blueId, yellowId } = await demoTenantIds(c));
  scoped = tenantScopedPrisma(api.services.prisma);
  // One 16 GiB host: small enough that placement's view of other tenants' VMs decides.
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  const host = (await register(api.url, token, 'hv-rls-01', inventoryFor('hv-rls-01', { memoryMiB: 16_384 }))).body as {
    hostId: string;
  };
  await existedSince(api, { hostIds: [host.hostId] });
  yellowVmId = await createStoppedVm(c.yellowAdmin, 'yellow-app', { memoryMiB: 8192, diskGiB: 20 });
  blueVmId = await createStoppedVm(c.blueAdmin, 'blue-web', { memoryMiB: 1024, diskGiB: 20 });
  // Rows of both tenants in the tables the API above did not write, straight as the owner.
  await withSql(api.databaseUrl, async (sql) => {
    for (const { tenantId, vmId } of [
      { tenantId: blueId, vmId: blueVmId },
      { tenantId: yellowId, vmId: yellowVmId },
    ]) {
      await sql.query(
        `INSERT INTO jobs (id, kind, target_type, target_id, target_label, tenant_id, requested_by)
         VALUES ($1, 'test.kind', 'vm', $2, 'vm', $3, 'test')`,
        [randomUUID(), vmId, tenantId],
      );
      await sql.query(`INSERT INTO tenant_plans (tenant_id, plan, updated_at) VALUES ($1, '{"kind": "list"}', now())`, [
        tenantId,
      ]);
      await sql.query(
        `INSERT INTO invoices (id, number, tenant_id, tenant_name, month, version, currency, subtotal, discount, total,
           adjustment, line_count, document, reason, created_by)
         VALUES (gen_random_uuid(), $1, $2, 'x', '2026-01-01', 1, 'USD', 1, 0, 1, 0, 0, '{}', 'test', 'test')`,
        [`INV-${tenantId.slice(0, 8)}`, tenantId],
      );
      await sql.query(
        `INSERT INTO vm_samples (vm_id, tenant_id, host_id, at, interval_s, cpu_avg_mhz, mem_avg_mib, mem_min_mib,
           mem_max_mib, disk_allocated_gib, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
           net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes)
         VALUES ($1, $2, $3, now() - interval '1 minute', 60, 100, 1024, 1024, 1024, 20, 0, 0, 0, 0, 0, 0)`,
        [vmId, tenantId, host.hostId],
      );
      await sql.query(
        `INSERT INTO vm_acl_samples (vm_id, tenant_id, at, acl, in_bytes, out_bytes)
         VALUES ($1, $2, now() - interval '1 minute', 'backup', 1, 1)`,
        [vmId, tenantId],
      );
      await sql.query(
        `INSERT INTO vm_acl_usage_hourly (vm_id, tenant_id, hour, acl, in_bytes, out_bytes)
         VALUES ($1, $2, date_trunc('hour', now()), 'backup', 1, 1)`,
        [vmId, tenantId],
      );
      await sql.query(
        `INSERT INTO vm_acl_usage_daily (vm_id, tenant_id, day, acl, in_bytes, out_bytes)
         VALUES ($1, $2, current_date, 'backup', 1, 1)`,
        [vmId, tenantId],
      );
    }
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('the database connection', () => {
  it('is the app role, which owns no table, is no superuser and cannot bypass row-level security', async () => {
    const [who] = await api.services.prisma.$queryRaw<
      { role: string; superuser: boolean; bypass: boolean; owned: bigint }[]
    >`SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
        (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned
      FROM pg_roles r WHERE r.rolname = current_user`;
    expect(who).toEqual({ role: APP_ROLE, superuser: false, bypass: false, owned: 0n });
    const pooled = await api.services.pool.query<{ role: string }>('SELECT current_user AS role');
    expect(pooled.rows[0]?.role).toBe(APP_ROLE);
  });

  it('refuses to start when told to connect as a role the policies do not bind (the owner, a superuser)', async () => {
    await expect(
      startTestApi({ databaseUrl: api.databaseUrl, env: { DATABASE_APP_URL: api.databaseUrl }, monitor: false }),
    ).rejects.toThrow(/not bound by row-level security \(a superuser\)/);
  });

  it('puts every table with a tenant_id, and a VM’s disks and NICs, under a forced policy', async () => {
    const tables = await withSql(api.databaseUrl, async (sql) => {
      const r = await sql.query<{ table: string; rls: boolean; forced: boolean; policies: string }>(
        `SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
           (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::text AS policies
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND (c.relname IN ('tenants', 'vm_disks', 'vm_nics') OR EXISTS (
             SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
         ORDER BY 1`,
      );
      return r.rows;
    });
    // A new tenant table without a policy fails here, not in production.
    expect(tables.map((t) => t.table).sort()).toEqual([...TABLES, ...NEWER_TABLES].map((t) => t.table).sort());
    const policies = new Map(NEWER_TABLES.map((t) => [t.table, t.policies]));
    for (const t of tables) {
      expect(t, t.table).toMatchObject({ rls: true, forced: true, policies: policies.get(t.table) ?? '1' });
    }
  });

  it('sees no tenant’s rows when it never said whose work it does', async () => {
    const url = new URL(api.databaseUrl);
    url.searchParams.set('options', `-c role=${APP_ROLE}`);
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      for (const { table } of TABLES) {
        const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
        expect(Number(r.rows[0]?.n), table).toBe(0);
      }
    } finally {
      await client.end();
    }
  });
});

describe('with core’s scoping bypassed, a Blue transaction', () => {
  it('sees exactly Blue’s rows in every table under a policy, and Yellow has rows in each', async () => {
    for (const { table, tenantOf } of TABLES) {
      const owner = await ownerCounts(table, tenantOf);
      expect(owner.get(yellowId) ?? 0, `${table}: Yellow has rows`).toBeGreaterThan(0);
      const seen = await runForTenant(blueId, () =>
        scoped.$queryRawUnsafe<{ tenant: string | null; n: bigint }[]>(
          `SELECT ${tenantOf}::text AS tenant, count(*) AS n FROM ${table} GROUP BY 1`,
        ),
      );
      expect(
        seen.map((r) => [r.tenant, Number(r.n)]),
        table,
      ).toEqual([[blueId, owner.get(blueId) ?? 0]].filter(([, n]) => n !== 0));
    }
  });

  it('gets nothing of Yellow’s from the repositories asked with a provider-wide scope', async () => {
    const { repos } = api.services.uow;
    const metering = new PgMeteringRepository(api.services.pool);
    await runForTenant(blueId, async () => {
      const vms = await repos.vms.listVms(PROVIDER, listVmsInput.parse({ pageSize: 100 }));
      expect(vms.rows.map((v) => v.name)).toEqual(['blue-web']);
      expect(await repos.vms.findVm(PROVIDER, yellowVmId)).toBeNull();
      expect(await repos.vms.vmSpec(yellowVmId)).toBeNull();
      expect((await repos.tenancy.listTenants(PROVIDER)).map((t) => t.id)).toEqual([blueId]);
      const users = await repos.tenancy.listUsers(PROVIDER);
      expect(users.length).toBeGreaterThan(0);
      expect(users.every((u) => u.tenantId === blueId)).toBe(true);
      expect((await repos.quotas.usage(yellowId)).vms).toBe(0);
      const audit = await repos.audit.list(PROVIDER, listAuditInput.parse({ pageSize: 200 }));
      expect(audit.rows.length).toBeGreaterThan(0);
      expect(audit.rows.every((e) => e.tenantId === blueId)).toBe(true);
      const tasks = await repos.jobs.list(PROVIDER, listTasksInput.parse({}));
      expect(tasks.rows.length).toBeGreaterThan(0);
      expect(tasks.rows.every((t) => t.tenantId === blueId)).toBe(true);
      expect((await repos.invoices.latest({})).map((i) => i.tenantId)).toEqual([blueId]);
      const from = new Date(Date.now() - 40 * 86_400_000);
      expect(await repos.chargeback.hourlyUsage(yellowId, from, new Date())).toEqual([]);
      expect((await repos.chargeback.hourlyUsage(blueId, from, new Date())).length).toBeGreaterThan(0);
      expect((await metering.totals(yellowVmId, from, new Date())).samples).toBe(0);
      expect((await metering.totals(blueVmId, from, new Date())).samples).toBe(1);
    });
  });

  it('cannot update, delete or write Yellow’s rows', async () => {
    const before = await Promise.all(TABLES.map(({ table, tenantOf }) => ownerCounts(table, tenantOf)));
    await runForTenant(blueId, async () => {
      const changed = await Promise.all([
        scoped.$executeRaw`UPDATE vms SET name = 'stolen' WHERE tenant_id = ${yellowId}::uuid`,
        scoped.$executeRaw`UPDATE tenant_quotas SET max_vms = 0 WHERE tenant_id = ${yellowId}::uuid`,
        scoped.$executeRaw`UPDATE tenants SET name = 'stolen' WHERE id = ${yellowId}::uuid`,
        scoped.$executeRaw`DELETE FROM vm_disks WHERE vm_id = ${yellowVmId}::uuid`,
        scoped.$executeRaw`DELETE FROM vm_nics WHERE vm_id = ${yellowVmId}::uuid`,
        scoped.$executeRaw`DELETE FROM jobs WHERE tenant_id = ${yellowId}::uuid`,
        scoped.$executeRaw`DELETE FROM tasks WHERE tenant_id = ${yellowId}::uuid`,
        scoped.$executeRaw`DELETE FROM memberships WHERE tenant_id = ${yellowId}::uuid`,
        scoped.$executeRaw`DELETE FROM vm_usage_hourly WHERE tenant_id = ${yellowId}::uuid`,
        api.services.pool.query('DELETE FROM vm_samples WHERE tenant_id = $1', [yellowId]).then((r) => r.rowCount),
      ]);
      expect(changed).toEqual(changed.map(() => 0));
      // Writing a row for Yellow, or moving Blue's row to Yellow, is refused outright.
      await expect(
        scoped.$executeRaw`INSERT INTO tenant_plans (tenant_id, plan, updated_at) VALUES (${yellowId}::uuid, '{}', now())
          ON CONFLICT (tenant_id) DO NOTHING`,
      ).rejects.toThrow(/row-level security/);
      await expect(
        scoped.$executeRaw`UPDATE vms SET tenant_id = ${yellowId}::uuid WHERE id = ${blueVmId}::uuid`,
      ).rejects.toThrow(/row-level security/);
      await expect(
        api.services.pool.query(
          `INSERT INTO vm_usage_daily (vm_id, tenant_id, day, hours, samples, seconds, cpu_mhz_seconds, mem_mib_seconds,
             disk_gib_seconds, disk_read_bytes, disk_write_bytes, net_in_internet_bytes, net_out_internet_bytes,
             net_in_datacenter_bytes, net_out_datacenter_bytes, running_seconds)
           VALUES ($1, $2, '2020-01-01', 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)`,
          [yellowVmId, yellowId],
        ),
      ).rejects.toThrow(/row-level security/);
    });
    const after = await Promise.all(TABLES.map(({ table, tenantOf }) => ownerCounts(table, tenantOf)));
    expect(after).toEqual(before);
    const [yellowVm] = await withSql(
      api.databaseUrl,
      async (sql) => (await sql.query<{ name: string }>('SELECT name FROM vms WHERE id = $1', [yellowVmId])).rows,
    );
    expect(yellowVm?.name).toBe('yellow-app');
  });
});

describe('through the real API', () => {
  it('a Blue session whose repositories are made to pass a provider-wide scope still gets only Blue’s', async () => {
    const { repos } = api.services.uow;
    const restore: (() => void)[] = [];
    // The running API's repositories lose core's scoping: the database is the only wall left.
    const listVms = repos.vms.listVms.bind(repos.vms);
    repos.vms.listVms = (_scope, q) => listVms(PROVIDER, q);
    restore.push(() => {
      repos.vms.listVms = listVms;
    });
    const listAudit = repos.audit.list.bind(repos.audit);
    repos.audit.list = (_scope, q) => listAudit(PROVIDER, q);
    restore.push(() => {
      repos.audit.list = listAudit;
    });
    const listJobs = repos.jobs.list.bind(repos.jobs);
    repos.jobs.list = (_scope, q) => listJobs(PROVIDER, q);
    restore.push(() => {
      repos.jobs.list = listJobs;
    });
    try {
      const vms = await c.blueAdmin.query<{ rows: { name: string }[] }>('vms.list', {});
      expect(vms.rows.map((v) => v.name)).toEqual(['blue-web']);
      const audit = await c.blueAdmin.query<{ rows: { tenantId: string | null }[] }>('audit.list', {});
      expect(audit.rows.length).toBeGreaterThan(0);
      expect(audit.rows.every((e) => e.tenantId === blueId)).toBe(true);
      const tasks = await c.blueAdmin.query<{ rows: { tenantId: string | null }[] }>('tasks.list', {});
      expect(tasks.rows.every((t) => t.tenantId === blueId)).toBe(true);
      // The provider, through the same bypassed repositories, still sees both tenants.
      const all = await c.admin.query<{ rows: { name: string }[] }>('vms.list', {});
      expect(all.rows.map((v) => v.name).sort()).toEqual(['blue-web', 'yellow-app']);
    } finally {
      for (const undo of restore) undo();
    }
  });

  it('a normal Blue session lists, creates and exports its own, and Yellow’s still works', async () => {
    const created = await c.blueAdmin.mutate<{ vm: { id: string; name: string } }>('vms.create', {
      name: 'blue-api',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 512 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: false,
    });
    expect(created.vm.name).toBe('blue-api');
    const blue = await c.blueUser.query<{ rows: { name: string }[] }>('vms.list', {});
    expect(blue.rows.map((v) => v.name).sort()).toEqual(['blue-api', 'blue-web']);
    const yellow = await c.yellowAdmin.query<{ rows: { name: string }[] }>('vms.list', {});
    expect(yellow.rows.map((v) => v.name)).toEqual(['yellow-app']);
    // Last month, which the demo's history covers for both tenants.
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString();
    const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
    const query = new URLSearchParams({ tenantId: blueId, from, to });
    const csv = await fetch(`${api.url}/api/exports/bill.csv?${query}`, {
      headers: { cookie: c.blueAdmin.cookie ?? '', origin: c.blueAdmin.origin },
    });
    expect(csv.status).toBe(200);
    const text = await csv.text();
    expect(text).toContain('web-01');
    expect(text).not.toContain('app-01');
  });

  it('places Blue’s VM knowing the memory Yellow’s VMs hold on the host', async () => {
    // 16 GiB host, Yellow's 8 GiB VM on it: 8 GiB more for Blue does not fit, whoever asks.
    const refused = await c.blueAdmin.call('vms.create', 'mutation', {
      name: 'blue-big',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 8192 },
      disks: [{ sizeGiB: 10 }],
      startAfterCreate: false,
    });
    expect(refused).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
  });
});
