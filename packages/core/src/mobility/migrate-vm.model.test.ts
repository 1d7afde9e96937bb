import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobTracker } from '../jobs/job-tracker';
import type { PlacementStore } from '../placement/placement-store';
import { aCluster, aHost } from '../placement/testing/builders';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { FakeClock } from '../testing/fake-clock';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { inMemoryUnitOfWork } from '../testing/in-memory-unit-of-work';
import { InMemoryWorkflowEngine } from '../testing/in-memory-workflow-engine';
import {
  MigrateVm,
  type MigrationAgentPort,
  type MigrationRecord,
  MigrationTaskFailed,
  type MobilityStore,
} from './migrate-vm';

// Issue 12, safety: a model-based test. Random migrations of one VM, each with a random fault: a host task
// that fails (an agent killed or refusing), the control plane killed before or after any step and the
// workflow resumed (an API restart), or a cancel at any point it is offered. The hosts are a model of the
// agents: each holds copies of the VM (skeleton, running, paused, off), applies each task once by its id
// (as agents do), and refuses what an agent would refuse. After every task: the VM never runs on two hosts
// at once. After every migration: it ended completed, cancelled or failed; its owner (ownership epoch)
// is one host, and once the hosts discard copies they do not own (their inventory reconciliation), the VM
// runs there — on the destination exactly when the migration completed.

const GiB = 1024;
const T1 = '10000000-0000-4000-8000-000000000001';
const VM = '20000000-0000-4000-8000-000000000001';
const ADMIN: Actor = { type: 'user', id: 'u1', label: 'admin' };
const PROVIDER: TenantScope = { kind: 'provider' };
const HOSTS = ['hv-01', 'hv-02', 'hv-03'] as const;

const TASK_KINDS = [
  'migration.prepare',
  'migration.disks-receive',
  'migration.disks-copy',
  'migration.precopy',
  'migration.final',
  'migration.disks-handover',
  'migration.activate',
  'migration.cleanup',
] as const;
/** Steps of the workflow a crash may hit (names as the workflow records them). */
const STEPS = [
  'spec',
  'setup-run',
  'disks-receive-run',
  'disks-copy-run',
  'precopy-run',
  'final-gate',
  'final-run',
  'disks-handover-run',
  'online-transfer',
  'online-run',
  'cleanup-run',
  'finished-at',
  'rollback',
] as const;
/** Where a user may press Cancel (gates the workflow reaches before the point of no return, and after). */
const CANCEL_POINTS = ['setup-run', 'disks-copy-run', 'precopy-run', 'final-gate', 'final-run', 'online-run'] as const;

type Copy = 'skeleton' | 'running' | 'paused' | 'off';
type Fault =
  | { kind: 'none' }
  | { kind: 'task-fails'; task: (typeof TASK_KINDS)[number] }
  | { kind: 'crash'; when: 'before' | 'after'; step: (typeof STEPS)[number] }
  | { kind: 'cancel'; at: (typeof CANCEL_POINTS)[number] };

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.constant<Fault>({ kind: 'none' }),
  fc.constantFrom(...TASK_KINDS).map<Fault>((task) => ({ kind: 'task-fails', task })),
  fc
    .record({ when: fc.constantFrom('before' as const, 'after' as const), step: fc.constantFrom(...STEPS) })
    .map<Fault>((c) => ({ kind: 'crash', ...c })),
  fc.constantFrom(...CANCEL_POINTS).map<Fault>((at) => ({ kind: 'cancel', at })),
);

function world(vmState: 'running' | 'off') {
  const clock = new FakeClock('2026-12-04T10:00:00Z');
  const jobs = new InMemoryJobRepository(() => clock.now());
  const cluster = aCluster(
    HOSTS.map((id) => aHost({ id })),
    { id: 'c1' },
  );
  const vm = {
    id: VM,
    name: 'web-1',
    tenantId: T1,
    hostId: 'hv-01' as string,
    clusterId: 'c1',
    state: vmState as string,
    vcpus: 4,
    memoryMiB: 8 * GiB,
  };
  const placement = {
    clusterSnapshot: async () => cluster,
    clusterOfHost: async (id: string) => (HOSTS.includes(id as never) ? 'c1' : null),
    placementClusters: async () => [{ id: 'c1', name: 'Production' }],
    vmsInCluster: async () => [],
  } as unknown as PlacementStore;
  const records = new Map<string, MigrationRecord>();
  let epoch = 1;
  const store: MobilityStore = {
    findVm: async (_scope, id) => (id === vm.id ? { ...vm } : null),
    cpuShare: async () => 0.4,
    epochOf: async () => epoch,
    transfer: async (_id, to, expect) => {
      if (expect !== epoch) throw new Error(`stale epoch ${expect}, now ${epoch}`);
      epoch += 1;
      vm.hostId = to.hostId;
      return epoch;
    },
    spec: async () => ({ vmId: VM }),
    readRecord: async (id) => records.get(id) ?? null,
    writeRecord: async (id, r) => {
      records.set(id, r);
    },
    history: async () => [],
  };

  // The hosts' copies of the VM, and what each task did (once per task id, as an agent's task table).
  const copies = new Map<string, Copy>([['hv-01', vmState === 'running' ? 'running' : 'off']]);
  const done = new Map<string, Record<string, unknown>>();
  const violations: string[] = [];
  let failKind: string | null = null;
  const checkOneRunning = (what: string) => {
    const running = [...copies].filter(([, c]) => c === 'running' || c === 'paused').map(([h]) => h);
    // A paused source and a running destination is the blackout's hand-over: a VM runs on one host at a time.
    const live = [...copies].filter(([, c]) => c === 'running').map(([h]) => h);
    if (live.length > 1) violations.push(`${what}: running on ${live.join(' and ')}`);
    return running;
  };
  const agents: MigrationAgentPort = {
    run: async (req) => {
      const seen = done.get(req.taskId);
      if (seen) return seen;
      if (req.kind === failKind) {
        failKind = null;
        throw new MigrationTaskFailed('AGENT_GONE', `${req.kind} on ${req.hostId}: the agent did not answer`);
      }
      const here = copies.get(req.hostId);
      const refuse = (why: string) => {
        throw new MigrationTaskFailed('REFUSED', `${req.kind} on ${req.hostId}: ${why}`);
      };
      let result: Record<string, unknown> = {};
      switch (req.kind) {
        case 'migration.prepare':
          if (here && here !== 'skeleton') refuse('this host already holds the VM');
          copies.set(req.hostId, 'skeleton');
          break;
        case 'migration.disks-receive':
          if (here !== 'skeleton') refuse('no skeleton');
          result = { peerUrl: 'http://127.0.0.1:7001', credential: 'c'.repeat(64) };
          break;
        case 'migration.disks-copy':
          if (!here || here === 'skeleton') refuse('no VM to copy');
          result = { disks: [{ name: 'os', blocks: 256 }], bytes: 1, durationMs: 1, guestWriteSeqAtStart: 1 };
          break;
        case 'migration.precopy':
          if (here !== 'running') refuse('the VM is not running');
          result = { passes: [{ pass: 0, mib: 8192, seconds: 7 }], blackoutMs: 90, sentMiB: 8300, converged: true };
          break;
        case 'migration.final':
          if (here !== 'running') refuse('the VM is not running');
          copies.set(req.hostId, 'paused');
          result = { blackoutMs: 95 };
          break;
        case 'migration.disks-handover':
          result = { disks: [{ name: 'os', blocks: 256 }], guestWriteSeq: 2, mirroredWrites: 1 };
          break;
        case 'migration.activate':
          if (here !== 'skeleton') refuse('no skeleton to activate');
          copies.set(req.hostId, req.params.start ? 'running' : 'off');
          break;
        case 'migration.cleanup':
          copies.delete(req.hostId);
          break;
        case 'migration.disks-abort':
          break;
        case 'migration.abort':
          if (req.params.side === 'destination') {
            if (here === 'skeleton') copies.delete(req.hostId);
          } else if (here === 'paused') copies.set(req.hostId, 'running');
          break;
      }
      done.set(req.taskId, result);
      checkOneRunning(`after ${req.kind} on ${req.hostId}`);
      return result;
    },
  };
  const engine = new InMemoryWorkflowEngine();
  let n = 0;
  const useCase = new MigrateVm({
    uow: inMemoryUnitOfWork({ jobs }),
    placement,
    store,
    agents,
    workflows: engine,
    tracker: new JobTracker({ jobs, clock }),
    clock,
    // Ids differ in their first 24 characters, as random UUIDs do (the rollback's task ids are derived from them).
    newId: () => `${String(++n).padStart(8, '0')}-0000-4000-8000-000000000000`,
    sleep: async () => undefined,
  });
  engine.register(useCase.workflow);
  return {
    useCase,
    engine,
    vm,
    copies,
    records,
    jobs,
    violations,
    failNext(kind: string) {
      failKind = kind;
    },
    get epoch() {
      return epoch;
    },
    /** Each host's inventory reconciliation: a copy on a host that does not own the VM is discarded. */
    reconcile() {
      for (const host of [...copies.keys()]) if (host !== vm.hostId) copies.delete(host);
    },
  };
}

type World = ReturnType<typeof world>;

/** One migration of the VM to `to` (or the best host) under `fault`; returns its job's outcome. */
async function migrateOnce(w: World, to: string, fault: Fault): Promise<string> {
  if (fault.kind === 'task-fails') w.failNext(fault.task);
  if (fault.kind === 'crash') {
    if (fault.when === 'before') w.engine.crashBefore(fault.step);
    else w.engine.crashAfter(fault.step);
  }
  const gate = fault.kind === 'cancel' ? w.engine.holdBefore(fault.at) : null;
  let taskId: string;
  try {
    ({ taskId } = await w.useCase.request(ADMIN, PROVIDER, { vmId: VM, to }));
  } catch (error) {
    gate?.release();
    // Refused up front (the target is the VM's own host): nothing may have changed.
    expect(error).toMatchObject({ code: expect.stringMatching(/^MIGRATION_/) });
    return 'refused';
  }
  if (gate) {
    const reached = await Promise.race([gate.reached.then(() => true), w.engine.wait(taskId, 100).then(() => false)]);
    if (reached) {
      await w.useCase.cancel(PROVIDER, taskId).catch((error: unknown) => {
        // Past the point of no return the console refuses the cancel, with that reason.
        expect(error).toMatchObject({ code: 'MIGRATION_NOT_CANCELLABLE' });
      });
    }
    gate.release();
  }
  let outcome = await w.engine.wait(taskId, 50);
  for (let i = 0; outcome === 'running' && i < 100; i++) {
    // The control plane died mid-migration: a new process resumes the workflow from its last recorded step
    // (a workflow still running, only slow, is left to run).
    await w.engine.resume(taskId).catch((error: unknown) => {
      if (!String(error).includes('still running')) throw error;
    });
    outcome = await w.engine.wait(taskId, 50);
  }
  expect(outcome, `migration ${taskId} under ${JSON.stringify(fault)} never ended`).not.toBe('running');
  // A failed or cancelled migration records why; a completed one ends its workflow successfully.
  return w.records.get(taskId)?.outcome ?? (outcome === 'succeeded' ? 'completed' : outcome);
}

describe('live migration safety model (issue 12)', () => {
  it.each([['running' as const], ['off' as const]])(
    'a %s VM: random migrations and faults leave it on exactly one host, never running on two',
    async (vmState) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ to: fc.constantFrom('best', ...HOSTS), fault: faultArb }), {
            minLength: 1,
            maxLength: 6,
          }),
          async (moves) => {
            const w = world(vmState);
            let epoch = w.epoch;
            for (const move of moves) {
              const from = w.vm.hostId;
              const outcome = await migrateOnce(w, move.to, move.fault);
              expect(['completed', 'cancelled', 'failed', 'refused']).toContain(outcome);
              w.reconcile();
              const context = `${JSON.stringify(move)} from ${from}: ${outcome}`;
              expect(w.violations, context).toEqual([]);
              // One owner, and the VM is there, as it was (running or off).
              expect([...w.copies.keys()], context).toEqual([w.vm.hostId]);
              expect(w.copies.get(w.vm.hostId), context).toBe(vmState);
              // It moved exactly when the migration completed, the epoch once with it; a failure after the
              // hand-over moved it there and back (two epochs), never backwards.
              if (outcome === 'completed') {
                expect(w.vm.hostId, context).not.toBe(from);
                expect(w.epoch, context).toBe(epoch + 1);
              } else {
                expect(w.vm.hostId, context).toBe(from);
                expect([epoch, epoch + 2], context).toContain(w.epoch);
              }
              epoch = w.epoch;
            }
          },
        ),
        { numRuns: 100, seed: 20261204 },
      );
    },
    60_000,
  );
});
