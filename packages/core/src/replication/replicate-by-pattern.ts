import { ComputeError } from '../compute/compute.errors';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import {
  actEach,
  type FindVmsByPattern,
  matchPattern,
  type PatternVm,
  previewEach,
  requireMatches,
} from '../shared/vm-pattern';
import { type PatternPreview, type PatternResult, VM_PATTERN_LIMITS } from '../shared/vm-pattern.schema';
import { ReplicationError } from './replication.errors';
import type { EnableByPatternInput, FailoverByPatternInput, FailoverKind } from './replication.schema';
import type { ReplicationService } from './replication-service';

export interface ReplicateByPatternDeps {
  replication: Pick<
    ReplicationService,
    'planEnable' | 'enable' | 'checkFailover' | 'testFailover' | 'plannedFailover' | 'failover'
  >;
  findVms: FindVmsByPattern;
  /** A host's name for the preview's words (tenants read it as "a host": trpc/hide-hosts). */
  hostName: (hostId: string) => Promise<string | null>;
  limit?: number;
}

/** What the single operations refuse with: a reason for that VM, not a failure of the whole call. */
function isRefusal(error: unknown): error is ReplicationError | ComputeError {
  return error instanceof ReplicationError || error instanceof ComputeError;
}

const FAILOVER_WORDS: Record<FailoverKind, string> = {
  test: 'test failover',
  planned: 'planned failover',
  unplanned: 'failover',
};

/**
 * Hyper-V Replica by pattern (`Enable-VMReplication -VMName web*`,
 * `Start-VMFailover -VMName web*`): the preview runs, for each matching VM,
 * exactly the checks of the single procedure and writes nothing; acting runs
 * the single procedure for each, so each VM gets its own durable task and its
 * own refusal, and a refused VM is left as it was.
 */
export class ReplicateByPattern {
  constructor(private readonly deps: ReplicateByPatternDeps) {}

  private match(scope: TenantScope, input: { pattern: string; tenantId?: string | undefined }) {
    return matchPattern(this.deps.findVms, scope, input, this.deps.limit);
  }

  private settings(input: EnableByPatternInput, vm: PatternVm) {
    const { pattern: _pattern, tenantId: _tenantId, ...settings } = input;
    return { ...settings, vmId: vm.id };
  }

  async previewEnable(scope: TenantScope, input: EnableByPatternInput): Promise<PatternPreview> {
    const vms = await this.match(scope, input);
    const items = await previewEach(vms, isRefusal, async (vm) => {
      const plan = await this.deps.replication.planEnable(scope, this.settings(input, vm));
      // Which host is the provider's business: a tenant is told no name (not even for the 10 s in which
      // trpc/hide-hosts may not know a newly registered host yet).
      const host = scope.kind === 'provider' ? await this.deps.hostName(plan.replicaHostId) : null;
      return host ? `Replicates to ${host}` : 'Replicates to a host the provider authorized';
    });
    return { pattern: input.pattern, limit: this.limit, items };
  }

  async enable(scope: TenantScope, actor: Actor, input: EnableByPatternInput): Promise<PatternResult> {
    const vms = await this.match(scope, input);
    requireMatches(vms, input.pattern);
    return actEach(input.pattern, vms, isRefusal, async (vm) => {
      const { taskId } = await this.deps.replication.enable(scope, actor, this.settings(input, vm));
      return { taskId, message: 'Replication enabled; initial replication started' };
    });
  }

  async previewFailover(scope: TenantScope, input: FailoverByPatternInput): Promise<PatternPreview> {
    const vms = await this.match(scope, input);
    const items = await previewEach(vms, isRefusal, async (vm) => {
      const { point } = await this.deps.replication.checkFailover(scope, input.kind, vm.id, input.point);
      if (!point) return 'The primary shuts down first: no data is lost';
      const consistency = point.kind === 'app-consistent' ? 'application-consistent' : 'standard';
      if (input.point.choice === 'latest-app-consistent')
        return `From its latest application-consistent recovery point, ${utcMinute(point.takenAt)}`;
      const which =
        input.point.choice === 'latest'
          ? 'its latest recovery point'
          : `its newest recovery point at or before ${utcMinute(new Date(input.point.at))}`;
      return `From ${which}, ${utcMinute(point.takenAt)} (${consistency})`;
    });
    return { pattern: input.pattern, limit: this.limit, items };
  }

  async failover(scope: TenantScope, actor: Actor, input: FailoverByPatternInput): Promise<PatternResult> {
    const vms = await this.match(scope, input);
    requireMatches(vms, input.pattern);
    const { replication } = this.deps;
    return actEach(input.pattern, vms, isRefusal, async (vm) => {
      const started =
        input.kind === 'test'
          ? await replication.testFailover(scope, actor, vm.id, input.point)
          : input.kind === 'planned'
            ? await replication.plannedFailover(scope, actor, vm.id)
            : await replication.failover(scope, actor, vm.id, input.point);
      return { taskId: started.taskId, message: `${capitalize(FAILOVER_WORDS[input.kind])} started` };
    });
  }

  private get limit() {
    return this.deps.limit ?? VM_PATTERN_LIMITS.maxVms;
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "2026-12-04 17:30 UTC": a point's time people read. */
function utcMinute(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
