import type { PrismaClient } from '../repositories/prisma';
import { ALL_TENANTS, TENANT_SETTING } from './db-scope';

/** The role the row_level_security migration creates: it owns no table, so the policies apply to it. */
export const APP_ROLE = 'fabric_app';

/**
 * The URL the API's own connections use (Prisma and the pg pool), never the
 * owner's: row-level security binds only a role that does not own the tables.
 *
 * - `DATABASE_APP_URL` given: a login role of the operator's, member of
 *   `fabric_app` or granted the same (the stronger setup: its connections
 *   cannot become the owner).
 * - Otherwise the owner's `DATABASE_URL` switched to `fabric_app` for the
 *   whole session by a start-up option (`-c role=fabric_app`), which is what
 *   the embedded Postgres and a plain `DATABASE_URL` get with no setup.
 *
 * Either way every connection starts seeing every tenant (`fabric.tenant_id=*`:
 * agents, provider, background work); a tenant's work narrows it per
 * transaction. Options already in the URL are kept.
 */
export function appDatabaseUrl(ownerUrl: string, appUrl?: string): string {
  const url = new URL(appUrl ?? ownerUrl);
  const options = [
    url.searchParams.get('options') ?? '',
    appUrl ? '' : `-c role=${APP_ROLE}`,
    `-c ${TENANT_SETTING}=${ALL_TENANTS}`,
  ].filter(Boolean);
  url.searchParams.set('options', options.join(' '));
  return url.toString();
}

/**
 * Refuses to start when the API's connections would not be bound by the
 * policies: a superuser, a role with BYPASSRLS, or one owning tables (a
 * DATABASE_APP_URL naming the owner, say). Row-level security would then
 * hold nothing, silently.
 */
export async function assertRowLevelSecurityBinds(db: PrismaClient): Promise<void> {
  const [role] = await db.$queryRaw<{ name: string; superuser: boolean; bypass: boolean; owned: bigint }[]>`
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
      (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relowner = r.oid) AS owned
    FROM pg_roles r WHERE r.rolname = current_user`;
  if (!role || role.superuser || role.bypass || role.owned > 0n) {
    throw new Error(
      `The API's database role ${role?.name ?? '(unknown)'} is not bound by row-level security ` +
        `(${role?.superuser ? 'a superuser' : role?.bypass ? 'BYPASSRLS' : 'it owns tables'}): ` +
        `set DATABASE_APP_URL to a login role granted ${APP_ROLE}, or leave it unset (docs/row-level-security.md)`,
    );
  }
}
