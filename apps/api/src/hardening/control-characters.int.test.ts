import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, demoUser, seedAndSignIn } from '../testing/seed';

// Issue 9, class 6, member by member: a NUL byte (or another control
// character, or a lone surrogate) in any string, and a date like year 0 or
// +100000, is a 400 that names the field and writes nothing — it was a 500
// from Postgres. And a search's % and _ match themselves, not anything.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let clusterId: string;
let blueVmId: string;

const vm = (overrides: Record<string, unknown> = {}) => ({
  name: 'ctl-vm',
  vcpus: 1,
  memory: { mode: 'static', sizeMiB: 1024 },
  disks: [{ name: 'disk0', sizeGiB: 10 }],
  startAfterCreate: false,
  ...overrides,
});

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  clusterId = clusters.find((x) => x.name === 'Production')?.id ?? '';
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId, ttlMinutes: 60 });
  expect((await register(api.url, token, 'hv-ctl-01')).status).toBe(201);
  for (const name of ['web_1', 'webx1']) {
    await c.blueAdmin.mutate('vms.create', vm({ name }));
  }
  const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', vm({ name: 'ctl-measured' }));
  blueVmId = created.vm.id;
});
afterAll(() => api.close());

/** A refusal with a 400 and, for a mutation, no new row in `table`. */
async function expectBadRequest(
  client: ApiClient,
  path: string,
  type: 'query' | 'mutation',
  input: unknown,
  message: RegExp,
  table?: string,
) {
  const before = table ? await countRows(api.databaseUrl, table) : 0;
  const result = await client.call(path, type, input);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect({ status: result.status, code: result.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
  expect(result.message).toMatch(message);
  if (table) expect(await countRows(api.databaseUrl, table)).toBe(before);
}

describe('control characters in names are a 400, not a 500', () => {
  it.each([
    ['a disk name', vm({ disks: [{ name: 'disk\u0000', sizeGiB: 10 }] }), /Disk name must not contain control/],
    ['a NIC name', vm({ nics: [{ name: 'nic\u0000', network: 'default' }] }), /Adapter name must not contain control/],
    ['a NIC network', vm({ nics: [{ name: 'nic0', network: 'lan\u0000' }] }), /Network name must not contain control/],
    ['a tag', vm({ tags: ['prod\u0000'] }), /A tag must not contain control/],
    ['a tag (an escape sequence)', vm({ tags: ['\u001b[31mred'] }), /A tag must not contain control/],
    ['a tag (a lone surrogate)', vm({ tags: ['x\ud800'] }), /A tag must not contain control/],
    ['a storage pool', vm({ disks: [{ name: 'disk0', sizeGiB: 10, pool: 'local\u0000' }] }), /Storage pool/],
    [
      'an affinity group',
      vm({ groups: [{ name: 'g\u0000', kind: 'affinity' }] }),
      /Group name must not contain control/,
    ],
  ])('vms.create refuses control characters in %s', async (_what, input, message) => {
    await expectBadRequest(c.blueAdmin, 'vms.create', 'mutation', input, message, 'vms');
  });

  it('tenants.create refuses a NUL byte in the name', async () => {
    await expectBadRequest(
      c.admin,
      'tenants.create',
      'mutation',
      { name: 'Green\u0000Corp' },
      /Tenant name must not contain control/,
      'tenants',
    );
  });

  it('users.create refuses a NUL byte in the name', async () => {
    await expectBadRequest(
      c.blueAdmin,
      'portal.users.create',
      'mutation',
      { name: 'Eve\u0000', email: 'eve@blue.example', password: 'long-enough-1', role: 'tenant-user' },
      /Name must not contain control/,
      'users',
    );
  });

  it('a cluster description keeps line breaks but refuses NUL', async () => {
    await expectBadRequest(
      c.admin,
      'clusters.create',
      'mutation',
      { name: 'Ctl', description: 'row 4\u0000' },
      /Description must not contain control characters other than tabs and line breaks/,
      'clusters',
    );
    const created = await c.admin.mutate<{ description: string }>('clusters.create', {
      name: 'Ctl',
      description: 'Seattle\nrow 4',
    });
    expect(created.description).toBe('Seattle\nrow 4');
  });

  it('a users.get id with a NUL byte is a 400, not a failed query', async () => {
    await expectBadRequest(c.admin, 'users.get', 'query', { id: 'abc\u0000' }, /id must not contain control/);
  });
});

describe('control characters in list filters are a 400, not a 500', () => {
  it.each([
    ['vms.list', 'blueAdmin', { search: 'web\u0000' }],
    ['hosts.list', 'admin', { search: 'hv\u0000' }],
    ['audit.list', 'admin', { search: 'x\u0000' }],
    ['audit.list', 'admin', { action: 'vm.\u0000' }],
    ['audit.list', 'admin', { targetType: 'vm\u0000' }],
    ['audit.list', 'admin', { targetId: '\u0000' }],
    ['tasks.list', 'admin', { targetId: '\u0000' }],
  ])('%s refuses %j', async (path, login, input) => {
    await expectBadRequest(c[login as DemoLogin], path, 'query', input, /must not contain control characters/);
  });
});

describe('dates outside 2000–2200 are a 400 that says the range', () => {
  const year0 = new Date('0000-01-01T00:00:00Z');
  const far = new Date('+100000-01-01T00:00:00Z');
  it.each([
    ['audit.list from year 0', 'audit.list', { from: year0 }],
    ['audit.list to +100000', 'audit.list', { to: far }],
    ['metering.measureVm from year 0', 'metering.measureVm', () => ({ id: blueVmId, from: year0 })],
    ['metering.measureVm to +100000', 'metering.measureVm', () => ({ id: blueVmId, to: far })],
    [
      'metering.usageSeries over year 0',
      'metering.usageSeries',
      { scope: { kind: 'tenant' }, from: year0, to: new Date('0000-01-02T00:00:00Z'), bucket: 'hour' },
    ],
    [
      'metering.measure to +100000',
      'metering.measure',
      { scope: { kind: 'tenant' }, from: new Date('2026-01-01T00:00:00Z'), to: far },
    ],
  ])('%s', async (_what, path, input) => {
    const value = typeof input === 'function' ? input() : input;
    await expectBadRequest(c.admin, path, 'query', value, /between the years 2000 and 2200/);
  });

  it('a rating period in year 0 (ISO strings) is a 400', async () => {
    await expectBadRequest(
      c.finance,
      'chargeback.bill',
      'query',
      { tenantId: undefined, period: { from: '0000-01-01T00:00:00Z', to: '0000-02-01T00:00:00Z' } },
      /between the years 2000 and 2200/,
    );
  });

  it('a rate card dated 9999 is a 400 and stores nothing', async () => {
    const prices = {
      vcpuHour: '0.01',
      memoryGiBHour: '0.01',
      diskGiBMonth: '0.01',
      networkOutGiB: { internet: '0.01', datacenter: '0' },
      networkInGiB: { internet: '0', datacenter: '0' },
      replicaStorageGiBMonth: '0.01',
    };
    await expectBadRequest(
      c.finance,
      'chargeback.addRateCard',
      'mutation',
      { currency: 'USD', effectiveFrom: '9999-12-01', prices },
      /between the years 2000 and 2200/,
      'rate_cards',
    );
  });
});

describe('searches match % and _ literally', () => {
  it('vms.list: "web_1" finds web_1, not webx1', async () => {
    const page = await c.blueAdmin.query<{ rows: { name: string }[] }>('vms.list', { search: 'web_1' });
    expect(page.rows.map((r) => r.name)).toEqual(['web_1']);
  });

  it('audit.list: "50%" finds the tenant named with 50%, not the one with 500', async () => {
    await c.admin.mutate('tenants.create', { name: 'Gen 50% Corp' });
    await c.admin.mutate('tenants.create', { name: 'Gen 500 Corp' });
    const page = await c.admin.query<{ rows: { targetLabel: string | null }[] }>('audit.list', {
      search: '50%',
      pageSize: 50,
    });
    const labels = page.rows.map((r) => r.targetLabel);
    expect(labels).toContain('Gen 50% Corp');
    expect(labels).not.toContain('Gen 500 Corp');
  });

  it('hosts.list: "hv_ctl" matches no host (there is hv-ctl-01, and _ is not a wildcard)', async () => {
    const page = await c.admin.query<{ rows: { name: string }[] }>('hosts.list', { search: 'hv_ctl' });
    expect(page.rows).toEqual([]);
    const hyphen = await c.admin.query<{ rows: { name: string }[] }>('hosts.list', { search: 'hv-ctl' });
    expect(hyphen.rows.map((r) => r.name)).toEqual(['hv-ctl-01']);
  });
});

// The final probe: names that print as nothing, or as someone else, were accepted.
describe('invisible and deceptive names are refused, saying which rule', () => {
  it.each([
    ['zero width spaces only', '\u200B\u200B\u200B', /must contain at least one visible letter or digit/],
    ['a right-to-left override posing as Alice', '\u202Eecila Corp', /bidirectional control characters/],
    ['an isolate', '\u2067Alice\u2069 Corp', /bidirectional control characters/],
    ['a private-use character', 'Alice \uE000 Corp', /private-use characters/],
    ['tag characters', 'Alice Corp\u{E0041}\u{E0042}', /tag characters/],
    ['a noncharacter', 'Alice Corp\uFFFE', /noncharacters/],
  ])('tenants.create refuses %s', async (_what, name, message) => {
    await expectBadRequest(c.admin, 'tenants.create', 'mutation', { name }, message, 'tenants');
  });

  it.each([
    ['zero width spaces only', '\u200B\u200B', /visible letter or digit/],
    ['a right-to-left override', 'Eve\u202E', /bidirectional/],
  ])('portal.users.create refuses a name of %s', async (_what, name, message) => {
    await expectBadRequest(
      c.blueAdmin,
      'portal.users.create',
      'mutation',
      {
        name,
        email: `inv-${Math.random().toString(36).slice(2, 8)}@blue.example`,
        password: 'long-enough-1',
        role: 'tenant-user',
      },
      message,
      'users',
    );
  });

  it('vms.create refuses an invisible tag and a disk name of marks alone', async () => {
    await expectBadRequest(
      c.blueAdmin,
      'vms.create',
      'mutation',
      vm({ tags: ['\u200B'] }),
      /A tag must contain at least one visible/,
      'vms',
    );
    await expectBadRequest(
      c.blueAdmin,
      'vms.create',
      'mutation',
      vm({ disks: [{ name: '\u0301', sizeGiB: 10 }] }),
      /Disk name must contain at least one visible/,
      'vms',
    );
  });

  it('/api/auth/update-user refuses the same names and keeps the old one', async () => {
    for (const name of ['\u200B\u200B', '\u202Eecila', 'Bob\uE000']) {
      const response = await fetch(`${api.url}/api/auth/update-user`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'http://localhost:3000',
          cookie: c.blueUser.cookie ?? '',
        },
        body: JSON.stringify({ name }),
      });
      expect(response.status).toBe(400);
    }
    const { email, name } = demoUser('blueUser');
    const stored = await withSql(api.databaseUrl, (sql) =>
      sql.query<{ name: string }>('SELECT name FROM users WHERE email = $1', [email]),
    );
    expect(stored.rows[0]?.name).toBe(name);
  });

  it.each([
    ['Japanese', '株式会社みらい'],
    ['Cyrillic', 'ООО Ромашка'],
    ['Arabic', 'شركة النور'],
    ['Hebrew', 'חברת אור'],
  ])('a tenant named in %s is still accepted', async (_what, name) => {
    const result = await c.admin.call('tenants.create', 'mutation', { name });
    expect(result.ok).toBe(true);
  });
});
