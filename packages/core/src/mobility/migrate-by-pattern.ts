import type { Actor, TenantScope } from '../shared/tenant-scope';
import { actEach, type FindVmsByPattern, matchPattern, previewEach, requireMatches } from '../shared/vm-pattern';
import { type PatternPreview, type PatternResult, VM_PATTERN_LIMITS } from '../shared/vm-pattern.schema';
import { type MigrateVm, MigrationBatch, type MigrationPlan } from './migrate-vm';
import { MobilityError } from './mobility.errors';
import type { MigrateByPatternInput } from './mobility.schema';

export interface MigrateByPatternDeps {
  migrate: Pick<MigrateVm, 'preview' | 'request'>;
  findVms: FindVmsByPattern;
  limit?: number;
}

function isRefusal(error: unknown): error is MobilityError {
  return error instanceof MobilityError;
}

/** "Live to hv-03: Placed on hv-03 (score …)": where a VM goes, how, and the engine's words for it. */
function describe(plan: MigrationPlan): string {
  const how = plan.live ? 'Live to' : 'Cold (off) to';
  const time = plan.predicted ? ` (about ${Math.max(1, Math.round(plan.predicted.totalSeconds))} s)` : '';
  return `${how} ${plan.toHostName}${time}: ${plan.explanation}`;
}

/**
 * Migrate by pattern (`Move-VM -Name web* -DestinationHost …`): the preview is
 * the single migration's preview for each matching VM (its destination, or
 * the reason it cannot move), nothing written; acting requests each migration
 * through the same workflow, so the per-host and per-cluster caps queue them.
 * Each VM is checked as its single migration would be, and the matching VMs
 * are decided as one batch: each destination is booked for the VMs after it,
 * so "best" spreads them as the engine scores (a single migration requested
 * earlier still holds no room on its destination until it lands).
 */
export class MigrateByPattern {
  constructor(private readonly deps: MigrateByPatternDeps) {}

  private get limit() {
    return this.deps.limit ?? VM_PATTERN_LIMITS.maxVms;
  }

  async preview(scope: TenantScope, input: MigrateByPatternInput): Promise<PatternPreview> {
    const vms = await matchPattern(this.deps.findVms, scope, input, this.limit);
    const batch = new MigrationBatch();
    const items = await previewEach(vms, isRefusal, async (vm) =>
      describe(
        await this.deps.migrate.preview(scope, { vmId: vm.id, to: input.to, toClusterId: input.toClusterId }, batch),
      ),
    );
    return { pattern: input.pattern, limit: this.limit, items };
  }

  async migrate(actor: Actor, scope: TenantScope, input: MigrateByPatternInput): Promise<PatternResult> {
    const vms = await matchPattern(this.deps.findVms, scope, input, this.limit);
    requireMatches(vms, input.pattern);
    const batch = new MigrationBatch();
    return actEach(input.pattern, vms, isRefusal, async (vm) => {
      const { taskId, plan } = await this.deps.migrate.request(
        actor,
        scope,
        { vmId: vm.id, to: input.to, toClusterId: input.toClusterId },
        batch,
      );
      return { taskId, message: `${plan.live ? 'Live migration' : 'Move'} to ${plan.toHostName} requested` };
    });
  }
}
