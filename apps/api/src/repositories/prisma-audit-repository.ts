import type { ListAuditInput } from '@fabric/core/audit/audit.schema';
import type { NewAuditEvent } from '@fabric/core/audit/audit-event';
import type { AuditRepository } from '@fabric/core/audit/audit-repository';
import { RefusalBudget } from '@fabric/core/audit/refusal-budget';
import type { AuditRow } from '@fabric/core/fabric/fabric.schema';
import type { SignInFailureCounts } from '@fabric/core/identity/sign-in-throttle';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import { escapeLike } from '@fabric/core/shared/text.schema';
import type { Prisma } from '@fabric/db/generated/prisma/client';
import type { Db } from './prisma';

type Row = Prisma.AuditEventGetPayload<object>;

export function toAuditRow(row: Row): AuditRow {
  return {
    id: row.id.toString(),
    at: row.at,
    actorType: row.actorType,
    actorId: row.actorId,
    actorLabel: row.actorLabel,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    targetLabel: row.targetLabel,
    tenantId: row.tenantId,
    result: row.result,
    message: row.message,
  };
}

/** A sign-in better-auth judged (success or wrong e-mail / password): what the throttle counts. */
export const SIGN_IN_ACTION = 'auth.sign_in';
/** A sign-in refused before better-auth saw it (throttled, unreadable): not a guess, so not counted. */
export const SIGN_IN_REFUSED_ACTION = 'auth.sign_in_refused';
/**
 * A password change better-auth judged: success, or a wrong current password. A wrong current
 * password is a guess at the account's password like a wrong sign-in: the throttle counts both.
 */
export const CHANGE_PASSWORD_ACTION = 'auth.change_password';
/** A password change refused for another reason (throttled, a new password too short): not a guess. */
export const CHANGE_PASSWORD_REFUSED_ACTION = 'auth.change_password_refused';
/** The actions whose denied events are password guesses (identity/sign-in-throttle.ts). */
const PASSWORD_ACTIONS = [SIGN_IN_ACTION, CHANGE_PASSWORD_ACTION];

function toRow(event: NewAuditEvent) {
  return {
    actorType: event.actor.type,
    actorId: event.actor.id,
    actorLabel: event.actor.label,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId ?? null,
    targetLabel: event.targetLabel ?? null,
    tenantId: event.tenantId ?? null,
    result: event.result,
    message: event.message ?? '',
    details: (event.details ?? undefined) as Prisma.InputJsonValue | undefined,
  };
}

export class PrismaAuditRepository implements AuditRepository {
  /** `refusals` is one budget per process, shared by every transaction's repository. */
  constructor(
    private readonly db: Db,
    private readonly refusals: RefusalBudget = new RefusalBudget(),
  ) {}

  async append(event: NewAuditEvent): Promise<void> {
    await this.db.auditEvent.create({ data: toRow(event) });
  }

  async appendRefusal(event: NewAuditEvent): Promise<void> {
    const source = typeof event.details?.source === 'string' ? event.details.source : event.actor.label;
    const verdict = this.refusals.admit(source);
    if (!verdict.write) return;
    const details = verdict.unlogged > 0 ? { ...event.details, unlogged: verdict.unlogged } : event.details;
    await this.append({ ...event, ...(details ? { details } : {}) });
  }

  async appendMany(events: NewAuditEvent[]): Promise<void> {
    if (events.length) await this.db.auditEvent.createMany({ data: events.map(toRow) });
  }

  async list(scope: TenantScope, q: ListAuditInput) {
    const where: Prisma.AuditEventWhereInput = {
      ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}),
      // Literal prefixes and searches: Prisma's startsWith / contains leave LIKE's % and _ live.
      ...(q.action ? { action: { startsWith: escapeLike(q.action) } } : {}),
      ...(q.result ? { result: q.result } : {}),
      ...(q.actorType ? { actorType: q.actorType } : {}),
      ...(q.targetType ? { targetType: q.targetType } : {}),
      ...(q.targetId ? { targetId: q.targetId } : {}),
      ...(q.from || q.to ? { at: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lte: q.to } : {}) } } : {}),
      ...(q.search
        ? {
            OR: [
              { actorLabel: { contains: escapeLike(q.search), mode: 'insensitive' } },
              { targetLabel: { contains: escapeLike(q.search), mode: 'insensitive' } },
              { message: { contains: escapeLike(q.search), mode: 'insensitive' } },
              { action: { contains: escapeLike(q.search), mode: 'insensitive' } },
            ],
          }
        : {}),
    };
    const [rows, total] = await Promise.all([
      this.db.auditEvent.findMany({
        where,
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
      this.db.auditEvent.count({ where }),
    ]);
    return { rows: rows.map(toAuditRow), total };
  }

  async listForTarget(
    targetType: string,
    targetId: string,
    limit: number,
    filter: { actions?: string[]; exceptActions?: string[] } = {},
  ) {
    const action = filter.actions
      ? { in: filter.actions }
      : filter.exceptActions
        ? { notIn: filter.exceptActions }
        : {};
    const rows = await this.db.auditEvent.findMany({
      where: { targetType, targetId, action },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map(toAuditRow);
  }

  /**
   * Sign-ins better-auth refused, by account and by source key
   * (`details.sourceKey`, indexed for sign-ins: migration sign_in_source_index).
   * Account counts start after the account's last success in the window.
   */
  async countSignInFailures(attempt: { email: string; source: string; since: Date }): Promise<SignInFailureCounts> {
    const { email, source, since } = attempt;
    const [row] = await this.db.$queryRaw<{ account_from_source: bigint; account: bigint; source: bigint }[]>`
      WITH last_success AS (
        SELECT max(at) FILTER (WHERE details->>'sourceKey' = ${source}) AS from_source, max(at) AS anywhere
        FROM audit_events
        WHERE action = ANY(${PASSWORD_ACTIONS}) AND target_id = ${email} AND result = 'success' AND at >= ${since}
      )
      SELECT
        (SELECT count(*) FROM audit_events
          WHERE action = ANY(${PASSWORD_ACTIONS}) AND target_id = ${email} AND result = 'denied'
            AND details->>'sourceKey' = ${source}
            AND at >= greatest(${since}::timestamptz, (SELECT from_source FROM last_success))) AS account_from_source,
        (SELECT count(*) FROM audit_events
          WHERE action = ANY(${PASSWORD_ACTIONS}) AND target_id = ${email} AND result = 'denied'
            AND at >= greatest(${since}::timestamptz, (SELECT anywhere FROM last_success))) AS account,
        (SELECT count(*) FROM audit_events
          WHERE action = ANY(${PASSWORD_ACTIONS}) AND details->>'sourceKey' = ${source} AND result = 'denied'
            AND at >= ${since}) AS source`;
    return {
      accountFromSource: Number(row?.account_from_source ?? 0),
      account: Number(row?.account ?? 0),
      source: Number(row?.source ?? 0),
    };
  }
}
