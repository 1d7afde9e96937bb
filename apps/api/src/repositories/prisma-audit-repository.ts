import type { ListAuditInput } from '@fabric/core/audit/audit.schema';
import type { NewAuditEvent } from '@fabric/core/audit/audit-event';
import type { AuditRepository } from '@fabric/core/audit/audit-repository';
import type { AuditRow } from '@fabric/core/fabric/fabric.schema';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
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

export const SIGN_IN_ACTION = 'auth.sign_in';

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
  constructor(private readonly db: Db) {}

  async append(event: NewAuditEvent): Promise<void> {
    await this.db.auditEvent.create({ data: toRow(event) });
  }

  async appendMany(events: NewAuditEvent[]): Promise<void> {
    if (events.length) await this.db.auditEvent.createMany({ data: events.map(toRow) });
  }

  async list(scope: TenantScope, q: ListAuditInput) {
    const where: Prisma.AuditEventWhereInput = {
      ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}),
      ...(q.action ? { action: { startsWith: q.action } } : {}),
      ...(q.result ? { result: q.result } : {}),
      ...(q.actorType ? { actorType: q.actorType } : {}),
      ...(q.targetType ? { targetType: q.targetType } : {}),
      ...(q.targetId ? { targetId: q.targetId } : {}),
      ...(q.from || q.to ? { at: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lte: q.to } : {}) } } : {}),
      ...(q.search
        ? {
            OR: [
              { actorLabel: { contains: q.search, mode: 'insensitive' } },
              { targetLabel: { contains: q.search, mode: 'insensitive' } },
              { message: { contains: q.search, mode: 'insensitive' } },
              { action: { contains: q.search, mode: 'insensitive' } },
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

  async listForTarget(targetType: string, targetId: string, limit: number) {
    const rows = await this.db.auditEvent.findMany({
      where: { targetType, targetId },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map(toAuditRow);
  }

  async countFailedSignIns(email: string, since: Date): Promise<number> {
    const lastSuccess = await this.db.auditEvent.findFirst({
      where: { action: SIGN_IN_ACTION, targetId: email, result: 'success', at: { gte: since } },
      orderBy: { at: 'desc' },
      select: { at: true },
    });
    return this.db.auditEvent.count({
      where: { action: SIGN_IN_ACTION, targetId: email, result: 'denied', at: { gte: lastSuccess?.at ?? since } },
    });
  }
}
