import type { AuditRepository } from '../audit/audit-repository';
import { ComputeError } from '../compute/compute.errors';
import type { ComputeRepository } from '../compute/compute-repository';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { MeasureInput, Measurement } from './measure.schema';
import { measure } from './measure-service';
import type { MeasureVmInput, VmMeasurement } from './metering.schema';
import type { MeteringRepository, SampleRow } from './metering-repository';
import type { SamplesRequest, SamplesResponse } from './sample-protocol.schema';
import type { UsageSeries, UsageSeriesInput } from './usage-series.schema';
import { usageSeries } from './usage-series-service';

const DAY_MS = 86_400_000;

export interface MeteringServiceDeps {
  metering: MeteringRepository;
  uow: UnitOfWork<{ compute: ComputeRepository; audit: AuditRepository }>;
  clock: Clock;
  retentionDays: number;
}

export class MeteringService {
  constructor(private readonly deps: MeteringServiceDeps) {}

  /**
   * Stores a host's samples. Only samples for VMs that run on that host are
   * kept (a host reports for itself only); duplicates change nothing.
   */
  async ingest(host: { id: string }, request: SamplesRequest): Promise<SamplesResponse> {
    const vmIds = [...new Set(request.samples.map((s) => s.vmId))];
    const tenants = vmIds.length ? await this.deps.metering.vmsOnHost(host.id, vmIds) : new Map<string, string>();
    const rows: SampleRow[] = [];
    for (const sample of request.samples) {
      const tenantId = tenants.get(sample.vmId);
      if (tenantId) rows.push({ ...sample, tenantId, hostId: host.id });
    }
    const stored = rows.length ? await this.deps.metering.ingest(rows) : 0;
    return { stored, ignored: request.samples.length - rows.length };
  }

  /** Measure-VM over a period (default: since the last reset, until now). */
  async measureVm(scope: TenantScope, input: MeasureVmInput): Promise<VmMeasurement> {
    const vm = await this.deps.uow.repos.compute.findVm(scope, input.id);
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    const from = input.from ?? (await this.deps.uow.repos.compute.meteringSince(vm.id)) ?? new Date(0);
    const to = input.to ?? this.deps.clock.now();
    const t = await this.deps.metering.totals(vm.id, from, to);
    const per = (sum: number) => (t.seconds > 0 ? sum / t.seconds : 0);
    return {
      vmId: vm.id,
      name: vm.name,
      from,
      to,
      meteredSeconds: t.seconds,
      samples: t.samples,
      avgCpuMhz: per(t.cpuMhzSeconds),
      avgMemoryMiB: per(t.memMibSeconds),
      minMemoryMiB: t.memMinMiB ?? 0,
      maxMemoryMiB: t.memMaxMiB ?? 0,
      totalDiskGiB: t.lastDiskGiB ?? 0,
      avgDiskGiB: per(t.diskGibSeconds),
      diskReadBytes: t.diskReadBytes,
      diskWriteBytes: t.diskWriteBytes,
      network: [
        { remoteAddress: 'internet', inboundBytes: t.netInInternet, outboundBytes: t.netOutInternet },
        { remoteAddress: 'datacenter', inboundBytes: t.netInDatacenter, outboundBytes: t.netOutDatacenter },
      ],
      networkAcls: (t.acls ?? []).map((a) => ({ acl: a.acl, inboundBytes: a.inBytes, outboundBytes: a.outBytes })),
    };
  }

  /** Reset-VMResourceMetering: a new window starts now; history is kept. */
  async resetMetering(actor: Actor, scope: TenantScope, vmId: string): Promise<Date> {
    const now = this.deps.clock.now();
    await this.deps.uow.run(async ({ compute, audit }) => {
      const vm = await compute.findVmForUpdate(scope, vmId);
      if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
      await compute.resetMetering(vm.id, now);
      await audit.append({
        actor,
        action: 'vm.metering.reset',
        targetType: 'vm',
        targetId: vm.id,
        targetLabel: vm.name,
        tenantId: vm.tenantId,
        result: 'success',
      });
    });
    return now;
  }

  /** One pass of the metering housekeeping: partitions ahead, retention, pending rollups. */
  async housekeeping(): Promise<{ partitions: number; dropped: number; rolledUp: number }> {
    const now = this.deps.clock.now();
    const today = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
    const partitions = await this.deps.metering.ensurePartitions(new Date(today.getTime() - DAY_MS), 9);
    const dropped = await this.deps.metering.dropPartitionsBefore(
      new Date(today.getTime() - this.deps.retentionDays * DAY_MS),
    );
    let rolledUp = 0;
    for (;;) {
      const done = await this.deps.metering.rollupPending(200);
      rolledUp += done;
      if (done < 200) break;
    }
    return { partitions, dropped, rolledUp };
  }

  /** Usage over time for charts (see usage-series-service.ts). */
  usageSeries(scope: TenantScope, input: UsageSeriesInput): Promise<UsageSeries> {
    const { metering, uow, clock, retentionDays } = this.deps;
    return usageSeries({ metering, compute: uow.repos.compute, clock, retentionDays }, scope, input);
  }

  /** Measure-VM for a tenant's or a resource pool's VMs together (see measure-service.ts). */
  measure(scope: TenantScope, input: MeasureInput): Promise<Measurement> {
    return measure({ metering: this.deps.metering }, scope, input);
  }
}
