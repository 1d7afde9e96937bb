import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { createStoppedVm, demoTenantIds } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Pattern forms (`web*`) of enabling replication, failing over (issue 10) and
// migrating (issue 12), over HTTP: a tenant's pattern matches only its own
// VMs, the preview lists exactly what acting then starts and refuses, and a
// refused VM is left as it was. Hosts register as agents would, without agent
// processes: the tasks started wait for hosts that never pull them, which is
// all these tests need (the single operations' own tests run them to the end).

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let yellowId: string;
const hosts: Record<string, { id: string; clusterId: string }> = {};
const vms: Record<string, string> = {};

interface PreviewItem {
  vmId: string;
  name: string;
  ok: boolean;
  reason: string | null;
  detail: string | null;
}
interface Preview {
  pattern: string;
  limit: number;
  items: PreviewItem[];
}
interface Result {
  started: number;
  refused: number;
  items: { vmId: string; name: string; ok: boolean; message: string; taskId: string | null }[];
}

async function registerHost(hostname: string, clusterName: string) {
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const clusterId = clusters.find((cl) => cl.name === clusterName)?.id ?? '';
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', { clusterId });
  const res = await register(api.url, token, hostname);
  expect(res.status).toBe(201);
  hosts[hostname] = { id: (res.body as { hostId: string }).hostId, clusterId };
}

/** The relationships' rows as stored, by VM name: what a refusal must leave exactly as it was. */
function relationships(): Promise<Record<string, string>> {
  return withSql(api.databaseUrl, async (sql) => {
    const r = await sql.query<{ name: string; row: string }>(
      `SELECT v.name, row_to_json(r)::text AS row FROM replication_relationships r JOIN vms v ON v.id = r.vm_id`,
    );
    return Object.fromEntries(r.rows.map((x) => [x.name, x.row]));
  });
}

const verdicts = (p: Preview) => p.items.map((i) => [i.name, i.ok]);
const outcomes = (r: Result) => r.items.map((i) => [i.name, i.ok]);

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  ({ blueId, yellowId } = await demoTenantIds(c));
  // Production's hosts first: the VMs are placed there (no other cluster has a host yet).
  await registerHost('pat-a-01', 'Production');
  await registerHost('pat-a-02', 'Production');
  for (const [client, name] of [
    [c.blueAdmin, 'pat-web-01'],
    [c.blueAdmin, 'PAT-Web-02'],
    [c.blueAdmin, 'pat-db-01'],
    [c.yellowAdmin, 'pat-web-09'],
  ] as const) {
    vms[name] = await createStoppedVm(client, name, { vcpus: 1, memoryMiB: 1024, diskGiB: 1 });
  }
  // The replica cluster, authorized for every tenant.
  await registerHost('pat-b-01', 'Development');
  const replica = await c.admin.query<{ storagePools: { name: string }[] }>('hosts.get', { id: hosts['pat-b-01']?.id });
  await c.admin.mutate('replication.authorizations.create', {
    replicaClusterId: hosts['pat-b-01']?.clusterId,
    storagePool: replica.storagePools[0]?.name,
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('replication by pattern', () => {
  const enableInput = (pattern: string, extra: Record<string, unknown> = {}) => ({
    pattern,
    target: { kind: 'cluster', clusterId: hosts['pat-b-01']?.clusterId },
    frequencySeconds: 300,
    additionalPoints: 4,
    ...extra,
  });

  it("enables for the tenant's own matching VMs only, exactly as previewed, leaving refused VMs as they were", async () => {
    // One of them replicated already, by the single procedure.
    await c.blueAdmin.mutate('replication.enable', {
      vmId: vms['PAT-Web-02'],
      target: { kind: 'cluster', clusterId: hosts['pat-b-01']?.clusterId },
      frequencySeconds: 30,
    });
    const before = await relationships();

    const preview = await c.blueUser.query<Preview>('replication.previewEnableByPattern', enableInput('pat-WEB-*'));
    // Case folded; Yellow's pat-web-09 matches the pattern but is not Blue's.
    expect(verdicts(preview)).toEqual([
      ['pat-web-01', true],
      ['PAT-Web-02', false],
    ]);
    expect(preview.items[1]?.reason).toMatch(/already replicated/);
    // A tenant reads no host name.
    expect(preview.items[0]?.detail).toBe('Replicates to a host the provider authorized');
    expect(preview.limit).toBe(50);
    // A preview writes nothing.
    expect(await relationships()).toEqual(before);

    const result = await c.blueUser.mutate<Result>('replication.enableByPattern', enableInput('pat-WEB-*'));
    expect(outcomes(result)).toEqual(verdicts(preview));
    expect(result).toMatchObject({ started: 1, refused: 1 });
    expect(result.items[1]?.message).toBe(preview.items[1]?.reason);
    const after = await relationships();
    expect(after['PAT-Web-02']).toBe(before['PAT-Web-02']);
    expect(JSON.parse(after['pat-web-01'] ?? '{}')).toMatchObject({ frequency_seconds: 300, additional_points: 4 });
    expect(after['pat-web-09']).toBeUndefined();
    // Each VM its own task, in Tasks.
    const task = await c.blueUser.query<{ kind: string; targetId: string }>('tasks.get', {
      id: result.items[0]?.taskId,
    });
    expect(task).toMatchObject({ kind: 'replication.enable', targetId: vms['pat-web-01'] });
  });

  it("never reaches another tenant's VMs: naming Yellow matches nothing, and acting on nothing is NOT_FOUND", async () => {
    const before = await relationships();
    const asYellow = enableInput('pat-*', { tenantId: yellowId });
    expect((await c.blueAdmin.query<Preview>('replication.previewEnableByPattern', asYellow)).items).toEqual([]);
    const act = await c.blueAdmin.call('replication.enableByPattern', 'mutation', asYellow);
    expect(act).toMatchObject({ ok: false, code: 'NOT_FOUND', message: 'No VM matches “pat-*”' });
    const failover = await c.blueAdmin.call('replication.failoverByPattern', 'mutation', {
      pattern: 'pat-web-09',
      kind: 'planned',
    });
    expect(failover).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    // Yellow's own pattern sees its VM only.
    const yellow = await c.yellowUser.query<Preview>('replication.previewFailoverByPattern', {
      pattern: 'pat-*',
      kind: 'planned',
    });
    expect(yellow.items.map((i) => [i.name, i.reason])).toEqual([['pat-web-09', 'pat-web-09 is not replicated']]);
    // The provider may scope a pattern to one tenant.
    const scoped = await c.admin.query<Preview>(
      'replication.previewEnableByPattern',
      enableInput('pat-*', { tenantId: yellowId }),
    );
    expect(scoped.items.map((i) => i.name)).toEqual(['pat-web-09']);
    expect(await relationships()).toEqual(before);
  });

  it('fails over planned exactly the VMs the preview listed, and reports the others with the single check’s reason', async () => {
    // As if the initial copy had finished (no agent here to make it).
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`UPDATE replication_relationships SET state = 'replicating' WHERE vm_id = $1`, [vms['pat-web-01']]),
    );
    const before = await relationships();
    const input = { pattern: 'pat-*', kind: 'planned' };
    const preview = await c.blueAdmin.query<Preview>('replication.previewFailoverByPattern', input);
    expect(preview.items.map((i) => [i.name, i.ok, i.reason])).toEqual([
      ['pat-db-01', false, 'pat-db-01 is not replicated'],
      ['pat-web-01', true, null],
      ['PAT-Web-02', false, expect.stringMatching(/^PAT-Web-02 cannot fail over while it is initial-/)],
    ]);
    const result = await c.blueAdmin.mutate<Result>('replication.failoverByPattern', input);
    expect(outcomes(result)).toEqual(verdicts(preview));
    const after = await relationships();
    expect(JSON.parse(after['pat-web-01'] ?? '{}').state).toBe('failing-over');
    expect(after['PAT-Web-02']).toBe(before['PAT-Web-02']);
    // Again while it runs: already failing over, refused, nothing changed.
    const again = await c.blueAdmin.query<Preview>('replication.previewFailoverByPattern', {
      pattern: 'pat-web-01',
      kind: 'planned',
    });
    expect(again.items[0]?.reason).toBe('pat-web-01 is already failing over');
    const second = await c.blueAdmin.mutate<Result>('replication.failoverByPattern', {
      pattern: 'pat-web-01',
      kind: 'unplanned',
    });
    expect(second).toMatchObject({ started: 0, refused: 1 });
    expect(await relationships()).toEqual(after);
  });

  it('refuses bad input with the limit named and writes nothing', async () => {
    const long = await c.blueAdmin.call('replication.previewEnableByPattern', 'query', enableInput('p'.repeat(65)));
    expect(long).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(long.ok ? '' : long.message).toMatch(/Pattern must be at most 64 characters/);
    const kind = await c.blueAdmin.call('replication.failoverByPattern', 'mutation', { pattern: 'pat-*', kind: 'all' });
    expect(kind.ok ? '' : kind.message).toMatch(/Failover kind must be one of test, planned, unplanned/);
  });
});

// Before "migrate by pattern": that one leaves these VMs migrating (no agent finishes it).
describe("a replicated VM never moves beside its replica (the hostile probe's dr-web-01 and app-01)", () => {
  it("refuses its replica's host and cluster with the reason and changes nothing; an evacuation leaves it put", async () => {
    // A second host in the replica's cluster: the cluster itself refuses, not only the replica's host.
    await registerHost('pat-b-02', 'Development');
    const vmId = vms['PAT-Web-02'] ?? '';
    await withSql(api.databaseUrl, (sql) => sql.query(`UPDATE vms SET state = 'off' WHERE id = $1`, [vmId]));
    const state = () =>
      withSql(api.databaseUrl, async (sql) => {
        const r = await sql.query<{ host_id: string; cluster_id: string; jobs: string }>(
          `SELECT host_id, cluster_id, (SELECT count(*) FROM jobs WHERE target_id = $1::text AND kind LIKE 'mobility%') AS jobs
           FROM vms WHERE id = $1::uuid`,
          [vmId],
        );
        return { vm: r.rows[0], relationships: await relationships() };
      });
    const before = await state();
    // Enabled to the Development cluster when pat-b-01 was its only host: the replica is there.
    expect(JSON.parse(before.relationships['PAT-Web-02'] ?? '{}').replica_host_id).toBe(hosts['pat-b-01']?.id);

    for (const [target, reason] of [
      ['pat-b-01', "pat-b-01 cannot take 'PAT-Web-02': host holds this VM's replica: fail over to it instead"],
      ['pat-b-02', "pat-b-02 cannot take 'PAT-Web-02': host is in the cluster that holds this VM's replica"],
    ] as const) {
      for (const [path, type] of [
        ['mobility.preview', 'query'],
        ['mobility.migrate', 'mutation'],
      ] as const) {
        const refused = await c.admin.call(path, type, { vmId, to: hosts[target]?.id });
        expect(refused, `${path} to ${target}`).toMatchObject({ ok: false, code: 'CONFLICT' });
        expect(refused.ok ? '' : refused.message).toContain(reason);
      }
    }
    expect(await state()).toEqual(before);

    // A replica in the VM's own cluster (what such a move left behind): the evacuation of its host does not
    // send it to the replica's host, the only other one, but lists it as unable to move, saying why.
    const other = before.vm?.host_id === hosts['pat-a-01']?.id ? 'pat-a-02' : 'pat-a-01';
    const setReplica = (hostId: string | undefined, clusterId: string | undefined) =>
      withSql(api.databaseUrl, (sql) =>
        sql.query(
          'UPDATE replication_relationships SET replica_host_id = $2, replica_cluster_id = $3 WHERE vm_id = $1',
          [vmId, hostId, clusterId],
        ),
      );
    await setReplica(hosts[other]?.id, hosts[other]?.clusterId);
    try {
      const plan = await c.admin.query<{
        moves: { vmName: string; toHostName: string }[];
        unmovable: { vmName: string; reason: string }[];
      }>('mobility.evacuationPlan', { hostId: before.vm?.host_id });
      expect(plan.moves.map((m) => m.vmName)).not.toContain('PAT-Web-02');
      expect(plan.unmovable.find((u) => u.vmName === 'PAT-Web-02')?.reason).toBe(
        `No other host fits: ${other}: host holds this VM's replica: fail over to it instead of migrating there`,
      );
    } finally {
      await setReplica(hosts['pat-b-01']?.id, hosts['pat-b-01']?.clusterId);
    }
    expect(await state()).toEqual(before);
  });
});

describe('migrate by pattern', () => {
  it("previews each VM's destination or reason, then requests exactly those migrations; refused VMs stay put", async () => {
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`UPDATE vms SET state = 'off' WHERE id = ANY($1::uuid[])`, [
        [vms['pat-web-01'], vms['PAT-Web-02'], vms['pat-db-01']],
      ]),
    );
    const placed = () =>
      withSql(api.databaseUrl, async (sql) => {
        const r = await sql.query<{ name: string; host_id: string }>(
          'SELECT name, host_id FROM vms WHERE name ILIKE $1',
          ['pat-%'],
        );
        return Object.fromEntries(r.rows.map((x) => [x.name, x.host_id]));
      });
    const before = await placed();
    // The host pat-web-01 is not on: at least one VM moves, and any already there is refused.
    const target = before['pat-web-01'] === hosts['pat-a-02']?.id ? 'pat-a-01' : 'pat-a-02';
    const input = { pattern: 'PAT-*', tenantId: blueId, to: hosts[target]?.id };
    const preview = await c.admin.query<Preview>('mobility.previewMigrateByPattern', input);
    expect(preview.items.map((i) => i.name)).toEqual(['pat-db-01', 'pat-web-01', 'PAT-Web-02']);
    for (const item of preview.items) {
      if (before[item.name] === hosts[target]?.id) {
        expect(item).toMatchObject({ ok: false, reason: `${item.name} already runs on that host` });
      } else {
        expect(item, item.reason ?? '').toMatchObject({
          ok: true,
          detail: expect.stringContaining(`Cold (off) to ${target}`),
        });
      }
    }
    const result = await c.admin.mutate<Result>('mobility.migrateByPattern', input);
    expect(outcomes(result)).toEqual(verdicts(preview));
    expect(result.started).toBeGreaterThan(0);
    // Each through the migration workflow: its own task; the refused ones have none and did not move.
    for (const item of result.items.filter((i) => i.ok)) {
      const task = await c.admin.query<{ kind: string; targetId: string }>('tasks.get', { id: item.taskId });
      expect(task).toMatchObject({ kind: 'mobility.migrate-vm', targetId: item.vmId });
    }
    const now = await placed();
    for (const item of result.items.filter((i) => !i.ok)) expect(now[item.name]).toBe(before[item.name]);
    // Asked again: the started ones are migrating already, the single migration's own refusal.
    const again = await c.admin.query<Preview>('mobility.previewMigrateByPattern', input);
    for (const item of again.items.filter((i) => result.items.some((r) => r.ok && r.vmId === i.vmId))) {
      expect(item.reason).toBe(`${item.name} is already migrating`);
    }
    // Unscoped, the provider's pattern reaches Yellow's VM too, with its own reason (still being created).
    const all = await c.admin.query<Preview>('mobility.previewMigrateByPattern', { pattern: 'pat-web-0?', to: 'best' });
    expect(all.items.find((i) => i.name === 'pat-web-09')?.reason).toMatch(/pat-web-09 is creating/);
    const none = await c.admin.call('mobility.migrateByPattern', 'mutation', { pattern: 'nothing-*', to: 'best' });
    expect(none).toMatchObject({ ok: false, code: 'NOT_FOUND', message: 'No VM matches “nothing-*”' });
  });
});
