import type { AuditRow } from '../fabric/fabric.schema';
import type { TenantScope } from '../shared/tenant-scope';
import type { ListAuditInput } from './audit.schema';
import type { NewAuditEvent } from './audit-event';

/** Append-only: there is deliberately no update or delete. */
export interface AuditRepository {
  append(event: NewAuditEvent): Promise<void>;
  appendMany(events: NewAuditEvent[]): Promise<void>;
  list(scope: TenantScope, query: ListAuditInput): Promise<{ rows: AuditRow[]; total: number }>;
  listForTarget(targetType: string, targetId: string, limit: number): Promise<AuditRow[]>;
  /** Denied sign-ins for `email` after `since` and after its last successful one. */
  countFailedSignIns(email: string, since: Date): Promise<number>;
}
