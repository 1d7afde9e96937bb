import type { Role } from './roles';

/**
 * Whose data a caller may see. Built from the session's membership, never
 * from input: provider roles see every tenant, tenant roles only their own.
 */
export type TenantScope = { readonly kind: 'provider' } | { readonly kind: 'tenant'; readonly tenantId: string };

export interface Actor {
  readonly type: 'user' | 'agent' | 'system';
  readonly id: string | null;
  readonly label: string;
}

export interface Caller {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly tenantId: string | null;
}

export function scopeOf(caller: Caller): TenantScope {
  if (caller.role === 'tenant-admin' || caller.role === 'tenant-user') {
    if (!caller.tenantId) throw new Error(`tenant role ${caller.role} without a tenant`);
    return { kind: 'tenant', tenantId: caller.tenantId };
  }
  return { kind: 'provider' };
}

export function actorOf(caller: Caller): Actor {
  return { type: 'user', id: caller.userId, label: caller.email };
}

/** True when an object owned by `ownerTenantId` is visible in `scope`. */
export function canSee(scope: TenantScope, ownerTenantId: string | null): boolean {
  return scope.kind === 'provider' || scope.tenantId === ownerTenantId;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, label: 'system' };
