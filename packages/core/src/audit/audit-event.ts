import type { Actor } from '../shared/tenant-scope';

export type AuditResult = 'success' | 'denied' | 'failure';

/** One audit record: who did what to which object, when (UTC, set by the store) and how it ended. */
export interface NewAuditEvent {
  actor: Actor;
  action: string;
  targetType: string;
  targetId?: string | null;
  targetLabel?: string | null;
  tenantId?: string | null;
  result: AuditResult;
  message?: string;
  details?: Record<string, unknown>;
}
