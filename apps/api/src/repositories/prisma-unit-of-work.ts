import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import type { Db, PrismaClient } from './prisma';
import { PrismaAuditRepository } from './prisma-audit-repository';
import { PrismaFabricRepository } from './prisma-fabric-repository';
import { PrismaTenancyRepository } from './prisma-tenancy-repository';

export interface Repositories {
  fabric: PrismaFabricRepository;
  audit: PrismaAuditRepository;
  tenancy: PrismaTenancyRepository;
}

function repositoriesOn(db: Db): Repositories {
  return {
    fabric: new PrismaFabricRepository(db),
    audit: new PrismaAuditRepository(db),
    tenancy: new PrismaTenancyRepository(db),
  };
}

export function prismaUnitOfWork(prisma: PrismaClient): UnitOfWork<Repositories> {
  return {
    repos: repositoriesOn(prisma),
    run: (fn) => prisma.$transaction((tx) => fn(repositoriesOn(tx)), { maxWait: 5_000, timeout: 15_000 }),
  };
}
