// The control plane's half of `npm run bench -- replica` (issue 10), in core, no API, no database:
//   1. one health pass over N relationships (default 100,000): building the due-time index, a full
//      evaluation of every relationship (what a scan per tick would cost), and ticks that re-evaluate
//      only what is due (1% of relationships missed a cycle) — the evaluations counted;
//   2. cycle reports per second through the cycle workflow's record / ship / apply steps
//      (in-memory engine and repository, a fake agent answering at once): the control plane's own cost
//      per report, with retention and health; the API's figure with Postgres is not measured here.
// Prints figures; asserts nothing.
import { JobTracker } from '../../packages/core/src/jobs/job-tracker';
import type { PlacementStore } from '../../packages/core/src/placement/placement-store';
import { aCluster, aHost } from '../../packages/core/src/placement/testing/builders';
import { evaluateHealth, HealthBook, type HealthFacts } from '../../packages/core/src/replication/health';
import { enableReplicationSchema } from '../../packages/core/src/replication/replication.schema';
import { cycleWorkflowId, ReplicationService } from '../../packages/core/src/replication/replication-service';
import { FakeClock } from '../../packages/core/src/testing/fake-clock';
import { InMemoryJobRepository } from '../../packages/core/src/testing/in-memory-job-repository';
import {
  FakeOwnership,
  FakeReplicaAgents,
  InMemoryReplicationRepository,
} from '../../packages/core/src/testing/in-memory-replication';
import { inMemoryUnitOfWork } from '../../packages/core/src/testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../../packages/core/src/testing/in-memory-workflow-engine';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const FREQS = [30, 300, 900] as const;

export function healthPass(n = 100_000): void {
  const t = Date.parse('2026-12-04T10:00:00Z');
  const facts: HealthFacts[] = Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    tenantId: `t${i % 500}`,
    replicaClusterId: `c${i % 8}`,
    state: 'replicating',
    frequencySeconds: FREQS[i % 3] as number,
    lastSuccessAt: t - (i % 30) * 1000,
    misses: i % 50 === 0 ? [t - 600_000] : [],
  }));
  let t0 = process.hrtime.bigint();
  let warnings = 0;
  for (const f of facts) if (evaluateHealth(f, t).health !== 'normal') warnings++;
  console.log(
    `health: full scan of ${n.toLocaleString()} relationships: ${ms(t0).toFixed(1)} ms (${warnings} not normal)`,
  );
  const book = new HealthBook();
  t0 = process.hrtime.bigint();
  for (const f of facts) book.update(f, t);
  console.log(`health: due-time index built over ${n.toLocaleString()}: ${ms(t0).toFixed(1)} ms`);
  // 1% of relationships stop reporting; the others keep reporting on time (each report is one update).
  const reporting = facts.filter((_, i) => i % 100 !== 0);
  let now = t;
  for (let tick = 1; tick <= 3; tick++) {
    now += 30_000;
    const before = book.evaluations;
    t0 = process.hrtime.bigint();
    const changes = book.tick(now);
    const tickMs = ms(t0);
    console.log(
      `health: tick +${tick * 30} s: ${(book.evaluations - before).toLocaleString()} evaluated of ${n.toLocaleString()}, ` +
        `${changes.length} changed, ${tickMs.toFixed(2)} ms`,
    );
  }
  now += 30 * 60_000;
  t0 = process.hrtime.bigint();
  for (const f of reporting) book.update({ ...f, lastSuccessAt: now - 1000 }, now);
  const reportMs = ms(t0);
  const before = book.evaluations;
  t0 = process.hrtime.bigint();
  const changes = book.tick(now);
  console.log(
    `health: after 30 min with 1% silent: ${reporting.length.toLocaleString()} reports applied in ${reportMs.toFixed(1)} ms; ` +
      `tick evaluated ${(book.evaluations - before).toLocaleString()}, ${changes.length.toLocaleString()} turned ` +
      `${changes[0]?.to ?? '-'} in ${ms(t0).toFixed(1)} ms`,
  );
}

export async function cycleReports(relationships = 200, cyclesEach = 10): Promise<void> {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const repo = new InMemoryReplicationRepository();
  const engine = new InMemoryWorkflowEngine();
  const agents = new FakeReplicaAgents();
  const P = { c: 'b0000000-0000-4000-8000-000000000001', h: 'b1000000-0000-4000-8000-000000000001' };
  const R = { c: 'b0000000-0000-4000-8000-000000000002', h: 'b1000000-0000-4000-8000-000000000002' };
  repo.clusters.add(P.c).add(R.c);
  repo.hosts.set(P.h, { id: P.h, name: 'a', clusterId: P.c, state: 'connected', peerUrl: 'http://127.0.0.1:1/' });
  repo.hosts.set(R.h, { id: R.h, name: 'b', clusterId: R.c, state: 'connected', peerUrl: 'http://127.0.0.1:2/' });
  let n = 0;
  const newId = () => `c0000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
  const service = new ReplicationService({
    uow: inMemoryUnitOfWork({ replication: repo, jobs }),
    placement: {
      clusterSnapshot: async (id: string) =>
        aCluster(
          [aHost({ id: R.h, clusterId: R.c, storagePools: [{ name: 'r', capacityBytes: 1e15, allocatedBytes: 0 }] })],
          { id },
        ),
    } as unknown as PlacementStore,
    agents,
    ownership: new FakeOwnership(),
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    newId,
    credentialFor: (id, g) => `credential-${id}-${g}`,
  });
  for (const wf of service.workflows) engine.register(wf);
  await repo.createAuthorization({
    id: newId(),
    replicaClusterId: R.c,
    replicaHostId: null,
    tenantId: null,
    primaryClusterId: null,
    storagePool: 'r',
    createdBy: 'bench',
  });
  const ids: string[] = [];
  for (let i = 0; i < relationships; i++) {
    const vmId = newId();
    repo.vms.set(vmId, {
      id: vmId,
      tenantId: 'd0000000-0000-4000-8000-000000000001',
      name: `vm-${i}`,
      state: 'running',
      hostId: P.h,
      clusterId: P.c,
      ownerEpoch: 1,
      disks: [{ name: 'disk0', sizeBytes: 16 * 2 ** 20 }],
    });
    const { relationshipId, taskId } = await service.enable(
      { kind: 'provider' },
      { type: 'system', id: null, label: 'bench' },
      enableReplicationSchema.parse({
        vmId,
        target: { kind: 'cluster', clusterId: R.c },
        frequencySeconds: 30,
        additionalPoints: 4,
      }),
    );
    await engine.wait(taskId, 10_000);
    ids.push(relationshipId);
  }
  const t0 = process.hrtime.bigint();
  let reports = 0;
  for (let c = 0; c < cyclesEach; c++) {
    clock.advance(30_000);
    await service.tickCycles();
    for (const id of ids) {
      const rel = repo.relationships.get(id);
      await engine.wait(cycleWorkflowId(id, 1, (rel?.nextCycleSeq ?? 1) - 1), 10_000);
      reports++;
    }
  }
  const elapsed = ms(t0);
  console.log(
    `cycles: ${reports.toLocaleString()} cycle reports (record, ship, apply, retain) for ${relationships} relationships ` +
      `in ${elapsed.toFixed(0)} ms: ${Math.round((reports / elapsed) * 1000).toLocaleString()} reports/s (control plane in memory)`,
  );
}
