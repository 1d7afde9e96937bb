import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import type { Db, PrismaClient } from './prisma';
import { PrismaAuditRepository } from './prisma-audit-repository';
import { PrismaComputeRepository } from './prisma-compute-repository';
import { PrismaFabricRepository } from './prisma-fabric-repository';
import { PrismaPlacementStore } from './prisma-placement-store';
import { PrismaTenancyRepository } from './prisma-tenancy-repository';

export interface Repositories {
  fabric: PrismaFabricRepository;
  audit: PrismaAuditRepository;
  tenancy: PrismaTenancyRepository;
  compute: PrismaComputeRepository;
  placement: PrismaPlacementStore;
}

function repositoriesOn(db: Db): Repositories {
  return {
    fabric: new PrismaFabricRepository(db),
    audit: new PrismaAuditRepository(db),
    tenancy: new PrismaTenancyRepository(db),
    compute: new PrismaComputeRepository(db),
    placement: new PrismaPlacementStore(db),
  };
}

export function prismaUnitOfWork(prisma: PrismaClient): UnitOfWork<Repositories> {
  return {
    repos: repositoriesOn(prisma),
    run: (fn) => prisma.$transaction((tx) => fn(repositoriesOn(tx)), { maxWait: 5_000, timeout: 15_000 }),
  };
}
