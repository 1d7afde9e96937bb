import { ComputeError } from '../compute/compute.errors';
import type { ComputeRepository } from '../compute/compute-repository';
import { FabricError } from '../fabric/fabric.errors';
import type { Clock } from '../shared/clock';
import type { TenantScope } from '../shared/tenant-scope';
import { TenancyError } from '../tenancy/tenancy.errors';
import type { MeteringRepository } from './metering-repository';
import { buildUsagePoints } from './usage-series';
import type { UsageSeries, UsageSeriesInput } from './usage-series.schema';

const DAY_MS = 86_400_000;

export interface UsageSeriesDeps {
  metering: MeteringRepository;
  compute: ComputeRepository;
  clock: Clock;
  retentionDays: number;
}

/**
 * Usage over time for a tenant, a VM or a host. Tenant and VM series come
 * from the hourly rollups (kept); host series from raw samples, which carry
 * the host a VM ran on but are dropped after the retention period.
 * A tenant caller gets its own tenant whatever it names, and another
 * tenant's VM is not found, exactly like a missing one.
 */
export async function usageSeries(
  deps: UsageSeriesDeps,
  scope: TenantScope,
  input: UsageSeriesInput,
): Promise<UsageSeries> {
  const { from, to, bucket } = input;
  const base = { from, to, bucket };
  switch (input.scope.kind) {
    case 'tenant': {
      const tenantId = scope.kind === 'tenant' ? scope.tenantId : input.scope.tenantId;
      if (!tenantId) throw new TenancyError('TENANT_REQUIRED', 'Name the tenant whose usage to show');
      if (scope.kind === 'provider' && !(await deps.metering.tenantExists(tenantId))) {
        throw new TenancyError('TENANT_NOT_FOUND', 'Tenant not found');
      }
      const rows = await deps.metering.rollupSeries({ tenantId }, from, to, bucket);
      return {
        ...base,
        scope: { kind: 'tenant', id: tenantId },
        points: buildUsagePoints(rows, from, to, bucket),
        availableFrom: null,
      };
    }
    case 'vm': {
      const vm = await deps.compute.findVm(scope, input.scope.vmId);
      if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
      const rows = await deps.metering.rollupSeries({ vmId: vm.id }, from, to, bucket);
      return {
        ...base,
        scope: { kind: 'vm', id: vm.id },
        points: buildUsagePoints(rows, from, to, bucket),
        availableFrom: null,
      };
    }
    case 'host': {
      if (scope.kind !== 'provider') {
        throw new TenancyError('ROLE_NOT_ALLOWED', 'Usage per host is for provider admins and finance');
      }
      const { hostId } = input.scope;
      if (!(await deps.metering.hostExists(hostId))) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      // Partitions are dropped whole days at a time: samples are kept from this UTC midnight on.
      const today = Math.floor(deps.clock.now().getTime() / DAY_MS) * DAY_MS;
      const availableFrom = new Date(today - deps.retentionDays * DAY_MS);
      const rows = await deps.metering.hostSampleSeries(hostId, from, to, bucket);
      return {
        ...base,
        scope: { kind: 'host', id: hostId },
        points: buildUsagePoints(rows, from, to, bucket),
        availableFrom,
      };
    }
  }
}
