import type { TenantScope } from '../shared/tenant-scope';

/** A placement decision as kept: placed or refused, with the request and the per-host trace that explain it. */
export interface StoredDecision {
  tenantId: string;
  vmId: string | null;
  vmName: string;
  clusterId: string;
  hostId: string | null;
  hostName: string | null;
  policy: 'balance' | 'pack';
  seed: number;
  summary: string;
  request: unknown;
  trace: unknown;
}

export interface PlacementDecisionRepository {
  saveDecision(decision: StoredDecision): Promise<string>;
  saveDecisions(decisions: StoredDecision[]): Promise<void>;
  findDecision(scope: TenantScope, id: string): Promise<(StoredDecision & { id: string; createdAt: Date }) | null>;
}
