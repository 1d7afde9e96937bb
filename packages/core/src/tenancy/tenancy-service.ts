import type { AuditRepository } from '../audit/audit-repository';
import type { Clock } from '../shared/clock';
import { isTenantRole } from '../shared/roles';
import { type Actor, type Caller, scopeOf, type TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import { slugify } from './slug';
import { TenancyError } from './tenancy.errors';
import type {
  CreateTenantInput,
  CreateTenantUserInput,
  CreateUserInput,
  Me,
  PortalOverview,
  TenantView,
  UserView,
} from './tenancy.schema';
import type { PasswordHasher, TenancyRepository } from './tenancy-repository';

type Repos = { tenancy: TenancyRepository; audit: AuditRepository };

const EMAIL_UNAVAILABLE = 'This e-mail address cannot be used for a new user. Use another, or ask your provider.';

export class TenancyService {
  // The clock dates a new tenant: billing starts no earlier (no invoice for a month that ended before it).
  constructor(private readonly deps: { uow: UnitOfWork<Repos>; passwords: PasswordHasher; clock: Clock }) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  async createTenant(actor: Actor, input: CreateTenantInput): Promise<TenantView> {
    const slug = slugify(input.name);
    if (!slug) throw new TenancyError('INVALID_TENANT_NAME', 'Tenant name needs at least one letter or digit');
    return this.deps.uow.run(async ({ tenancy, audit }) => {
      if ((await tenancy.findTenantByName(input.name)) || (await tenancy.findTenantBySlug(slug))) {
        throw new TenancyError('DUPLICATE_TENANT_NAME', `A tenant named "${input.name}" already exists`);
      }
      const tenant = await tenancy.createTenant({ name: input.name, slug, createdAt: this.deps.clock.now() });
      await audit.append({
        actor,
        action: 'tenant.create',
        targetType: 'tenant',
        targetId: tenant.id,
        targetLabel: tenant.name,
        tenantId: tenant.id,
        result: 'success',
      });
      return tenant;
    });
  }

  listTenants(scope: TenantScope) {
    return this.repos.tenancy.listTenants(scope);
  }

  async getTenant(scope: TenantScope, id: string) {
    const tenant = await this.repos.tenancy.findTenant(scope, id);
    if (!tenant) throw new TenancyError('TENANT_NOT_FOUND', 'Tenant not found');
    return { ...tenant, users: await this.repos.tenancy.listUsers(scope, id) };
  }

  /**
   * Provider admins create anyone. Tenant roles belong to exactly one tenant,
   * provider roles to none.
   */
  async createUser(actor: Actor, scope: TenantScope, input: CreateUserInput): Promise<UserView> {
    if (isTenantRole(input.role) && !input.tenantId) {
      throw new TenancyError('TENANT_REQUIRED', `A ${input.role} must belong to a tenant`);
    }
    if (!isTenantRole(input.role) && input.tenantId) {
      throw new TenancyError('TENANT_NOT_ALLOWED', `A ${input.role} belongs to the provider, not to a tenant`);
    }
    if (input.tenantId && !(await this.repos.tenancy.findTenant(scope, input.tenantId))) {
      throw new TenancyError('TENANT_NOT_FOUND', 'Tenant not found');
    }
    return this.insertUser(actor, { ...input, tenantId: input.tenantId ?? null });
  }

  /** A tenant admin adds a user to its own tenant; the tenant comes from the session. */
  async createTenantUser(actor: Actor, caller: Caller, input: CreateTenantUserInput): Promise<UserView> {
    const scope = scopeOf(caller);
    if (scope.kind !== 'tenant') throw new TenancyError('ROLE_NOT_ALLOWED', 'Only tenant admins add tenant users');
    // E-mails are unique across tenants (they sign in), so a taken one is refused; to a tenant admin
    // in words that neither name it nor say whether it is theirs, another tenant's or the provider's.
    return this.insertUser(actor, { ...input, tenantId: scope.tenantId }, EMAIL_UNAVAILABLE);
  }

  private async insertUser(
    actor: Actor,
    input: Omit<CreateUserInput, 'tenantId'> & { tenantId: string | null },
    takenMessage = `A user with email ${input.email} already exists`,
  ) {
    const passwordHash = await this.deps.passwords.hash(input.password);
    return this.deps.uow.run(async ({ tenancy, audit }) => {
      if (await tenancy.findUserByEmail(input.email)) throw new TenancyError('DUPLICATE_EMAIL', takenMessage);
      const user = await tenancy.createUser({
        name: input.name,
        email: input.email,
        passwordHash,
        role: input.role,
        tenantId: input.tenantId,
      });
      await audit.append({
        actor,
        action: 'user.create',
        targetType: 'user',
        targetId: user.id,
        targetLabel: user.email,
        tenantId: user.tenantId,
        result: 'success',
        details: { role: user.role },
      });
      return user;
    });
  }

  listUsers(scope: TenantScope, tenantId?: string) {
    return this.repos.tenancy.listUsers(scope, tenantId);
  }

  async getUser(scope: TenantScope, id: string): Promise<UserView> {
    const user = await this.repos.tenancy.findUser(scope, id);
    if (!user) throw new TenancyError('USER_NOT_FOUND', 'User not found');
    return user;
  }

  /** The signed-in user's role and tenant: what a session resolves to (null: no membership, so no access). */
  findMembership(userId: string) {
    return this.repos.tenancy.findMembership(userId);
  }

  /** Who the caller is, with its tenant's name (read again: the session carries only the id). */
  async me(caller: Caller): Promise<Me> {
    const tenantName = (await this.repos.tenancy.findMembership(caller.userId))?.tenantName ?? null;
    return {
      user: { id: caller.userId, name: caller.name, email: caller.email },
      role: caller.role,
      tenant: caller.tenantId ? { id: caller.tenantId, name: tenantName ?? '' } : null,
    };
  }

  async portalOverview(caller: Caller): Promise<PortalOverview> {
    const scope = scopeOf(caller);
    if (scope.kind !== 'tenant') throw new TenancyError('ROLE_NOT_ALLOWED', 'The portal is for tenant users');
    const tenant = await this.repos.tenancy.findTenant(scope, scope.tenantId);
    if (!tenant) throw new TenancyError('TENANT_NOT_FOUND', 'Tenant not found');
    const users = caller.role === 'tenant-admin' ? await this.repos.tenancy.listUsers(scope, scope.tenantId) : [];
    return {
      tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug },
      you: { name: caller.name, email: caller.email, role: caller.role },
      userCount: tenant.userCount,
      users: users.map((u) => ({ id: u.id, name: u.name, email: u.email, role: u.role })),
    };
  }
}
