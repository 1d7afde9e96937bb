import type { AuditRow } from '../fabric/fabric.schema';
import type { TenantScope } from '../shared/tenant-scope';
import type { ListAuditInput } from './audit.schema';
import type { NewAuditEvent } from './audit-event';
import type { AuditRepository } from './audit-repository';

export class AuditService {
  constructor(private readonly deps: { audit: AuditRepository }) {}

  /**
   * Provider roles see every event; a tenant admin sees only its tenant's,
   * and never which host or process of the provider acted: a host agent is
   * "Host agent" and the control plane "Fabric", without an id.
   */
  async list(scope: TenantScope, query: ListAuditInput): Promise<{ rows: AuditRow[]; total: number }> {
    if (query.from && query.to && query.from > query.to) {
      return { rows: [], total: 0 };
    }
    const page = await this.deps.audit.list(scope, query);
    if (scope.kind === 'provider') return page;
    return { ...page, rows: page.rows.map(asTenantSeesIt) };
  }

  /** A refused call (wrong role, say), recorded for the audit log before the refusal is answered. */
  recordDenial(event: Omit<NewAuditEvent, 'result'>): Promise<void> {
    return this.deps.audit.append({ ...event, result: 'denied' });
  }
}

/** The provider's actors as a tenant reads them: what acted, not which host. */
const TENANT_ACTOR_LABEL: Record<string, string> = { agent: 'Host agent', system: 'Fabric' };

function asTenantSeesIt(row: AuditRow): AuditRow {
  const label = TENANT_ACTOR_LABEL[row.actorType];
  return label === undefined ? row : { ...row, actorId: null, actorLabel: label };
}
