import { randomUUID } from 'node:crypto';
import type { PlacementDecisionRepository, StoredDecision } from '../placement/placement-decision-repository';
import type { TenantScope } from '../shared/tenant-scope';
import type { Snapshottable } from './in-memory-unit-of-work';

type Row = StoredDecision & { id: string; createdAt: Date };

export class InMemoryPlacementDecisionRepository implements PlacementDecisionRepository, Snapshottable {
  decisions: Row[] = [];

  async saveDecision(decision: StoredDecision) {
    const id = randomUUID();
    this.decisions.push({ ...decision, id, createdAt: new Date(0) });
    return id;
  }

  async saveDecisions(decisions: StoredDecision[]) {
    for (const decision of decisions) await this.saveDecision(decision);
  }

  async findDecision(scope: TenantScope, id: string) {
    const row = this.decisions.find((d) => d.id === id);
    if (!row || (scope.kind === 'tenant' && row.tenantId !== scope.tenantId)) return null;
    return row;
  }

  snapshot() {
    const decisions = [...this.decisions];
    return () => {
      this.decisions = decisions;
    };
  }
}
