import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '@fabric/core/shared/roles';
import { TENANT_ROLES } from '@fabric/core/shared/roles';
import type { AnyProcedure } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appRouter } from './routers/root';
import { register } from './testing/agent-fixtures';
import { ApiClient, type ProcedureResult } from './testing/api-client';
import { countRows, startTestApi, type TestApi } from './testing/harness';
import { type DemoLogin, seedAndSignIn } from './testing/seed';
import type { Meta } from './trpc/init';

// Tenancy by construction (STYLE.md rule 5): the tenant comes from the
// session, another tenant's object is NOT_FOUND exactly like a missing one,
// and nothing leaks across tenants through lists, overviews or the audit log.

interface UserRow {
  id: string;
  email: string;
  role: Role;
  tenantId: string | null;
  tenantName: string | null;
}

interface TenantRow {
  id: string;
  name: string;
  slug: string;
}

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
let yellowVmIds: string[] = [];
let yellowNetworkIds: string[] = [];
let yellowSubnetIds: string[] = [];
let yellowUserIds: string[];
let yellowInvoiceIds: string[] = [];
let yellowTaskIds: string[] = [];
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

/** A suffix that keeps names and emails of this run unique. */
const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock });
  c = await seedAndSignIn(api);
  const tenants = await c.admin.query<TenantRow[]>('tenants.list');
  blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  yellowId = tenants.find((t) => t.name === 'Yellow Corp')?.id ?? '';
  const yellowUsers = await c.admin.query<UserRow[]>('users.list', { tenantId: yellowId });
  yellowUserIds = yellowUsers.map((u) => u.id);
  expect(yellowUserIds).toHaveLength(2);
  // A host for VMs (registered as an agent would), and one VM of Yellow's.
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((cl) => cl.name === 'Production');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
  expect((await register(api.url, token, 'tenancy-host-01')).status).toBe(201);
  const created = await c.yellowAdmin.mutate<{ vm: { id: string } }>('vms.create', {
    name: 'yellow-web-01',
    vcpus: 2,
    memory: { mode: 'static', sizeMiB: 2048 },
    disks: [{ sizeGiB: 20 }],
    startAfterCreate: false,
  });
  yellowVmIds = [created.vm.id];
  // Yellow's networks: one to rename then delete, one whose subnet is renamed then deleted.
  const netA = await c.yellowAdmin.mutate<{ id: string }>('network.createVmNetwork', { name: 'yellow-net-a' });
  const netB = await c.yellowAdmin.mutate<{ id: string }>('network.createVmNetwork', { name: 'yellow-net-b' });
  const subnet = await c.yellowAdmin.mutate<{ id: string }>('network.createSubnet', {
    vmNetworkId: netB.id,
    name: 'yellow-lan',
    prefix: '10.44.0.0/24',
  });
  yellowNetworkIds = [netA.id];
  yellowSubnetIds = [subnet.id];
  // A closed month, so each tenant has an invoice: last month, under a card
  // added (as cards must be) before that month began.
  const now = new Date();
  const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  offsetMs = lastMonth.getTime() - 3_600_000 - Date.now();
  await c.finance.mutate('chargeback.addRateCard', {
    currency: 'USD',
    effectiveFrom: lastMonth.toISOString().slice(0, 10),
    prices: {
      vcpuHour: '0.01',
      memoryGiBHour: '0.005',
      diskGiBMonth: '0.1',
      networkOutGiB: { internet: '0.09', datacenter: '0' },
      networkInGiB: { internet: '0', datacenter: '0' },
      replicaStorageGiBMonth: '0.05',
    },
  });
  offsetMs = 0;
  await c.finance.mutate('chargeback.closePeriod', { month: lastMonth.toISOString().slice(0, 7) });
  yellowInvoiceIds = (await c.yellowAdmin.query<{ id: string }[]>('chargeback.invoices', {})).map((i) => i.id);
  // Creating Yellow's VM queued its task for a host: the Tasks panel's own object.
  yellowTaskIds = (await c.yellowAdmin.query<{ rows: { id: string }[] }>('tasks.list', {})).rows.map((t) => t.id);
});
afterAll(() => api?.close());

async function identityCounts() {
  return {
    users: await countRows(api.databaseUrl, 'users'),
    memberships: await countRows(api.databaseUrl, 'memberships'),
    tenants: await countRows(api.databaseUrl, 'tenants'),
    accounts: await countRows(api.databaseUrl, 'accounts'),
  };
}

/** Every JSON string value, keys included, so a leak anywhere in a payload is found. */
function deepStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value instanceof Date) return [];
  if (Array.isArray(value)) return value.flatMap(deepStrings);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [k, ...deepStrings(v)]);
  }
  return [];
}

function leaksYellow(value: unknown): string[] {
  return deepStrings(value).filter((s) => /yellow/i.test(s) || s === yellowId || yellowUserIds.includes(s));
}

// ------------------------------------------------------------ the id probes

// tRPC 11 types `_def.procedures` like the nested router, but holds it flat,
// keyed by dotted path ('portal.users.get'), which is what the table lists.
const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;

/** The input schema's keys, when the procedure takes an object. */
function inputKeys(procedure: AnyProcedure): string[] {
  const inputs = (procedure._def as { inputs?: unknown[] }).inputs ?? [];
  return inputs.flatMap((schema) => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []));
}

/**
 * Procedures a tenant role may call that name an object by id: each must
 * treat another tenant's id as missing. Derived from the procedures
 * themselves, so a new one is covered (and must say how to find Yellow's ids).
 */
const tenantIdProcedures = Object.entries(procedures)
  .filter(([, p]) => {
    const roles = (p._def.meta as Meta | undefined)?.roles;
    const tenantCallable =
      roles === 'authenticated' || (Array.isArray(roles) && roles.some((r) => TENANT_ROLES.includes(r)));
    return tenantCallable && inputKeys(p).includes('id');
  })
  .map(([path]) => path);

/** Yellow Corp's objects that each tenant id-procedure could be asked about. */
const YELLOW_OBJECTS: Record<string, { ids: () => string[]; input?: Record<string, unknown> }> = {
  'portal.users.get': { ids: () => yellowUserIds },
  'vms.get': { ids: () => yellowVmIds },
  // Delete would be refused for a VM still being created anyway; Blue must not even learn that.
  'vms.act': { ids: () => yellowVmIds, input: { action: 'delete' } },
  'metering.measureVm': { ids: () => yellowVmIds },
  'metering.resetVm': { ids: () => yellowVmIds },
  'chargeback.invoice': { ids: () => yellowInvoiceIds },
  'tasks.get': { ids: () => yellowTaskIds },
  // In this order (the router's): an edit, then the delete that ends the object (Yellow's control deletes it).
  'network.updateVmNetwork': { ids: () => yellowNetworkIds, input: { name: 'renamed-by-probe' } },
  'network.deleteVmNetwork': { ids: () => yellowNetworkIds },
  'network.updateSubnet': { ids: () => yellowSubnetIds, input: { name: 'renamed-by-probe' } },
  'network.deleteSubnet': { ids: () => yellowSubnetIds },
};

describe('another tenant’s objects are NOT_FOUND, exactly like missing ones', () => {
  it('knows which procedures to probe', () => {
    expect(tenantIdProcedures).toContain('portal.users.get');
    const unknown = tenantIdProcedures.filter((p) => !(p in YELLOW_OBJECTS));
    expect(unknown, 'tenant procedures taking an id without Yellow objects to probe').toEqual([]);
  });

  it.each(tenantIdProcedures)('%s as Blue’s admin with Yellow’s ids', async (path) => {
    const type = procedures[path]?._def.type;
    if (type !== 'query' && type !== 'mutation') throw new Error(`${path} is a ${type}`);
    const before = await identityCounts();
    const auditBefore = await countRows(api.databaseUrl, 'audit_events');

    // A message may echo the id the caller gave ("No subnet <id>"): that is all it may say, for both alike.
    const strip = (r: ProcedureResult, id: string) =>
      r.ok ? r : { ok: r.ok, status: r.status, code: r.code, message: r.message.replaceAll(id, '<id>') };
    const probe = YELLOW_OBJECTS[path];
    const extra = probe?.input ?? {};
    const randomId = randomUUID();
    const missing = strip(await c.blueAdmin.call(path, type, { id: randomId, ...extra }), randomId);
    expect(missing).toMatchObject({ ok: false, status: 404, code: 'NOT_FOUND' });
    const ids = probe?.ids() ?? [];
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      expect(strip(await c.blueAdmin.call(path, type, { id, ...extra }), id)).toEqual(missing);
    }
    // Blue's attempts changed nothing, not even the audit log.
    expect(await countRows(api.databaseUrl, 'audit_events')).toBe(auditBefore);
    for (const id of ids) {
      // The control: Yellow's own admin finds it (it may still refuse the action, but not as missing).
      const own = await c.yellowAdmin.call(path, type, { id, ...extra });
      expect(own.ok || own.code !== 'NOT_FOUND').toBe(true);
    }

    expect(await identityCounts()).toEqual(before);
  });

  it('the provider’s tenant lookup refuses a malformed id as a bad request, not a server error', async () => {
    const result = await c.admin.call('tenants.get', 'query', { id: 'not-a-uuid' });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST' });
  });
});

/**
 * Procedures that name another tenant's object inside a nested input (not a
 * top-level `id`, so the table above does not find them): same rule.
 */
const NESTED_YELLOW_OBJECTS: Record<string, { input: (id: string) => Record<string, unknown> }> = {
  'metering.usageSeries': {
    input: (vmId) => ({
      scope: { kind: 'vm', vmId },
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
      bucket: 'hour',
    }),
  },
  // The VM page's "waiting for capacity after a host failed" banner.
  'ha.vmRecovery': { input: (vmId) => ({ vmId }) },
  // The VM page's Port policy card (it answered another tenant's VM with an empty list).
  'network.vmPorts': { input: (vmId) => ({ vmId }) },
};

describe('another tenant’s objects named inside an input are NOT_FOUND too', () => {
  it.each(Object.keys(NESTED_YELLOW_OBJECTS))('%s as Blue’s admin with Yellow’s VM', async (path) => {
    const probe = NESTED_YELLOW_OBJECTS[path];
    if (!probe) throw new Error(path);
    const auditBefore = await countRows(api.databaseUrl, 'audit_events');
    const strip = (r: ProcedureResult) => (r.ok ? r : { ok: r.ok, status: r.status, code: r.code, message: r.message });
    const missing = strip(await c.blueAdmin.call(path, 'query', probe.input(randomUUID())));
    expect(missing).toMatchObject({ ok: false, status: 404, code: 'NOT_FOUND' });
    for (const id of yellowVmIds)
      expect(strip(await c.blueAdmin.call(path, 'query', probe.input(id)))).toEqual(missing);
    expect(await countRows(api.databaseUrl, 'audit_events')).toBe(auditBefore);
    // The control: Yellow's own admin finds it.
    for (const id of yellowVmIds) expect((await c.yellowAdmin.call(path, 'query', probe.input(id))).ok).toBe(true);
  });
});

/**
 * metering.measure names a tenant or a cluster inside `scope`, not a tenant's
 * object: a tenant role always gets its own tenant whatever it names (as
 * usageSeries), and resource pools (clusters) are the provider's view.
 */
describe('metering.measure names no other tenant’s data', () => {
  const period = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') };
  it('Blue naming Yellow’s tenant gets Blue’s own totals', async () => {
    const m = await c.blueAdmin.query<{ scope: { id: string } }>('metering.measure', {
      scope: { kind: 'tenant', tenantId: yellowId },
      ...period,
    });
    expect(m.scope.id).toBe(blueId);
    expect(leaksYellow(m)).toEqual([]);
  });

  it('a tenant cannot measure a resource pool', async () => {
    const clusters = await c.admin.query<{ id: string }[]>('clusters.list');
    for (const cl of clusters) {
      const r = await c.blueAdmin.call('metering.measure', 'query', {
        scope: { kind: 'pool', clusterId: cl.id },
        ...period,
      });
      expect(r).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    }
  });
});

describe('what Blue Corp sees', () => {
  it('the portal overview shows Blue’s tenant and people, and nothing of Yellow', async () => {
    const overview = await c.blueAdmin.query<{
      tenant: TenantRow;
      you: { email: string; role: Role };
      userCount: number;
      users: { email: string }[];
    }>('portal.overview');
    expect(overview.tenant).toEqual({ id: blueId, name: 'Blue Corp', slug: 'blue-corp' });
    expect(overview.you).toMatchObject({ email: 'alice@blue.example', role: 'tenant-admin' });
    const emails = overview.users.map((u) => u.email);
    expect(emails).toEqual(expect.arrayContaining(['alice@blue.example', 'bob@blue.example']));
    expect(emails.every((e) => e.endsWith('@blue.example'))).toBe(true);
    expect(overview.userCount).toBe(await countRows(api.databaseUrl, 'memberships', `tenant_id = '${blueId}'`));
    expect(leaksYellow(overview)).toEqual([]);
  });

  it('a tenant user sees its tenant but no list of people', async () => {
    const overview = await c.blueUser.query<{ tenant: TenantRow; users: unknown[]; you: { role: Role } }>(
      'portal.overview',
    );
    expect(overview.tenant.id).toBe(blueId);
    expect(overview.you.role).toBe('tenant-user');
    expect(overview.users).toEqual([]);
    expect(leaksYellow(overview)).toEqual([]);
  });

  it('the portal user list holds only Blue’s people', async () => {
    const users = await c.blueAdmin.query<UserRow[]>('portal.users.list');
    expect(users.length).toBeGreaterThanOrEqual(2);
    expect(users.every((u) => u.tenantId === blueId && u.tenantName === 'Blue Corp')).toBe(true);
    expect(leaksYellow(users)).toEqual([]);
  });
});

describe('a tenant admin adds people to its own tenant only', () => {
  it('ignores a smuggled tenantId: the new user is in Blue Corp', async () => {
    const email = `smuggled-${unique()}@blue.example`;
    const created = await c.blueAdmin.mutate<UserRow>('portal.users.create', {
      name: 'Smuggled Person',
      email,
      password: 'a-long-enough-password',
      role: 'tenant-user',
      tenantId: yellowId,
    });
    expect(created).toMatchObject({ email, tenantId: blueId, tenantName: 'Blue Corp', role: 'tenant-user' });
    // In the database, not only in the answer.
    expect(
      await countRows(
        api.databaseUrl,
        'memberships m JOIN users u ON u.id = m.user_id',
        `u.email = '${email}' AND m.tenant_id = '${blueId}' AND m.role = 'tenant_user'`,
      ),
    ).toBe(1);
    const yellowUsers = await c.yellowAdmin.query<UserRow[]>('portal.users.list');
    expect(yellowUsers.map((u) => u.email)).not.toContain(email);
  });

  it('cannot create a provider role', async () => {
    const before = await identityCounts();
    const result = await c.blueAdmin.call('portal.users.create', 'mutation', {
      name: 'Would-be Admin',
      email: `escalate-${unique()}@blue.example`,
      password: 'a-long-enough-password',
      role: 'provider-admin',
    });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST' });
    expect(await identityCounts()).toEqual(before);
  });
});

describe('the audit log as Blue’s admin', () => {
  it('holds only Blue Corp’s events, even with Yellow activity around', async () => {
    // Yellow activity: a new user, and a refused call.
    await c.yellowAdmin.mutate('portal.users.create', {
      name: 'Yellow Newcomer',
      email: `newcomer-${unique()}@yellow.example`,
      password: 'a-long-enough-password',
      role: 'tenant-user',
    });
    expect((await c.yellowUser.call('portal.users.list', 'query')).ok).toBe(false);
    // Blue activity too, so the page is not trivially empty.
    await c.blueAdmin.mutate('portal.users.create', {
      name: 'Blue Newcomer',
      email: `newcomer-${unique()}@blue.example`,
      password: 'a-long-enough-password',
      role: 'tenant-user',
    });
    expect(await countRows(api.databaseUrl, 'audit_events', `tenant_id = '${yellowId}'`)).toBeGreaterThanOrEqual(2);

    const page = await c.blueAdmin.query<{ rows: { tenantId: string | null }[]; total: number }>('audit.list', {
      pageSize: 200,
    });
    expect(page.total).toBe(await countRows(api.databaseUrl, 'audit_events', `tenant_id = '${blueId}'`));
    expect(page.rows.length).toBe(Math.min(page.total, 200));
    expect(page.rows.length).toBeGreaterThan(0);
    expect(page.rows.filter((r) => r.tenantId !== blueId)).toEqual([]);
    expect(leaksYellow(page)).toEqual([]);

    // Searching or filtering for Yellow's objects finds nothing either.
    const search = await c.blueAdmin.query<{ total: number }>('audit.list', { search: 'yellow' });
    expect(search.total).toBe(0);
    for (const targetId of yellowUserIds) {
      expect((await c.blueAdmin.query<{ total: number }>('audit.list', { targetId })).total).toBe(0);
    }
  });
});

describe('the provider admin manages tenants and users', () => {
  it('refuses a duplicate tenant name, whatever its case or punctuation, and writes nothing', async () => {
    const before = await identityCounts();
    const auditBefore = await countRows(api.databaseUrl, 'audit_events', `action = 'tenant.create'`);
    for (const name of ['Blue Corp', 'blue corp', 'BLUE CORP', 'Blue-Corp']) {
      const result = await c.admin.call('tenants.create', 'mutation', { name });
      expect(result).toMatchObject({ ok: false, status: 409, code: 'CONFLICT' });
      expect(result.ok || result.message).toBe(`A tenant named "${name}" already exists`);
    }
    expect(await identityCounts()).toEqual(before);
    expect(await countRows(api.databaseUrl, 'audit_events', `action = 'tenant.create'`)).toBe(auditBefore);
  });

  it.each(['!!!', '— · —'])('refuses %j, no letter or digit in any script, as a bad request', async (name) => {
    const before = await identityCounts();
    const result = await c.admin.call('tenants.create', 'mutation', { name });
    expect(result).toMatchObject({
      ok: false,
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(result.ok || result.message).toContain('Tenant name must contain at least one visible letter or digit');
    expect(await identityCounts()).toEqual(before);
  });

  it('refuses a duplicate email, whatever its case', async () => {
    const before = await identityCounts();
    const result = await c.admin.call('users.create', 'mutation', {
      name: 'Alice Again',
      email: 'ALICE@Blue.Example',
      password: 'a-long-enough-password',
      role: 'tenant-user',
      tenantId: blueId,
    });
    expect(result).toMatchObject({
      ok: false,
      status: 409,
      code: 'CONFLICT',
      message: 'A user with email alice@blue.example already exists',
    });
    expect(await identityCounts()).toEqual(before);
  });

  it.each([
    {
      why: 'a tenant role without a tenant',
      role: 'tenant-admin',
      withTenant: false,
      message: 'A tenant-admin must belong to a tenant',
    },
    {
      why: 'a provider role with a tenant',
      role: 'finance',
      withTenant: true,
      message: 'A finance belongs to the provider, not to a tenant',
    },
    {
      why: 'a provider admin with a tenant',
      role: 'provider-admin',
      withTenant: true,
      message: 'A provider-admin belongs to the provider, not to a tenant',
    },
  ])('refuses $why with BAD_REQUEST', async ({ role, withTenant, message }) => {
    const before = await identityCounts();
    const result = await c.admin.call('users.create', 'mutation', {
      name: 'Misplaced Person',
      email: `misplaced-${unique()}@example.com`,
      password: 'a-long-enough-password',
      role,
      ...(withTenant ? { tenantId: blueId } : {}),
    });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST', message });
    expect(await identityCounts()).toEqual(before);
  });

  it('refuses a short password with the schema’s message', async () => {
    const before = await identityCounts();
    const result = await c.admin.call('users.create', 'mutation', {
      name: 'Short Password',
      email: `short-${unique()}@example.com`,
      password: 'short',
      role: 'finance',
    });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST' });
    expect(result.ok || result.message).toContain('Password must be at least 10 characters');
    expect(result.ok || result.zodError).toMatchObject({
      fieldErrors: { password: ['Password must be at least 10 characters'] },
    });
    expect(await identityCounts()).toEqual(before);
  });

  it('a new tenant’s new admin can sign in and is who the provider said', async () => {
    const name = `Green ${unique()}`;
    const tenant = await c.admin.mutate<TenantRow>('tenants.create', { name });
    expect(tenant.slug).toBe(name.toLowerCase().replace(' ', '-'));
    const email = `gina-${unique()}@green.example`;
    const user = await c.admin.mutate<UserRow>('users.create', {
      name: 'Gina Green',
      email,
      password: 'green-admin-password',
      role: 'tenant-admin',
      tenantId: tenant.id,
    });
    expect(user).toMatchObject({ email, role: 'tenant-admin', tenantId: tenant.id, tenantName: name });

    const gina = await ApiClient.signIn(api.url, email, 'green-admin-password');
    const me = await gina.query('auth.me');
    expect(me).toEqual({
      user: { id: user.id, name: 'Gina Green', email },
      role: 'tenant-admin',
      tenant: { id: tenant.id, name },
    });
    // And sees only the new tenant.
    const overview = await gina.query<{ tenant: TenantRow; users: { email: string }[] }>('portal.overview');
    expect(overview.tenant.id).toBe(tenant.id);
    expect(overview.users.map((u) => u.email)).toEqual([email]);
  });

  it('a new provider user signs in without a tenant', async () => {
    const email = `fiona-${unique()}@fabric.local`;
    await c.admin.mutate('users.create', { name: 'Fiona', email, password: 'finance-password', role: 'finance' });
    const fiona = await ApiClient.signIn(api.url, email, 'finance-password');
    expect(await fiona.query('auth.me')).toMatchObject({ role: 'finance', tenant: null, user: { email } });
  });
});
