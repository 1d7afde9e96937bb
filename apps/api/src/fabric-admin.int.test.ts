import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ProcedureResult } from './testing/api-client';
import { countRows, startTestApi, type TestApi } from './testing/harness';
import { demoUser, seedAndSignIn } from './testing/seed';

// The provider admin's fabric procedures, without agents: clusters within the
// Hyper-V limits, one-time registration tokens, host lookups by id, and the
// overview. A refused request writes nothing; a successful mutation writes
// exactly one audit event naming the admin.

// A frozen service clock, so token expiries are exact.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const clock = { now: () => NOW };

interface Cluster {
  id: string;
  name: string;
  description: string;
  maxHosts: number;
  maxVms: number;
  hostCount: number;
}

interface Token {
  id: string;
  clusterId: string;
  prefix: string;
  label: string;
  expiresAt: Date;
  status: string;
  revokedAt: Date | null;
}

interface AuditPage {
  rows: { actorType: string; actorLabel: string; action: string; targetId: string | null; result: string }[];
  total: number;
}

let api: TestApi;
let admin: ApiClient;
const adminEmail = demoUser('admin').email;
const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  api = await startTestApi({ clock, monitor: false });
  ({ admin } = await seedAndSignIn(api));
});
afterAll(() => api?.close());

const auditCount = () => countRows(api.databaseUrl, 'audit_events');

/** Runs a mutation that must succeed and write exactly one audit event, by the admin, about `target`. */
async function auditedOnce<T>(action: string, run: () => Promise<T>, target: (result: T) => string): Promise<T> {
  const before = await auditCount();
  const result = await run();
  expect(await auditCount()).toBe(before + 1);
  const page = await admin.query<AuditPage>('audit.list', { action, targetId: target(result) });
  expect(page.total).toBe(1);
  expect(page.rows[0]).toMatchObject({ actorType: 'user', actorLabel: adminEmail, action, result: 'success' });
  return result;
}

/** Runs a mutation that must be refused with `code` and write nothing at all. */
async function refusedWithoutWrites(
  code: string,
  path: string,
  input: unknown,
  tables: readonly string[] = ['clusters', 'registration_tokens', 'hosts'],
): Promise<Extract<ProcedureResult, { ok: false }>> {
  const countAll = async () => Promise.all([...tables, 'audit_events'].map((t) => countRows(api.databaseUrl, t)));
  const before = await countAll();
  const result = await admin.call(path, 'mutation', input);
  expect(result).toMatchObject({ ok: false, code });
  expect(await countAll()).toEqual(before);
  if (result.ok) throw new Error('unreachable');
  return result;
}

async function newCluster(overrides: Record<string, unknown> = {}): Promise<Cluster> {
  return auditedOnce(
    'cluster.create',
    () => admin.mutate<Cluster>('clusters.create', { name: `Cluster ${unique()}`, ...overrides }),
    (c) => c.id,
  );
}

describe('fabric.overview', () => {
  it('with no hosts: zeros everywhere, and both seeded clusters', async () => {
    const overview = await admin.query<{
      clusters: number;
      hostsByState: Record<string, number>;
      totals: Record<string, number>;
      clustersSummary: { name: string; hostCount: number; maxHosts: number; logicalProcessors: number }[];
    }>('fabric.overview');
    expect(overview.clusters).toBe(await countRows(api.databaseUrl, 'clusters'));
    expect(overview.hostsByState).toEqual({ connected: 0, suspect: 0, failed: 0, maintenance: 0 });
    expect(overview.totals).toEqual({
      logicalProcessors: 0,
      memoryMiB: 0,
      storageCapacityBytes: 0,
      storageUsedBytes: 0,
    });
    for (const name of ['Production', 'Development']) {
      expect(overview.clustersSummary).toContainEqual(
        expect.objectContaining({ name, hostCount: 0, maxHosts: 64, logicalProcessors: 0, memoryMiB: 0 }),
      );
    }
    expect(overview.clustersSummary).toHaveLength(overview.clusters);
  });
});

describe('clusters.create', () => {
  it('defaults to the Hyper-V limits: 64 hosts, 4,000 VMs', async () => {
    const name = `Defaults ${unique()}`;
    const cluster = await newCluster({ name });
    expect(cluster).toMatchObject({ name, description: '', maxHosts: 64, maxVms: 4000, hostCount: 0 });
    expect(await admin.query<Cluster>('clusters.get', { id: cluster.id })).toMatchObject({
      name,
      maxHosts: 64,
      maxVms: 4000,
    });
  });

  it('takes smaller limits', async () => {
    const cluster = await newCluster({ maxHosts: 8, maxVms: 200, description: 'Lab' });
    expect(cluster).toMatchObject({ maxHosts: 8, maxVms: 200, description: 'Lab' });
  });

  it.each([
    { field: 'maxHosts', value: 65, message: 'A cluster has at most 64 hosts (Hyper-V limit)' },
    { field: 'maxVms', value: 4001, message: 'A cluster has at most 4,000 VMs (Hyper-V limit)' },
    { field: 'maxHosts', value: 0, message: 'A cluster needs room for at least 1 host' },
    { field: 'name', value: '-leading-hyphen', message: 'Cluster name may hold letters' },
  ])('refuses $field = $value: “$message”', async ({ field, value, message }) => {
    const result = await refusedWithoutWrites('BAD_REQUEST', 'clusters.create', {
      name: `Too big ${unique()}`,
      [field]: value,
    });
    expect(result.status).toBe(400);
    expect(result.message).toContain(message);
  });

  it('refuses a duplicate name, whatever its case, and writes nothing', async () => {
    for (const name of ['Production', 'production', 'PRODUCTION']) {
      const result = await refusedWithoutWrites('CONFLICT', 'clusters.create', { name });
      expect(result).toMatchObject({ status: 409, message: `A cluster named "${name}" already exists` });
    }
  });
});

describe('registration tokens', () => {
  it('shows the token once; the list never holds it', async () => {
    const cluster = await newCluster();
    const created = await auditedOnce(
      'token.create',
      () =>
        admin.mutate<{ id: string; token: string; expiresAt: Date; agentCommand: string }>('tokens.create', {
          clusterId: cluster.id,
          label: 'rack 7',
          ttlMinutes: 90,
        }),
      () => cluster.id,
    );
    expect(created.token.length).toBeGreaterThanOrEqual(20);
    expect(created.expiresAt).toEqual(new Date(NOW.getTime() + 90 * 60_000));
    expect(created.agentCommand).toContain(`--token ${created.token}`);

    const tokens = await admin.query<Token[]>('tokens.list', { clusterId: cluster.id });
    expect(tokens).toEqual([
      expect.objectContaining({
        id: created.id,
        clusterId: cluster.id,
        label: 'rack 7',
        status: 'active',
        revokedAt: null,
        expiresAt: created.expiresAt,
      }),
    ]);
    expect(created.token.startsWith(tokens[0]?.prefix ?? '\u0000')).toBe(true);
    expect(JSON.stringify(tokens)).not.toContain(created.token);
    // Nor is it stored.
    expect(await countRows(api.databaseUrl, 'registration_tokens', `token_hash = '${created.token}'`)).toBe(0);
  });

  it('defaults to a 60-minute life', async () => {
    const cluster = await newCluster();
    const created = await admin.mutate<{ expiresAt: Date }>('tokens.create', { clusterId: cluster.id });
    expect(created.expiresAt).toEqual(new Date(NOW.getTime() + 60 * 60_000));
  });

  it.each([
    { ttlMinutes: 4, message: 'A token lives at least 5 minutes' },
    { ttlMinutes: 7 * 24 * 60 + 1, message: 'A token lives at most 7 days' },
    { ttlMinutes: 30.5, message: 'expected int' },
  ])('refuses ttlMinutes = $ttlMinutes', async ({ ttlMinutes, message }) => {
    const [production] = await admin.query<Cluster[]>('clusters.list');
    const result = await refusedWithoutWrites('BAD_REQUEST', 'tokens.create', {
      clusterId: production?.id,
      ttlMinutes,
    });
    expect(result.message).toContain(message);
  });

  it('for a cluster that does not exist: NOT_FOUND', async () => {
    await refusedWithoutWrites('NOT_FOUND', 'tokens.create', { clusterId: randomUUID() });
    expect(await admin.call('tokens.list', 'query', { clusterId: randomUUID() })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
  });

  it('revokes once; a second revocation is a CONFLICT', async () => {
    const cluster = await newCluster();
    const { id } = await admin.mutate<{ id: string }>('tokens.create', { clusterId: cluster.id });
    await auditedOnce(
      'token.revoke',
      () => admin.mutate('tokens.revoke', { id }),
      () => id,
    );
    const [token] = await admin.query<Token[]>('tokens.list', { clusterId: cluster.id });
    expect(token).toMatchObject({ id, status: 'revoked', revokedAt: NOW });

    const again = await refusedWithoutWrites('CONFLICT', 'tokens.revoke', { id });
    expect(again).toMatchObject({ status: 409, message: 'This token is already revoked' });
  });

  it('revoking a token that does not exist: NOT_FOUND', async () => {
    await refusedWithoutWrites('NOT_FOUND', 'tokens.revoke', { id: randomUUID() });
  });
});

describe('hosts by id, with no hosts registered', () => {
  it('hosts.get of a random id: NOT_FOUND', async () => {
    expect(await admin.call('hosts.get', 'query', { id: randomUUID() })).toMatchObject({
      ok: false,
      status: 404,
      code: 'NOT_FOUND',
      message: 'Host not found',
    });
  });

  it.each([
    ['hosts.remove', {}],
    ['hosts.setMaintenance', { enabled: true, reason: 'firmware' }],
    ['hosts.setMaintenance', { enabled: false }],
  ] as const)('%s of a random id: NOT_FOUND, nothing written', async (path, rest) => {
    const result = await refusedWithoutWrites('NOT_FOUND', path, { id: randomUUID(), ...rest });
    expect(result).toMatchObject({ status: 404, message: 'Host not found' });
  });

  it('a malformed id is a BAD_REQUEST', async () => {
    await refusedWithoutWrites('BAD_REQUEST', 'hosts.remove', { id: 'hv-prod-01' });
  });
});

describe('hosts.list', () => {
  it('lists nothing yet', async () => {
    expect(await admin.query('hosts.list', {})).toEqual({ rows: [], total: 0 });
  });

  it.each([
    { pageSize: 1000 },
    { pageSize: 5 },
    { page: 0 },
    { sort: 'password' },
    { state: 'exploded' },
    { clusterId: 'not-a-uuid' },
  ])('refuses %o', async (input) => {
    expect(await admin.call('hosts.list', 'query', input)).toMatchObject({
      ok: false,
      status: 400,
      code: 'BAD_REQUEST',
    });
  });
});
