import { AsyncLocalStorage } from 'node:async_hooks';
import { type Caller, scopeOf } from '@fabric/core/shared/tenant-scope';

/**
 * Whose rows the database lets the current work see (row-level security, the
 * second wall behind core's TenantScope; docs/row-level-security.md).
 * `all-tenants` is provider, finance, agent and background work: the value
 * every API connection starts with. `tenant` is set where a tenant caller is
 * resolved (tRPC procedures, export routes) and applied to each query by the
 * scoped Prisma client and pg pool, as the setting `fabric.tenant_id`.
 */
export type DbScope = { readonly kind: 'all-tenants' } | { readonly kind: 'tenant'; readonly tenantId: string };

/** The setting the policies read (see the row_level_security migration). */
export const TENANT_SETTING = 'fabric.tenant_id';
/** Its value for work that may see every tenant. */
export const ALL_TENANTS = '*';

const ALL: DbScope = { kind: 'all-tenants' };
const storage = new AsyncLocalStorage<DbScope>();

/** Outside any request (agents, workflows, start-up): every tenant, the connections' default. */
export function currentDbScope(): DbScope {
  return storage.getStore() ?? ALL;
}

/**
 * Runs `fn` for one tenant. `fn` is awaited inside the scope: a Prisma query
 * is lazy and runs when awaited, so one returned un-awaited would otherwise
 * run outside it, as every tenant.
 */
export function runForTenant<T>(tenantId: string, fn: () => T | PromiseLike<T>): Promise<T> {
  // An empty id would make the policies see nothing (fail closed), but it is a bug: say so.
  if (!tenantId) return Promise.reject(new Error('runForTenant needs a tenant id'));
  return storage.run({ kind: 'tenant', tenantId }, async () => await fn());
}

/**
 * Work that must see every tenant whatever the caller: placement's capacity
 * (other tenants' VMs hold host memory) and metering's housekeeping (rollups
 * of every tenant's samples). Keep these few and named.
 */
export function runForAllTenants<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return storage.run(ALL, async () => await fn());
}

/** A tenant role's work sees its tenant; provider and finance roles see every tenant. */
export function runForCaller<T>(caller: Caller, fn: () => T | PromiseLike<T>): Promise<T> {
  const scope = scopeOf(caller);
  return scope.kind === 'tenant' ? runForTenant(scope.tenantId, fn) : runForAllTenants(fn);
}
