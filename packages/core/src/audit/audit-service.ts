import type { TenantScope } from '../shared/tenant-scope';
import type { ListAuditInput } from './audit.schema';
import type { NewAuditEvent } from './audit-event';
import type { AuditRepository } from './audit-repository';

export class AuditService {
  constructor(private readonly deps: { audit: AuditRepository }) {}

  /** Provider roles see every event; a tenant admin sees only its tenant's. */
  list(scope: TenantScope, query: ListAuditInput) {
    if (query.from && query.to && query.from > query.to) {
      return { rows: [], total: 0 };
    }
    return this.deps.audit.list(scope, query);
  }

  /** A refused call (wrong role, say), recorded for the audit log before the refusal is answered. */
  recordDenial(event: Omit<NewAuditEvent, 'result'>): Promise<void> {
    return this.deps.audit.append({ ...event, result: 'denied' });
  }
}
