import { describe, expect, it } from 'vitest';
import { wildcardToRegExp } from '../compute/vm-state';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import { aCluster, aHost } from '../placement/testing/builders';
import { CoreError } from '../shared/errors';
import { type Actor, canSee, type TenantScope } from '../shared/tenant-scope';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { FakeOwnership, FakeReplicaAgents, InMemoryReplicationRepository } from '../testing/in-memory-replication';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import { ReplicateByPattern } from './replicate-by-pattern';
import { enableByPatternSchema, enableReplicationSchema, failoverByPatternSchema } from './replication.schema';
import { cycleWorkflowId, ReplicationService } from './replication-service';

const BLUE = '10000000-0000-4000-8000-000000000001';
const YELLOW = '10000000-0000-4000-8000-000000000002';
const PRIMARY = { cluster: '30000000-0000-4000-8000-000000000001', host: '40000000-0000-4000-8000-000000000001' };
const REPLICA = { cluster: '30000000-0000-4000-8000-000000000002', host: '40000000-0000-4000-8000-000000000002' };
const blue: TenantScope = { kind: 'tenant', tenantId: BLUE };
const provider: TenantScope = { kind: 'provider' };
const actor: Actor = { type: 'user', id: 'u1', label: 'alice@blue.example' };
const WAIT = 2_000;

const VMS = [
  { id: '20000000-0000-4000-8000-000000000001', name: 'web-01', tenantId: BLUE },
  { id: '20000000-0000-4000-8000-000000000002', name: 'Web-02', tenantId: BLUE },
  { id: '20000000-0000-4000-8000-000000000003', name: 'веб-01', tenantId: BLUE },
  { id: '20000000-0000-4000-8000-000000000004', name: 'db-01', tenantId: BLUE },
  { id: '20000000-0000-4000-8000-000000000005', name: 'web-yellow', tenantId: YELLOW },
] as const;
const idOf = (name: string) => VMS.find((v) => v.name === name)?.id ?? '';

function world(limit?: number) {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const repo = new InMemoryReplicationRepository();
  repo.clusters.add(PRIMARY.cluster).add(REPLICA.cluster);
  for (const [h, name] of [
    [PRIMARY, 'hv-a1'],
    [REPLICA, 'hv-b1'],
  ] as const) {
    repo.hosts.set(h.host, { id: h.host, name, clusterId: h.cluster, state: 'connected', peerUrl: 'http://x/' });
  }
  for (const vm of VMS) {
    repo.vms.set(vm.id, {
      ...vm,
      state: 'running',
      hostId: PRIMARY.host,
      clusterId: PRIMARY.cluster,
      ownerEpoch: 1,
      disks: [{ name: 'disk0', sizeBytes: 16 * 1024 ** 2 }],
    });
  }
  const placement = {
    clusterSnapshot: async (id: string) =>
      aCluster(
        [
          aHost({
            id: REPLICA.host,
            clusterId: REPLICA.cluster,
            storagePools: [{ name: 'replicas', capacityBytes: 1e12, allocatedBytes: 0 }],
          }),
        ],
        { id },
      ),
  } as unknown as PlacementStore;
  const engine = new InMemoryWorkflowEngine();
  let n = 0;
  const newId = () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const agents = new FakeReplicaAgents();
  const replication = new ReplicationService({
    uow: inMemoryUnitOfWork({ replication: repo, jobs }),
    placement,
    agents,
    ownership: new FakeOwnership(),
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId,
    credentialFor: (id, g) => `cred-${id}-${g}`,
  });
  for (const wf of replication.workflows) engine.register(wf);
  const byPattern = new ReplicateByPattern({
    replication,
    findVms: async (scope, re) =>
      [...repo.vms.values()]
        .filter((vm) => canSee(scope, vm.tenantId) && re.test(vm.name))
        .sort((a, b) => a.name.localeCompare(b.name)),
    hostName: async (id) => repo.hosts.get(id)?.name ?? null,
    ...(limit ? { limit } : {}),
  });
  for (const tenantId of [BLUE, YELLOW]) {
    repo.createAuthorization({
      id: newId(),
      replicaClusterId: REPLICA.cluster,
      replicaHostId: null,
      tenantId,
      primaryClusterId: null,
      storagePool: 'replicas',
      createdBy: 'admin',
    });
  }
  const enable = (pattern: string, over: Record<string, unknown> = {}) =>
    enableByPatternSchema.parse({
      pattern,
      target: { kind: 'cluster', clusterId: REPLICA.cluster },
      frequencySeconds: 300,
      ...over,
    });
  const failover = (pattern: string, kind: string, over: Record<string, unknown> = {}) =>
    failoverByPatternSchema.parse({ pattern, kind, ...over });
  return { repo, engine, replication, byPattern, enable, failover, agents, clock };
}

async function refusal(p: Promise<unknown>): Promise<CoreError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CoreError);
  return error as CoreError;
}

describe('enable replication by pattern', () => {
  it("previews each of the tenant's matching VMs with the single enable's checks, then starts exactly those", async () => {
    const w = world();
    // Already replicated: the single enable refuses it, so the pattern form lists it as cannot.
    const first = await w.replication.enable(blue, actor, { ...w.enable('x'), vmId: idOf('Web-02') } as never);
    expect(await w.engine.wait(first.taskId, WAIT)).toBe('succeeded');
    const before = await w.repo.findRelationshipByVm(blue, idOf('Web-02'));

    const preview = await w.byPattern.previewEnable(blue, w.enable('WEB*'));
    // Case folded; Yellow's web-yellow is not Blue's; db-01 and веб-01 do not match.
    expect(preview.items.map((i) => [i.name, i.ok])).toEqual([
      ['web-01', true],
      ['Web-02', false],
    ]);
    expect(preview.items[0]?.detail).toBe('Replicates to a host the provider authorized');
    // The provider reads the broker's pick.
    const asProvider = await w.byPattern.previewEnable(provider, w.enable('web-01'));
    expect(asProvider.items[0]?.detail).toBe('Replicates to hv-b1');
    expect(preview.items[1]?.reason).toMatch(/already replicated/);
    expect(preview.limit).toBe(50);

    const result = await w.byPattern.enable(blue, actor, w.enable('WEB*'));
    expect(result.items.map((i) => [i.name, i.ok])).toEqual(preview.items.map((i) => [i.name, i.ok]));
    expect(result).toMatchObject({ started: 1, refused: 1 });
    expect(result.items[1]?.message).toBe(preview.items[1]?.reason);
    const started = result.items[0]?.taskId ?? '';
    expect(await w.engine.wait(started, WAIT)).toBe('succeeded');
    expect((await w.repo.findRelationshipByVm(blue, idOf('web-01')))?.frequencySeconds).toBe(300);
    // The refused VM's replication is as it was.
    expect(await w.repo.findRelationshipByVm(blue, idOf('Web-02'))).toEqual(before);
  });

  it('matches ? as one character of any script, case folded', async () => {
    const w = world();
    const preview = await w.byPattern.previewEnable(blue, w.enable('ВЕБ-0?'));
    expect(preview.items.map((i) => i.name)).toEqual(['веб-01']);
    expect(wildcardToRegExp('ВЕБ-0?').test('веб-01')).toBe(true);
  });

  it('previews nothing and refuses to act when nothing matches, and a tenant never matches another tenant', async () => {
    const w = world();
    expect((await w.byPattern.previewEnable(blue, w.enable('nothing*'))).items).toEqual([]);
    expect((await refusal(w.byPattern.enable(blue, actor, w.enable('nothing*')))).code).toBe('PATTERN_NO_MATCH');
    // Blue naming Yellow: as if Yellow had no VM at all.
    const asYellow = w.enable('web*', { tenantId: YELLOW });
    expect((await w.byPattern.previewEnable(blue, asYellow)).items).toEqual([]);
    expect((await refusal(w.byPattern.enable(blue, actor, asYellow))).code).toBe('PATTERN_NO_MATCH');
    expect(w.repo.relationships.size).toBe(0);
    // The provider may scope a pattern to one tenant.
    const yellowOnly = await w.byPattern.previewEnable(provider, asYellow);
    expect(yellowOnly.items.map((i) => i.name)).toEqual(['web-yellow']);
    expect((await w.byPattern.previewEnable(provider, w.enable('web*'))).items).toHaveLength(3);
  });

  it('refuses a pattern matching more VMs than one call may hit, naming the limit, in preview and act alike', async () => {
    const w = world(2);
    const inPreview = await refusal(w.byPattern.previewEnable(provider, w.enable('*')));
    expect(inPreview.code).toBe('PATTERN_TOO_MANY');
    expect(inPreview.message).toMatch(/matches 5 VMs; one call acts on at most 2/);
    expect((await refusal(w.byPattern.enable(provider, actor, w.enable('*')))).code).toBe('PATTERN_TOO_MANY');
    expect(w.repo.relationships.size).toBe(0);
  });

  it('reports a target the single enable refuses for every VM (the primary cluster), and writes nothing', async () => {
    const w = world();
    const input = w.enable('web*', { target: { kind: 'cluster', clusterId: PRIMARY.cluster } });
    const preview = await w.byPattern.previewEnable(blue, input);
    expect(preview.items.every((i) => !i.ok && /own cluster/.test(i.reason ?? ''))).toBe(true);
    const result = await w.byPattern.enable(blue, actor, input);
    expect(result).toMatchObject({ started: 0, refused: 2 });
    expect(w.repo.relationships.size).toBe(0);
  });
});

it('refuses an initial replication time unless the initial mode is scheduled (it was accepted and ignored)', () => {
  const base = { pattern: 'web-*', target: { kind: 'cluster', clusterId: REPLICA.cluster }, frequencySeconds: 300 };
  const at = '2026-12-06T02:00:00Z';
  for (const initialMode of ['now', 'existing-copy', undefined]) {
    const refused = enableByPatternSchema.safeParse({ ...base, initialMode, initialAt: at });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({
        path: ['initialAt'],
        message: `Initial replication time is for initialMode 'scheduled' only; initialMode '${initialMode ?? 'now'}' starts without one (leave initialAt out)`,
      }),
    ]);
    const { pattern: _, ...single } = base;
    const one = enableReplicationSchema.safeParse({ ...single, vmId: REPLICA.host, initialMode, initialAt: at });
    expect(one.error?.issues.map((i) => i.path)).toEqual([['initialAt']]);
  }
  expect(enableByPatternSchema.parse({ ...base, initialMode: 'scheduled', initialAt: at }).initialAt).toBe(at);
  expect(enableByPatternSchema.parse({ ...base, initialMode: 'now', initialAt: null }).initialMode).toBe('now');
});

describe('failover by pattern', () => {
  async function replicate(w: ReturnType<typeof world>, name: string, over: Record<string, unknown> = {}) {
    const { taskId, relationshipId } = await w.replication.enable(blue, actor, {
      ...w.enable('x', over),
      vmId: idOf(name),
    } as never);
    expect(await w.engine.wait(taskId, WAIT)).toBe('succeeded');
    return relationshipId;
  }

  it('plans a planned failover for replicating VMs and lists the others with the single check’s reason', async () => {
    const w = world();
    await replicate(w, 'web-01');
    const preview = await w.byPattern.previewFailover(blue, w.failover('web*', 'planned'));
    expect(preview.items.map((i) => [i.name, i.ok, i.reason])).toEqual([
      ['web-01', true, null],
      ['Web-02', false, 'Web-02 is not replicated'],
    ]);
    expect(preview.items[0]?.detail).toMatch(/no data is lost/);
    const result = await w.byPattern.failover(blue, actor, w.failover('web*', 'planned'));
    expect(result.items.map((i) => [i.name, i.ok])).toEqual([
      ['web-01', true],
      ['Web-02', false],
    ]);
    expect((await w.repo.findRelationshipByVm(blue, idOf('web-01')))?.state).toBe('failing-over');
    // A second call while the first runs: already failing over, refused, nothing changed.
    const again = await w.byPattern.previewFailover(blue, w.failover('web-01', 'planned'));
    expect(again.items[0]?.reason).toMatch(/already failing over/);
    const second = await w.byPattern.failover(blue, actor, w.failover('web-01', 'planned'));
    expect(second).toMatchObject({ started: 0, refused: 1 });
    expect(await w.engine.wait(result.items[0]?.taskId ?? '', WAIT)).toBe('succeeded');
  });

  it('test and unplanned failovers start from each VM’s latest recovery point', async () => {
    const w = world();
    await replicate(w, 'web-01');
    const test = await w.byPattern.previewFailover(blue, w.failover('web-01', 'test'));
    expect(test.items[0]).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/latest recovery point, 2026-12-04/),
    });
    const started = await w.byPattern.failover(blue, actor, w.failover('web-01', 'test'));
    expect(started.started).toBe(1);
    expect(await w.engine.wait(started.items[0]?.taskId ?? '', WAIT)).toBe('succeeded');
    const during = await w.byPattern.previewFailover(blue, w.failover('web-01', 'test'));
    expect(during.items[0]?.reason).toMatch(/already has a test failover running/);
    const unplanned = await w.byPattern.previewFailover(blue, w.failover('web-0?', 'unplanned'));
    // web-0? folds to Web-02 as well; neither may fail over now, each for its own reason.
    expect(unplanned.items.map((i) => [i.name, i.reason])).toEqual([
      ['web-01', 'web-01 cannot fail over while it is test-failover'],
      ['Web-02', 'Web-02 is not replicated'],
    ]);
  });

  it('test and unplanned failovers start from the point chosen: the latest, the latest application-consistent, or the newest at or before a time', async () => {
    const w = world();
    // web-01: an application-consistent point every hour (the first at 10:00), standard ones every 5 minutes.
    const rel = await replicate(w, 'web-01', { appConsistentHours: 1, additionalPoints: 2 });
    await replicate(w, 'Web-02');
    for (const minutes of [10, 10]) {
      w.clock.advance(minutes * 60_000);
      await w.replication.tickCycles();
      const seq = (w.repo.relationships.get(rel)?.nextCycleSeq as number) - 1;
      expect(await w.engine.wait(cycleWorkflowId(rel, 1, seq), WAIT)).toBe('succeeded');
    }
    // Kept: 10:20 (the latest, standard) and 10:00 (application-consistent); 10:10 went with retention.
    const points = await w.repo.listPoints(blue, rel);
    expect(points.map((p) => [p.takenAt.toISOString().slice(11, 16), p.kind])).toEqual([
      ['10:20', 'standard'],
      ['10:00', 'app-consistent'],
    ]);
    const detail = async (point: Record<string, unknown>) =>
      (await w.byPattern.previewFailover(blue, w.failover('web*', 'test', { point }))).items.map((i) => [
        i.name,
        i.detail ?? i.reason,
      ]);
    expect(await detail({ choice: 'latest' })).toEqual([
      ['web-01', 'From its latest recovery point, 2026-12-04 10:20 UTC (standard)'],
      ['Web-02', 'From its latest recovery point, 2026-12-04 10:20 UTC (standard)'],
    ]);
    expect(await detail({ choice: 'latest-app-consistent' })).toEqual([
      ['web-01', 'From its latest application-consistent recovery point, 2026-12-04 10:00 UTC'],
      ['Web-02', 'Web-02 has no application-consistent recovery point'],
    ]);
    expect((await detail({ choice: 'at-or-before', at: '2026-12-04T10:15:00Z' }))[0]).toEqual([
      'web-01',
      'From its newest recovery point at or before 2026-12-04 10:15 UTC, 2026-12-04 10:00 UTC (application-consistent)',
    ]);
    expect((await detail({ choice: 'at-or-before', at: '2026-12-04T09:59:00Z' }))[0]).toEqual([
      'web-01',
      'web-01 has no recovery point taken at or before 2026-12-04T09:59:00.000Z',
    ]);
    // Acting: the test VM starts from the latest application-consistent point; Web-02 is refused and unchanged.
    const result = await w.byPattern.failover(
      blue,
      actor,
      w.failover('web*', 'test', { point: { choice: 'latest-app-consistent' } }),
    );
    expect(result).toMatchObject({ started: 1, refused: 1 });
    expect(await w.engine.wait(result.items[0]?.taskId ?? '', WAIT)).toBe('succeeded');
    const started = w.agents.calls.filter((c) => c.kind === 'replica.test-failover');
    expect(started.map((c) => c.params.pointId)).toEqual([points[1]?.id]);
    expect((await w.repo.findRelationshipByVm(blue, idOf('Web-02')))?.state).toBe('replicating');
    // A planned failover takes no recovery point: the schema says so.
    const planned = failoverByPatternSchema.safeParse({
      pattern: 'web*',
      kind: 'planned',
      point: { choice: 'latest-app-consistent' },
    });
    expect(planned.error?.issues[0]?.message).toMatch(/takes no recovery point/);
    expect(
      failoverByPatternSchema.safeParse({ pattern: 'web*', kind: 'test', point: { choice: 'newest' } }).error?.issues[0]
        ?.message,
    ).toMatch(/latest-app-consistent/);
  });
});
