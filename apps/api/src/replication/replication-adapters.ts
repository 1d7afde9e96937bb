import { createHmac } from 'node:crypto';
import { transferOwnership } from '@fabric/core/compute/ownership';
import type { ReplicaAgentPort, ReplicaTaskRequest } from '@fabric/core/replication/replica-agent-port';
import { ReplicaTaskFailed } from '@fabric/core/replication/replica-agent-port';
import type { ReplicationRepository } from '@fabric/core/replication/replication-repository';
import type { VmOwnershipPort } from '@fabric/core/replication/replication-service';
import type { Clock } from '@fabric/core/shared/clock';
import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import { awaitAgentTask, queueAgentTask } from '@fabric/core/tasks/agent-task-await';
import type { TaskJsonObject } from '@fabric/core/tasks/task-protocol.schema';
import type { Db, PrismaClient } from '../repositories/prisma';
import { PrismaJobRepository } from '../repositories/prisma-job-repository';
import { PrismaOwnershipRepository } from '../repositories/prisma-ownership-repository';
import { PrismaReplicationRepository } from '../repositories/prisma-replication-repository';
import { PrismaTaskQueueRepository } from '../repositories/prisma-task-queue-repository';
import { PrismaVmRepository } from '../repositories/prisma-vm-repository';
import { scopeTransaction, tenantScopedPrisma } from '../tenancy/scoped-prisma';

export interface ReplicationRepos {
  replication: ReplicationRepository;
  jobs: PrismaJobRepository;
  taskQueue: PrismaTaskQueueRepository;
  ownership: PrismaOwnershipRepository;
  vms: PrismaVmRepository;
}

/** Replication's repositories, outside a transaction or bound to one (as prismaUnitOfWork). */
export function replicationUnitOfWork(prisma: PrismaClient): UnitOfWork<ReplicationRepos> {
  const on = (db: Db): ReplicationRepos => ({
    replication: new PrismaReplicationRepository(db),
    jobs: new PrismaJobRepository(db),
    taskQueue: new PrismaTaskQueueRepository(db),
    ownership: new PrismaOwnershipRepository(db),
    vms: new PrismaVmRepository(db),
  });
  return {
    repos: on(tenantScopedPrisma(prisma)),
    async run(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await prisma.$transaction(async (tx) => fn(on(await scopeTransaction(tx))), {
            maxWait: 5_000,
            timeout: 30_000,
          });
        } catch (error) {
          const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
          if (attempt >= 3 || !['P2034', '40P01', '40001'].includes(code)) throw error;
        }
      }
    },
  };
}

/** replica.* (and vm.stop) tasks through the agent task queue: queued idempotently by id, awaited by polling. */
export class TaskQueueReplicaAgents implements ReplicaAgentPort {
  constructor(private readonly deps: { uow: UnitOfWork<ReplicationRepos>; clock: Clock; pollMs?: number }) {}

  async run(req: ReplicaTaskRequest): Promise<Record<string, unknown>> {
    const vm = await this.deps.uow.repos.replication.findVm({ kind: 'provider' }, req.vmId);
    // A replica.remove after the VM's delete names its tenant itself.
    const tenantId = vm?.tenantId ?? req.tenantId;
    if (!tenantId) throw new ReplicaTaskFailed('VM_GONE', 'The VM no longer exists');
    await queueAgentTask(this.deps, {
      id: req.taskId,
      kind: req.kind,
      vmId: req.vmId,
      hostId: req.hostId,
      tenantId,
      requestedBy: 'replication',
      params: req.kind.startsWith('vm.') ? null : (req.params as TaskJsonObject),
    });
    const outcome = await awaitAgentTask(this.deps, req.taskId, {
      timeoutMs: req.timeoutMs,
      pollMs: this.deps.pollMs ?? 200,
    });
    if (outcome.state === 'succeeded') return (outcome.result ?? {}) as Record<string, unknown>;
    if (outcome.state === 'failed')
      throw new ReplicaTaskFailed(outcome.errorCode, outcome.message || outcome.errorCode);
    throw new ReplicaTaskFailed(
      'TIMEOUT',
      `The host did not finish ${req.kind} in ${Math.round(req.timeoutMs / 1000)} s`,
    );
  }
}

/** Ownership epochs (ha's core/compute/ownership.ts) and the VM's state, for failovers. */
export class PrismaVmOwnership implements VmOwnershipPort {
  constructor(private readonly deps: { uow: UnitOfWork<ReplicationRepos>; clock: Clock }) {}

  async transfer(vmId: string, to: { hostId: string; clusterId: string }, expectEpoch: number) {
    const owner = await this.deps.uow.repos.ownership.ownerOf(vmId);
    // Already there (a step run again after its move committed): no second move, no epoch bump.
    if (owner && owner.hostId === to.hostId) return owner.epoch;
    return this.deps.uow.run(({ ownership }) =>
      transferOwnership(ownership, vmId, {
        toHostId: to.hostId,
        toClusterId: to.clusterId,
        expectEpoch,
        at: this.deps.clock.now(),
      }),
    );
  }

  async setState(vmId: string, state: 'running' | 'off', reason: string) {
    await this.deps.uow.repos.vms.setVmState(vmId, state, reason);
  }

  async epochOf(vmId: string) {
    return (await this.deps.uow.repos.ownership.ownerOf(vmId))?.epoch ?? 1;
  }

  async spec(vmId: string) {
    return ((await this.deps.uow.repos.vms.vmSpec(vmId)) ?? null) as Record<string, unknown> | null;
  }
}

/** The per-pair credential of a relationship's direction: an HMAC of (relationship, generation) with the API's secret; never stored. */
export function replicaCredentials(secret: string) {
  return (relationshipId: string, generation: number) =>
    createHmac('sha256', secret).update(`replica:${relationshipId}:${generation}`).digest('base64url');
}
