import type { AuditRow } from '../fabric/fabric.schema';
import type { SignInFailureCounts } from '../identity/sign-in-throttle';
import type { TenantScope } from '../shared/tenant-scope';
import type { ListAuditInput } from './audit.schema';
import type { NewAuditEvent } from './audit-event';

/** Append-only: there is deliberately no update or delete. */
export interface AuditRepository {
  append(event: NewAuditEvent): Promise<void>;
  appendMany(events: NewAuditEvent[]): Promise<void>;
  /**
   * The refusal of a caller who proved no identity (bad credential, throttled
   * or unreadable sign-in), keyed by its source (`details.source`, else the
   * actor's label): written within a per-source budget (audit/refusal-budget.ts),
   * so strangers cannot grow the log without limit. Never for an event the
   * sign-in throttle counts: those must all be written.
   */
  appendRefusal(event: NewAuditEvent): Promise<void>;
  list(scope: TenantScope, query: ListAuditInput): Promise<{ rows: AuditRow[]; total: number }>;
  /** The target's newest events; `actions` / `exceptActions` keep or leave out those actions. */
  listForTarget(
    targetType: string,
    targetId: string,
    limit: number,
    filter?: { actions?: string[]; exceptActions?: string[] },
  ): Promise<AuditRow[]>;
  /** Denied sign-ins after `since`, counted as identity/sign-in-throttle.ts says. */
  countSignInFailures(attempt: { email: string; source: string; since: Date }): Promise<SignInFailureCounts>;
}
