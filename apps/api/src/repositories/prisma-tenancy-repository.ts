import { randomUUID } from 'node:crypto';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import { TenancyError } from '@fabric/core/tenancy/tenancy.errors';
import type { TenantView, UserView } from '@fabric/core/tenancy/tenancy.schema';
import type { NewUser, TenancyRepository } from '@fabric/core/tenancy/tenancy-repository';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import { type Db, roleFromDb, roleToDb } from './prisma';
import { uniqueOr } from './prisma-errors';

/** Tenant rows visible in `scope`: a tenant role sees only its own tenant. */
function tenantWhere(scope: TenantScope): Prisma.TenantWhereInput {
  return scope.kind === 'tenant' ? { id: scope.tenantId } : {};
}

/** Users visible in `scope`: a tenant role sees only its tenant's members. */
function userWhere(scope: TenantScope): Prisma.UserWhereInput {
  return scope.kind === 'tenant' ? { membership: { tenantId: scope.tenantId } } : {};
}

const userInclude = { membership: { include: { tenant: { select: { name: true } } } } } satisfies Prisma.UserInclude;

function toUserView(user: Prisma.UserGetPayload<{ include: typeof userInclude }>): UserView | null {
  if (!user.membership) return null;
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    role: roleFromDb(user.membership.role),
    tenantId: user.membership.tenantId,
    tenantName: user.membership.tenant?.name ?? null,
    createdAt: user.createdAt,
  };
}

export class PrismaTenancyRepository implements TenancyRepository {
  constructor(private readonly db: Db) {}

  findTenantByName(name: string) {
    return this.db.tenant.findFirst({ where: { name: { equals: name, mode: 'insensitive' } }, select: { id: true } });
  }

  findTenantBySlug(slug: string) {
    return this.db.tenant.findUnique({ where: { slug }, select: { id: true } });
  }

  async createTenant(data: { name: string; slug: string; createdAt: Date }): Promise<TenantView> {
    // The service checks name and slug first; two creations at once meet here.
    const tenant = await uniqueOr(
      this.db.tenant.create({ data }),
      () => new TenancyError('DUPLICATE_TENANT_NAME', `A tenant named "${data.name}" already exists`),
    );
    return { ...tenant, userCount: 0 };
  }

  async listTenants(scope: TenantScope): Promise<TenantView[]> {
    const tenants = await this.db.tenant.findMany({
      where: tenantWhere(scope),
      orderBy: { name: 'asc' },
      include: { _count: { select: { memberships: true } } },
    });
    return tenants.map(({ _count, ...t }) => ({ ...t, userCount: _count.memberships }));
  }

  async findTenant(scope: TenantScope, id: string): Promise<TenantView | null> {
    const tenant = await this.db.tenant.findFirst({
      where: { AND: [tenantWhere(scope), { id }] },
      include: { _count: { select: { memberships: true } } },
    });
    if (!tenant) return null;
    const { _count, ...rest } = tenant;
    return { ...rest, userCount: _count.memberships };
  }

  findUserByEmail(email: string) {
    return this.db.user.findFirst({ where: { email: { equals: email, mode: 'insensitive' } }, select: { id: true } });
  }

  async createUser(data: NewUser): Promise<UserView> {
    const id = randomUUID();
    const write = this.db.user.create({
      data: {
        id,
        name: data.name,
        email: data.email,
        emailVerified: true,
        // better-auth's email/password sign-in reads the hash from the
        // "credential" account.
        accounts: {
          create: { id: randomUUID(), accountId: id, providerId: 'credential', password: data.passwordHash },
        },
        membership: { create: { role: roleToDb(data.role), tenantId: data.tenantId } },
      },
      include: userInclude,
    });
    // The service checks the email first; two creations at once meet here.
    const user = await uniqueOr(
      write,
      () => new TenancyError('DUPLICATE_EMAIL', `A user with email ${data.email} already exists`),
    );
    const view = toUserView(user);
    if (!view) throw new Error('user created without membership');
    return view;
  }

  async listUsers(scope: TenantScope, tenantId?: string): Promise<UserView[]> {
    const users = await this.db.user.findMany({
      where: { AND: [userWhere(scope), tenantId ? { membership: { tenantId } } : {}] },
      orderBy: [{ name: 'asc' }, { email: 'asc' }],
      include: userInclude,
    });
    return users.flatMap((u) => toUserView(u) ?? []);
  }

  async findUser(scope: TenantScope, id: string): Promise<UserView | null> {
    const user = await this.db.user.findFirst({ where: { AND: [userWhere(scope), { id }] }, include: userInclude });
    return user ? toUserView(user) : null;
  }

  async findMembership(userId: string) {
    const m = await this.db.membership.findUnique({
      where: { userId },
      include: { tenant: { select: { name: true } } },
    });
    return m ? { role: roleFromDb(m.role), tenantId: m.tenantId, tenantName: m.tenant?.name ?? null } : null;
  }
}
