import { z } from 'zod';
import { ROLES } from '../shared/roles';
import { oneOf, text } from '../shared/text.schema';

const id = z.string().uuid('must be a valid id');

export const tenantNameSchema = text('Tenant name', { min: 2, max: 80, name: true });

export const createTenantInput = z.object({ name: tenantNameSchema });
export type CreateTenantInput = z.infer<typeof createTenantInput>;

export const tenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  userCount: z.number(),
  createdAt: z.date(),
});
export type TenantView = z.infer<typeof tenantSchema>;

export const userSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  tenantId: z.string().nullable(),
  tenantName: z.string().nullable(),
  createdAt: z.date(),
});
export type UserView = z.infer<typeof userSchema>;

export const tenantDetailSchema = tenantSchema.extend({ users: z.array(userSchema) });

export const passwordSchema = z
  .string()
  .min(10, 'Password must be at least 10 characters')
  .max(128, 'Password must be at most 128 characters');

/** A person's name, wherever it is set: user creation here, and /api/auth/update-user (auth/auth-routes.ts). */
export const userNameSchema = text('Name', { min: 1, max: 100, name: true });

export const createUserInput = z.object({
  name: userNameSchema,
  email: z.string().trim().toLowerCase().email('Enter a valid email address').max(254),
  password: passwordSchema,
  role: oneOf('Role', ROLES),
  tenantId: id.optional(),
});
export type CreateUserInput = z.infer<typeof createUserInput>;

/** A tenant admin adds people to its own tenant only: no tenant in the input. */
export const createTenantUserInput = createUserInput.omit({ tenantId: true }).extend({
  role: oneOf('Role', ['tenant-admin', 'tenant-user']),
});
export type CreateTenantUserInput = z.infer<typeof createTenantUserInput>;

export const listUsersInput = z.object({ tenantId: id.optional() }).default({});

/** Users have better-auth's text ids; tenants have uuids, checked here so a malformed one is a 400, not a failed query. */
export const byIdInput = z.object({ id: text('id', { min: 1, max: 100 }) });
export const tenantByIdInput = z.object({ id });

export const portalOverviewSchema = z.object({
  tenant: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  you: z.object({ name: z.string(), email: z.string(), role: z.enum(ROLES) }),
  userCount: z.number(),
  users: z.array(z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.enum(ROLES) })),
});
export type PortalOverview = z.infer<typeof portalOverviewSchema>;

export const meSchema = z.object({
  user: z.object({ id: z.string(), name: z.string(), email: z.string() }),
  role: z.enum(ROLES),
  tenant: z.object({ id: z.string(), name: z.string() }).nullable(),
});
export type Me = z.infer<typeof meSchema>;
