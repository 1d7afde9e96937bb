import { RefusalBudget } from '@fabric/core/audit/refusal-budget';
import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import { scopeTransaction, tenantScopedPrisma } from '../tenancy/scoped-prisma';
import type { Db, PrismaClient } from './prisma';
import { PrismaAddressClassRepository } from './prisma-address-class-repository';
import { PrismaAuditRepository } from './prisma-audit-repository';
import { PrismaChargebackRepository } from './prisma-chargeback-repository';
import { PrismaFabricRepository } from './prisma-fabric-repository';
import { PrismaHaRepository } from './prisma-ha-repository';
import { PrismaInvoiceRepository } from './prisma-invoice-repository';
import { PrismaJobRepository } from './prisma-job-repository';
import { PrismaOwnershipRepository } from './prisma-ownership-repository';
import { PrismaPlacementDecisionRepository } from './prisma-placement-decision-repository';
import { PrismaPlacementStore } from './prisma-placement-store';
import { PrismaQuotaRepository } from './prisma-quota-repository';
import { PrismaTaskQueueRepository } from './prisma-task-queue-repository';
import { PrismaTenancyRepository } from './prisma-tenancy-repository';
import { PrismaVmRepository } from './prisma-vm-repository';

export interface Repositories {
  fabric: PrismaFabricRepository;
  audit: PrismaAuditRepository;
  tenancy: PrismaTenancyRepository;
  vms: PrismaVmRepository;
  /** Metering's name for the VM repository (the same object as `vms`). */
  compute: PrismaVmRepository;
  quotas: PrismaQuotaRepository;
  decisions: PrismaPlacementDecisionRepository;
  taskQueue: PrismaTaskQueueRepository;
  placement: PrismaPlacementStore;
  chargeback: PrismaChargebackRepository;
  invoices: PrismaInvoiceRepository;
  /** Long operations users see (the Tasks panel), with the agents' VM tasks. */
  jobs: PrismaJobRepository;
  addressClasses: PrismaAddressClassRepository;
  /** VM ownership epochs (core compute/ownership.ts): transferOwnership goes through it. */
  ownership: PrismaOwnershipRepository;
  /** High availability: settings, the second channel's sightings, failure events and restarts. */
  ha: PrismaHaRepository;
}

function repositoriesOn(db: Db, refusals: RefusalBudget): Repositories {
  const vms = new PrismaVmRepository(db);
  return {
    fabric: new PrismaFabricRepository(db),
    audit: new PrismaAuditRepository(db, refusals),
    tenancy: new PrismaTenancyRepository(db),
    vms,
    compute: vms,
    quotas: new PrismaQuotaRepository(db),
    decisions: new PrismaPlacementDecisionRepository(db),
    taskQueue: new PrismaTaskQueueRepository(db),
    placement: new PrismaPlacementStore(db),
    chargeback: new PrismaChargebackRepository(db),
    invoices: new PrismaInvoiceRepository(db),
    jobs: new PrismaJobRepository(db),
    addressClasses: new PrismaAddressClassRepository(db),
    ownership: new PrismaOwnershipRepository(db),
    ha: new PrismaHaRepository(db),
  };
}

/** Deadlocks and serialization failures: the transaction did nothing and may simply run again. */
function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : '';
  return (
    code === 'P2034' || code === '40P01' || code === '40001' || /deadlock detected|could not serialize/i.test(message)
  );
}

/**
 * `prisma` connects as the app role: outside a unit of work the repositories
 * use it scoped to the current tenant (row-level security), and a unit of
 * work's transaction sets its tenant first (tenancy/scoped-prisma.ts).
 */
export function prismaUnitOfWork(prisma: PrismaClient): UnitOfWork<Repositories> {
  // One budget for the process: a transaction's audit repository shares it (audit/refusal-budget.ts).
  const refusals = new RefusalBudget();
  return {
    repos: repositoriesOn(tenantScopedPrisma(prisma), refusals),
    async run(fn) {
      // Locks are taken in the order the work needs them (a tenant's quota,
      // then clusters by promise), so two transactions can rarely deadlock;
      // Postgres then aborts one, which is retried here.
      for (let attempt = 1; ; attempt++) {
        try {
          return await prisma.$transaction(async (tx) => fn(repositoriesOn(await scopeTransaction(tx), refusals)), {
            maxWait: 5_000,
            timeout: 15_000,
          });
        } catch (error) {
          if (attempt >= 3 || !isRetryable(error)) throw error;
        }
      }
    },
  };
}
