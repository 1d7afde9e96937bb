import type { AuditRepository } from '../audit/audit-repository';
import { ComputeError } from '../compute/compute.errors';
import type { ComputeRepository } from '../compute/compute-repository';
import { FabricError } from '../fabric/fabric.errors';
import type { AgentCredential } from '../fabric/fabric-service';
import type { Clock } from '../shared/clock';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { MeasureInput, Measurement } from './measure.schema';
import { measure } from './measure-service';
import { SamplesRefusedError, unknownAclError } from './metering.errors';
import type { MeasureVmInput, VmMeasurement } from './metering.schema';
import type { MeteringRepository } from './metering-repository';
import { judgeSamples } from './sample-plausibility';
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
   * Stores a host's batch of samples (the samples endpoint): in one write
   * that also checks the credential is still current and accepts `seq`, so
   * a removed host or replaced credential stores nothing, and a replayed or
   * refused batch leaves no trace. Only samples for VMs that run on that host
   * are kept (a host reports for itself only); duplicates change nothing.
   * A batch holding a sample that cannot be true (sample-plausibility.ts) is
   * refused whole before the write, with a verdict per refused sample.
   */
  async ingest(agent: AgentCredential, request: SamplesRequest): Promise<SamplesResponse> {
    if (request.samples.length > 0) {
      const facts = await this.deps.metering.sampleFacts(agent.host.id, request.samples);
      const refused = judgeSamples(request.samples, facts, this.deps.clock.now());
      if (refused.length > 0) throw new SamplesRefusedError(refused);
    }
    const outcome = await this.deps.metering.ingestBatch({
      hostId: agent.host.id,
      credentialHash: agent.secretHash,
      seq: request.seq,
      samples: request.samples,
    });
    switch (outcome.kind) {
      case 'stored':
        return { stored: outcome.stored, ignored: request.samples.length - outcome.onHost };
      case 'replayed':
        throw new FabricError(
          'REPLAYED',
          'Message sequence number is not above the last accepted one (replayed or reordered)',
        );
      case 'unknown-acls':
        throw unknownAclError(outcome.names);
      case 'credential-invalid':
        // Removed or re-registered after the credential was last verified (see authenticateAgentForWrite).
        await this.deps.uow.repos.audit.append({
          actor: { type: 'agent', id: null, label: agent.source },
          action: 'agent.authenticate',
          targetType: 'host',
          targetId: agent.host.id,
          result: 'denied',
          message: 'Invalid or revoked host credential',
        });
        throw new FabricError('CREDENTIAL_INVALID', 'Invalid or revoked host credential');
    }
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
