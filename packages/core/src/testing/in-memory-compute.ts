import type { ComputeDeps, ComputeRepos } from '../compute/compute-deps';
import type { ClusterSnapshot } from '../placement/snapshot';
import type { AgentTaskQueueDeps } from '../tasks/agent-task-queue';
import { FakeClock } from './fake-clock';
import { InMemoryAuditRepository } from './in-memory-audit-repository';
import { InMemoryPlacementDecisionRepository } from './in-memory-placement-decision-repository';
import { InMemoryPlacementStore } from './in-memory-placement-store';
import { InMemoryQuotaRepository } from './in-memory-quota-repository';
import { InMemoryTaskQueueRepository } from './in-memory-task-queue-repository';
import { inMemoryUnitOfWork } from './in-memory-unit-of-work';
import { InMemoryVmRepository } from './in-memory-vm-repository';

/**
 * Compute's repositories in memory, wired like `apps/api/src/composition.ts`
 * wires the Prisma ones: one unit of work (all or nothing), a fake clock and
 * a fixed placement seed, so a use case runs in milliseconds and replays.
 */
export function inMemoryCompute(clusters: ClusterSnapshot[] = []) {
  const vms = new InMemoryVmRepository();
  const placement = new InMemoryPlacementStore(vms);
  placement.clusters = clusters;
  const repos = {
    vms,
    quotas: new InMemoryQuotaRepository(vms),
    decisions: new InMemoryPlacementDecisionRepository(),
    taskQueue: new InMemoryTaskQueueRepository(),
    placement,
    audit: new InMemoryAuditRepository(),
  } satisfies ComputeRepos;
  const uow = inMemoryUnitOfWork(repos);
  const clock = new FakeClock();
  const deps: ComputeDeps = { uow, seed: () => 42 };
  const taskQueueDeps: AgentTaskQueueDeps = { uow, clock, taskLeaseMs: 60_000 };
  return { ...repos, uow, clock, deps, taskQueueDeps };
}
