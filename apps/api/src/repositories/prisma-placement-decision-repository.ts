import type { PlacementDecisionRepository, StoredDecision } from '@fabric/core/placement/placement-decision-repository';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

function decisionRow(d: StoredDecision) {
  return {
    tenantId: d.tenantId,
    vmId: d.vmId,
    vmName: d.vmName,
    clusterId: d.clusterId,
    hostId: d.hostId,
    hostName: d.hostName,
    policy: d.policy,
    seed: d.seed,
    summary: d.summary,
    request: d.request as Prisma.InputJsonValue,
    trace: d.trace as Prisma.InputJsonValue,
  };
}

export class PrismaPlacementDecisionRepository implements PlacementDecisionRepository {
  constructor(private readonly db: Db) {}

  async saveDecision(d: StoredDecision) {
    const created = await this.db.placementDecision.create({ data: decisionRow(d), select: { id: true } });
    return created.id;
  }

  async saveDecisions(decisions: StoredDecision[]) {
    await this.db.placementDecision.createMany({ data: decisions.map(decisionRow) });
  }

  findDecision(scope: TenantScope, id: string) {
    // The row is the stored decision as it was written (decisionRow), plus id and time.
    return this.db.placementDecision.findFirst({
      where: { id, ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}) },
    });
  }
}
