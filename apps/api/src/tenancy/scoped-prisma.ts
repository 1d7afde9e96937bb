import type { Db, PrismaClient } from '../repositories/prisma';
import { ALL_TENANTS, currentDbScope, runForAllTenants, TENANT_SETTING } from './db-scope';

/**
 * The Prisma client the repositories use outside a unit of work: each query
 * of a tenant's work runs in its own short transaction that first sets
 * `fabric.tenant_id` to the tenant (Prisma 7's row-level-security extension
 * pattern). Other work runs as it is: the connection's default sees every
 * tenant. Raw queries are covered too (`$allOperations` at the top level).
 *
 * One transaction per query, never Prisma's batching of findUnique calls
 * across callers: two tenants' reads can never share a statement.
 */
export function tenantScopedPrisma(base: PrismaClient): PrismaClient {
  const extended = base.$extends({
    name: 'fabric-row-level-security',
    query: {
      async $allOperations({ args, query }) {
        const scope = currentDbScope();
        if (scope.kind !== 'tenant') return query(args);
        const [, result] = await base.$transaction([
          base.$executeRaw`SELECT set_config(${TENANT_SETTING}, ${scope.tenantId}, true)`,
          query(args),
        ]);
        return result;
      },
    },
  });
  // The extension intercepts queries and changes no model or result type: the
  // extended client is used wherever a PrismaClient is.
  return extended as unknown as PrismaClient;
}

/**
 * The first statement of every unit of work: a tenant's transaction sees its
 * tenant only, until it ends (set_config(…, true) is transaction-local).
 */
export async function scopeTransaction<T extends Db>(tx: T): Promise<T> {
  const scope = currentDbScope();
  if (scope.kind === 'tenant') await tx.$executeRaw`SELECT set_config(${TENANT_SETTING}, ${scope.tenantId}, true)`;
  return tx;
}

/** Transactions inside `seeingAllTenants` now, and how many calls hold each (they may overlap: Promise.all). */
const widened = new WeakMap<object, number>();

/**
 * Runs `fn`, whose queries on `db` must see every tenant, inside a tenant's
 * work: placement's capacity (other tenants' VMs hold host memory, disk and
 * bandwidth; hidden, a host would look emptier than it is). Only aggregates
 * and placement's own inputs are read this way; nothing of another tenant is
 * returned to the caller. In a transaction the setting is widened while any
 * such call runs and narrowed back after the last; outside one, the scoped
 * client simply finds no tenant in scope.
 */
export async function seeingAllTenants<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  const scope = currentDbScope();
  if (scope.kind !== 'tenant') return fn();
  if (!isTransaction(db)) return runForAllTenants(fn);
  const holders = widened.get(db) ?? 0;
  widened.set(db, holders + 1);
  if (holders === 0) await db.$executeRaw`SELECT set_config(${TENANT_SETTING}, ${ALL_TENANTS}, true)`;
  let failed = false;
  try {
    return await fn();
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    const left = (widened.get(db) ?? 1) - 1;
    if (left > 0) widened.set(db, left);
    else widened.delete(db);
    // After a failed statement the transaction is aborted and rolls back,
    // setting included; trying to narrow it would only hide the first error.
    if (left === 0 && !failed) {
      await db.$executeRaw`SELECT set_config(${TENANT_SETTING}, ${scope.tenantId}, true)`;
    }
  }
}

function isTransaction(db: Db): boolean {
  // A transaction's client cannot disconnect (Prisma 7's has $transaction, for nesting, but not $disconnect).
  return !('$disconnect' in db);
}
