import { JobError } from '@fabric/core/jobs/job.errors';
import type { ListTasksQuery } from '@fabric/core/jobs/job.schema';
import { type JobStep, jobStepSchema, type TaskList, type TaskRecord } from '@fabric/core/jobs/job.schema';
import type { JobPatch, JobRepository, NewJob } from '@fabric/core/jobs/job-repository';
import { MIGRATE_VM_JOB_KIND, MOVE_VM_STORAGE_JOB_KIND } from '@fabric/core/mobility/migrate-vm';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import { likePattern } from '@fabric/core/shared/text.schema';
import { z } from 'zod';
import type { Db } from './prisma';
import { uniqueOr } from './prisma-errors';

/** Job kinds that move a VM: one of them at a time per VM (index jobs_one_move_per_vm). */
const MOVE_KINDS = new Set([MIGRATE_VM_JOB_KIND, MOVE_VM_STORAGE_JOB_KIND]);

/** pg_notify channel: a job's id when it changed (the Tasks panel's live updates, from any API process). */
export const JOBS_CHANNEL = 'fabric_jobs';

interface TaskRow {
  id: string;
  source: 'workflow' | 'agent';
  kind: string;
  target_type: string;
  target_id: string;
  target_label: string;
  tenant_id: string | null;
  tenant_name: string | null;
  host_name: string | null;
  requested_by: string;
  state: TaskRecord['state'];
  progress: number;
  message: string;
  steps: unknown;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const stepsSchema = z.array(jobStepSchema);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which host runs a VM is the provider's business: tenants get no host name (as in vms.get). */
function toRecord(row: TaskRow, now: Date, scope: TenantScope): TaskRecord {
  const from = row.started_at ?? row.created_at;
  const to = row.finished_at ?? (row.state === 'queued' || row.state === 'running' ? now : null);
  return {
    id: row.id,
    source: row.source,
    kind: row.kind,
    targetType: row.target_type,
    targetId: row.target_id,
    targetLabel: row.target_label,
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    hostName: scope.kind === 'provider' ? row.host_name : null,
    requestedBy: row.requested_by,
    state: row.state,
    progress: Math.max(0, Math.min(100, row.progress)),
    message: row.message,
    steps: stepsSchema.parse(row.steps),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationSeconds: to ? Math.max(0, Math.round((to.getTime() - from.getTime()) / 100) / 10) : null,
  };
}

/**
 * The two sources of the Tasks panel, as one relation: durable jobs and the
 * agents' VM tasks. `$1` is the tenant (null: every tenant), the other
 * filters follow; each branch filters and orders on its own indexes.
 * `hideKinds` leaves kinds out (scheduled background work, task-kinds.schema.ts).
 */
function branches(
  query: ListTasksQuery,
  params: unknown[],
  states: string[] | null,
  hideKinds: readonly string[] = [],
): string {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const tenant = p(null);
  const jobs: string[] = [`(${tenant}::uuid IS NULL OR j.tenant_id = ${tenant}::uuid)`];
  const agents: string[] = [`(${tenant}::uuid IS NULL OR k.tenant_id = ${tenant}::uuid)`];
  if (states) {
    const s = p(states);
    jobs.push(`j.state::text = ANY(${s}::text[])`);
    agents.push(`k.state::text = ANY(${s}::text[])`);
  }
  if (hideKinds.length) {
    const hidden = p([...hideKinds]);
    jobs.push(`j.kind <> ALL(${hidden}::text[])`);
    agents.push(`k.kind <> ALL(${hidden}::text[])`);
  }
  if (query.kind) {
    const exact = p(query.kind);
    const kindCondition = query.kind.endsWith('.') ? `starts_with(%s, ${exact})` : `%s = ${exact}`;
    jobs.push(kindCondition.replace('%s', 'j.kind'));
    agents.push(kindCondition.replace('%s', 'k.kind'));
  }
  if (query.targetId) {
    // A parameter only for a branch that is queried: one the source filter leaves out would be
    // unreferenced, and Postgres refuses a parameter whose type it cannot determine (42P18).
    if (query.source !== 'agent') jobs.push(`j.target_id = ${p(query.targetId)}`);
    // A VM id in any case, compared as a uuid (the index on vm_id); anything else names no VM.
    if (query.source !== 'workflow') {
      agents.push(UUID.test(query.targetId) ? `k.vm_id = ${p(query.targetId.toLowerCase())}::uuid` : 'FALSE');
    }
  }
  if (query.search) {
    const like = p(likePattern(query.search));
    // What the table shows: target, who, tenant, and for the provider the host.
    const tenantNamed = (column: string) =>
      `EXISTS (SELECT 1 FROM tenants tn WHERE tn.id = ${column} AND tn.name ILIKE ${like})`;
    jobs.push(
      `(j.target_label ILIKE ${like} OR j.target_id ILIKE ${like} OR j.requested_by ILIKE ${like} OR ${tenantNamed('j.tenant_id')})`,
    );
    agents.push(
      `(v.name ILIKE ${like} OR k.vm_id::text ILIKE ${like} OR k.requested_by ILIKE ${like} OR ${tenantNamed('k.tenant_id')}
        OR (${tenant}::uuid IS NULL AND EXISTS (SELECT 1 FROM hosts hs WHERE hs.id = k.host_id AND hs.name ILIKE ${like})))`,
    );
  }
  const parts: string[] = [];
  if (query.source !== 'agent') {
    parts.push(`SELECT j.id, 'workflow' AS source, j.kind, j.target_type, j.target_id, j.target_label, j.tenant_id,
        NULL::uuid AS host_id, j.requested_by, j.state::text AS state, j.progress, j.message, j.steps,
        j.error_code, j.error_message, j.created_at, j.started_at, j.finished_at
      FROM jobs j WHERE ${jobs.join(' AND ')}`);
  }
  if (query.source !== 'workflow') {
    parts.push(`SELECT k.id, 'agent' AS source, k.kind, 'vm' AS target_type, coalesce(k.vm_id::text, '') AS target_id,
        coalesce(v.name, k.vm_id::text, '') AS target_label, k.tenant_id, k.host_id, k.requested_by,
        k.state::text AS state, k.progress, k.message, '[]'::jsonb AS steps, k.error_code,
        NULL::text AS error_message, k.created_at, k.started_at, k.finished_at
      FROM tasks k LEFT JOIN vms v ON v.id = k.vm_id WHERE ${agents.join(' AND ')}`);
  }
  return parts.join(' UNION ALL ');
}

const STATES_OF: Record<NonNullable<ListTasksQuery['state']>, string[]> = {
  active: ['queued', 'running'],
  queued: ['queued'],
  running: ['running'],
  succeeded: ['succeeded'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

export class PrismaJobRepository implements JobRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(job: NewJob, at: Date): Promise<void> {
    const steps: JobStep[] = job.steps.map((s) => ({
      key: s.key,
      label: s.label,
      state: 'pending',
      startedAt: null,
      finishedAt: null,
      detail: '',
    }));
    // jobs_one_active_per_target: one queued or running job per kind and target;
    // jobs_one_move_per_vm: one migration or storage move per VM.
    await uniqueOr(
      this.db.job.create({
        data: {
          id: job.id,
          kind: job.kind,
          targetType: job.targetType,
          targetId: job.targetId,
          targetLabel: job.targetLabel,
          tenantId: job.tenantId,
          requestedBy: job.requestedBy,
          requestedById: job.requestedById,
          message: job.message,
          steps,
          createdAt: at,
          updatedAt: at,
        },
      }),
      () =>
        new JobError(
          'TASK_ALREADY_ACTIVE',
          MOVE_KINDS.has(job.kind)
            ? `${job.targetLabel} is already migrating or moving its storage: one move at a time`
            : `A ${job.kind} task for ${job.targetLabel} is already running`,
        ),
    );
    await this.notify(job.id);
  }

  async update(id: string, patch: JobPatch, at: Date): Promise<void> {
    const step = patch.step
      ? {
          state: patch.step.state,
          startedAt: patch.step.startedAt?.toISOString(),
          finishedAt: patch.step.finishedAt?.toISOString(),
          detail: patch.step.detail,
        }
      : null;
    // One statement: the columns set, and the named step merged in place (its order kept).
    await this.db.$executeRaw`
      UPDATE jobs SET
        state = coalesce(${patch.state ?? null}::"JobState", state),
        progress = coalesce(${patch.progress ?? null}::int, progress),
        message = coalesce(${patch.message ?? null}::text, message),
        started_at = coalesce(started_at, ${patch.startedAt ?? null}::timestamptz),
        finished_at = coalesce(${patch.finishedAt ?? null}::timestamptz, finished_at),
        error_code = CASE WHEN ${patch.errorCode !== undefined} THEN ${patch.errorCode ?? null}::text ELSE error_code END,
        error_message = CASE WHEN ${patch.errorMessage !== undefined} THEN ${patch.errorMessage ?? null}::text
                        ELSE error_message END,
        result = coalesce(${patch.result ? JSON.stringify(patch.result) : null}::jsonb, result),
        steps = CASE WHEN ${patch.step?.key ?? null}::text IS NULL THEN steps ELSE (
          SELECT coalesce(jsonb_agg(CASE WHEN s->>'key' = ${patch.step?.key ?? null}::text
                   THEN s || jsonb_strip_nulls(${JSON.stringify(step ?? {})}::jsonb) ELSE s END ORDER BY n), '[]'::jsonb)
          FROM jsonb_array_elements(steps) WITH ORDINALITY AS e(s, n)) END,
        updated_at = ${at}
      WHERE id = ${id}::uuid`;
    await this.notify(id);
  }

  async activeTasks(kind: string) {
    return this.db.job.findMany({
      where: { kind, state: { in: ['queued', 'running'] } },
      select: { id: true, targetId: true },
    });
  }

  async find(scope: TenantScope, id: string): Promise<TaskRecord | null> {
    const params: unknown[] = [];
    const union = branches({ page: 1, pageSize: 1, targetId: undefined, background: true }, params, null);
    params[0] = scope.kind === 'tenant' ? scope.tenantId : null;
    params.push(id);
    const rows = await this.db.$queryRawUnsafe<TaskRow[]>(
      `SELECT t.*, tn.name AS tenant_name, h.name AS host_name FROM (${union}) t
       LEFT JOIN tenants tn ON tn.id = t.tenant_id LEFT JOIN hosts h ON h.id = t.host_id
       WHERE t.id = $${params.length}::uuid`,
      ...params,
    );
    const row = rows[0];
    return row ? toRecord(row, this.now(), scope) : null;
  }

  async list(scope: TenantScope, query: ListTasksQuery, hideKinds: readonly string[] = []): Promise<TaskList> {
    const tenant = scope.kind === 'tenant' ? scope.tenantId : null;
    const params: unknown[] = [];
    const union = branches(query, params, query.state ? (STATES_OF[query.state] ?? null) : null, hideKinds);
    params[0] = tenant;
    const offset = (query.page - 1) * query.pageSize;
    params.push(query.pageSize, offset);
    const rows = await this.db.$queryRawUnsafe<TaskRow[]>(
      `SELECT t.*, tn.name AS tenant_name, h.name AS host_name FROM (${union}) t
       LEFT JOIN tenants tn ON tn.id = t.tenant_id LEFT JOIN hosts h ON h.id = t.host_id
       ORDER BY t.created_at DESC, t.id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      ...params,
    );
    const countParams: unknown[] = [];
    const countUnion = branches(query, countParams, query.state ? (STATES_OF[query.state] ?? null) : null, hideKinds);
    countParams[0] = tenant;
    const activeParams: unknown[] = [];
    const activeUnion = branches(query, activeParams, STATES_OF.active, hideKinds);
    activeParams[0] = tenant;
    const [total, active] = await Promise.all([
      this.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM (${countUnion}) t`, ...countParams),
      this.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM (${activeUnion}) t`, ...activeParams),
    ]);
    const now = this.now();
    return { rows: rows.map((r) => toRecord(r, now, scope)), total: total[0]?.n ?? 0, active: active[0]?.n ?? 0 };
  }

  /** Payload `<job id>:<tenant id or empty>`, so a tenant's panel wakes only for its own. */
  private async notify(id: string) {
    await this.db.$executeRaw`
      SELECT pg_notify(${JOBS_CHANNEL}, id::text || ':' || coalesce(tenant_id::text, '')) FROM jobs WHERE id = ${id}::uuid`;
  }
}
