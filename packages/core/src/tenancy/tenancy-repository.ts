import type { Role } from '../shared/roles';
import type { TenantScope } from '../shared/tenant-scope';
import type { TenantView, UserView } from './tenancy.schema';

export interface NewUser {
  name: string;
  email: string;
  passwordHash: string;
  role: Role;
  tenantId: string | null;
}

/** Every read of tenant data takes the caller's scope first. */
export interface TenancyRepository {
  findTenantByName(name: string): Promise<{ id: string } | null>;
  findTenantBySlug(slug: string): Promise<{ id: string } | null>;
  createTenant(data: { name: string; slug: string; createdAt: Date }): Promise<TenantView>;
  listTenants(scope: TenantScope): Promise<TenantView[]>;
  findTenant(scope: TenantScope, id: string): Promise<TenantView | null>;
  findUserByEmail(email: string): Promise<{ id: string } | null>;
  /** Writes the user, its password account and its membership together. */
  createUser(data: NewUser): Promise<UserView>;
  listUsers(scope: TenantScope, tenantId?: string): Promise<UserView[]>;
  findUser(scope: TenantScope, id: string): Promise<UserView | null>;
  findMembership(userId: string): Promise<{ role: Role; tenantId: string | null; tenantName: string | null } | null>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
}
