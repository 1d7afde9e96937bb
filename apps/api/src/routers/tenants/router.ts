import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import {
  createTenantInput,
  tenantByIdInput,
  tenantDetailSchema,
  tenantSchema,
} from '@fabric/core/tenancy/tenancy.schema';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin, providerReader } from '../../trpc/procedures';

export const tenantsRouter = t.router({
  /** Finance reads the tenant list too: bills are per tenant. */
  list: providerReader
    .output(z.array(tenantSchema))
    .query(({ ctx }) => ctx.services.tenancy.listTenants(scopeOf(ctx.caller))),
  get: providerAdmin
    .input(tenantByIdInput)
    .output(tenantDetailSchema)
    .query(({ ctx, input }) => ctx.services.tenancy.getTenant(scopeOf(ctx.caller), input.id)),
  create: providerAdmin
    .input(createTenantInput)
    .output(tenantSchema)
    .mutation(({ ctx, input }) => ctx.services.tenancy.createTenant(actorOf(ctx.caller), input)),
});
