import { usageSeriesInput, usageSeriesSchema } from '@fabric/core/metering/usage-series.schema';
import { scopeOf } from '@fabric/core/shared/tenant-scope';
import { procedureFor } from '../../trpc/procedures';

/**
 * Usage over time (charts): a tenant's (tenant roles: always their own) or a
 * VM's from the hourly rollups; a host's from raw samples (provider admins
 * and finance only; the service refuses tenant roles).
 */
export const usageSeries = procedureFor('provider-admin', 'finance', 'tenant-admin', 'tenant-user')
  .input(usageSeriesInput)
  .output(usageSeriesSchema)
  .query(({ ctx, input }) => ctx.services.metering.usageSeries(scopeOf(ctx.caller), input));
