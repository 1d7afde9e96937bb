import { describe, expect, it } from 'vitest';
import type { Role } from './roles';
import { actorOf, type Caller, canSee, scopeOf, type TenantScope } from './tenant-scope';

const BLUE = '00000000-0000-4000-8000-00000000000b';
const YELLOW = '00000000-0000-4000-8000-00000000000e';

const caller = (role: Role, tenantId: string | null): Caller => ({
  userId: 'user-1',
  email: 'someone@example.com',
  name: 'Someone',
  role,
  tenantId,
});

describe('scopeOf', () => {
  it.each<[Role, string | null, TenantScope]>([
    ['provider-admin', null, { kind: 'provider' }],
    ['finance', null, { kind: 'provider' }],
    ['tenant-admin', BLUE, { kind: 'tenant', tenantId: BLUE }],
    ['tenant-user', YELLOW, { kind: 'tenant', tenantId: YELLOW }],
  ])('%s with tenant %s → %o', (role, tenantId, scope) => {
    expect(scopeOf(caller(role, tenantId))).toEqual(scope);
  });

  it.each<Role>(['tenant-admin', 'tenant-user'])(
    'refuses a %s without a tenant rather than widen its scope',
    (role) => {
      expect(() => scopeOf(caller(role, null))).toThrow(`tenant role ${role} without a tenant`);
    },
  );

  it('a provider role stays provider-wide even if a tenant is attached', () => {
    // Provider roles have no tenant by construction; the scope depends on the role alone.
    expect(scopeOf(caller('finance', BLUE))).toEqual({ kind: 'provider' });
  });
});

describe('canSee', () => {
  const provider: TenantScope = { kind: 'provider' };
  const blue: TenantScope = { kind: 'tenant', tenantId: BLUE };

  it.each<[string, TenantScope, string | null, boolean]>([
    ['provider, a tenant’s object', provider, BLUE, true],
    ['provider, a provider object', provider, null, true],
    ['Blue, its own object', blue, BLUE, true],
    ['Blue, Yellow’s object', blue, YELLOW, false],
    ['Blue, a provider object', blue, null, false],
  ])('%s → %s', (_, scope, owner, visible) => {
    expect(canSee(scope, owner)).toBe(visible);
  });
});

describe('actorOf', () => {
  it('names the user by id and email', () => {
    expect(actorOf(caller('tenant-admin', BLUE))).toEqual({ type: 'user', id: 'user-1', label: 'someone@example.com' });
  });
});
