import type { Role } from '@fabric/core/shared/roles';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import { PrismaClient } from '@fabric/db/generated/prisma/client';
import { PrismaPg } from '@prisma/adapter-pg';

export type Db = PrismaClient | Prisma.TransactionClient;
export { PrismaClient };

export function createPrismaClient(databaseUrl: string, poolSize = 10): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}

type DbRole = 'provider_admin' | 'tenant_admin' | 'tenant_user' | 'finance';

export function roleFromDb(role: DbRole): Role {
  return role.replace('_', '-') as Role;
}

export function roleToDb(role: Role): DbRole {
  return role.replace('-', '_') as DbRole;
}
