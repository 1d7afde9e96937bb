import { measureInput, measurementSchema } from '@fabric/core/metering/measure.schema';
import { scopeOf } from '@fabric/core/shared/tenant-scope';
import { procedureFor } from '../../trpc/procedures';

/**
 * Measure-VM for many VMs together: a tenant's (tenant roles: always their
 * own) or a resource pool's (a cluster; the service refuses tenant roles),
 * totals over the period and the heaviest VMs one by one.
 */
export const measure = procedureFor('provider-admin', 'finance', 'tenant-admin', 'tenant-user')
  .input(measureInput)
  .output(measurementSchema)
  .query(({ ctx, input }) => ctx.services.metering.measure(scopeOf(ctx.caller), input));
