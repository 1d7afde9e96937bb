import { FabricError } from '../fabric/fabric.errors';
import type { TenantScope } from '../shared/tenant-scope';
import { TenancyError } from '../tenancy/tenancy.errors';
import { aggregateMeasurement, planMeasureParts } from './measure';
import type { MeasureInput, Measurement } from './measure.schema';
import type { MeteringRepository } from './metering-repository';

/**
 * Measure-VM for many VMs at once: a tenant's (tenant roles always get their
 * own, whatever they name) or a resource pool's (a cluster; provider admins
 * and finance only). Whole days are read from the daily rollups, whole hours
 * from the hourly ones and the rest (partial hours at the edges, hours whose
 * rollup is pending) from raw samples, so the result is exactly what the
 * samples say, as Measure-VM's is.
 */
export async function measure(
  deps: { metering: MeteringRepository },
  scope: TenantScope,
  input: MeasureInput,
): Promise<Measurement> {
  const { from, to } = input;
  let filter: { tenantId: string } | { clusterId: string };
  if (input.scope.kind === 'tenant') {
    const tenantId = scope.kind === 'tenant' ? scope.tenantId : input.scope.tenantId;
    if (!tenantId) throw new TenancyError('TENANT_REQUIRED', 'Name the tenant whose usage to measure');
    if (scope.kind === 'provider' && !(await deps.metering.tenantExists(tenantId))) {
      throw new TenancyError('TENANT_NOT_FOUND', 'Tenant not found');
    }
    filter = { tenantId };
  } else {
    if (scope.kind !== 'provider') {
      throw new TenancyError('ROLE_NOT_ALLOWED', 'Usage per resource pool is for provider admins and finance');
    }
    if (!(await deps.metering.clusterExists(input.scope.clusterId))) {
      throw new FabricError('CLUSTER_NOT_FOUND', 'Resource pool (cluster) not found');
    }
    filter = { clusterId: input.scope.clusterId };
  }
  const pending = await deps.metering.pendingHours(from, to);
  const parts = planMeasureParts(
    from.getTime(),
    to.getTime(),
    pending.map((h) => h.getTime()),
  );
  const rows = await deps.metering.measureVms(filter, parts, from, to);
  const id = 'tenantId' in filter ? filter.tenantId : filter.clusterId;
  return aggregateMeasurement({ kind: input.scope.kind, id }, from, to, rows);
}
