import { z } from 'zod';
import { oneOf, SEARCH_MAX_LENGTH, searchText } from '../shared/text.schema';

/**
 * A task in the Tasks panel: a long operation run by a durable workflow
 * (source 'workflow', e.g. a month close) or a VM life-cycle task carried out
 * by a host's agent (source 'agent'). One shape for both, so the panel lists,
 * filters and pages them together.
 */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const STEP_STATES = ['pending', 'running', 'done', 'failed'] as const;

export const jobStepSchema = z.object({
  key: z.string(),
  label: z.string(),
  state: z.enum(STEP_STATES),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  detail: z.string(),
});
export type JobStep = z.infer<typeof jobStepSchema>;

export const taskRecordSchema = z.object({
  id: z.string().uuid(),
  source: z.enum(['workflow', 'agent']),
  kind: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  targetLabel: z.string(),
  tenantId: z.string().uuid().nullable(),
  tenantName: z.string().nullable(),
  /** The host that carried out an agent's task; null for tenants (which host runs a VM is the provider's business). */
  hostName: z.string().nullable(),
  requestedBy: z.string(),
  state: z.enum(JOB_STATES),
  /** 0–100. */
  progress: z.number().int().min(0).max(100),
  message: z.string(),
  steps: z.array(jobStepSchema),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Seconds from start (or creation) to the end, or to now while running. */
  durationSeconds: z.number().nullable(),
});
export type TaskRecord = z.infer<typeof taskRecordSchema>;

export const listTasksInput = z.object({
  /** Running means queued or running. */
  state: oneOf('Task state', ['active', 'running', 'succeeded', 'failed', 'cancelled', 'queued']).optional(),
  source: oneOf('Task source', ['workflow', 'agent']).optional(),
  /** A kind such as 'billing.close-month' or 'vm.start', or a prefix ending in '.' ('vm.'). */
  kind: z
    .string()
    .max(64)
    .regex(/^[a-z0-9.-]*$/, 'A task kind has lowercase letters, digits, dots and dashes')
    .optional(),
  /** Matches the target's name or id, who started it, the tenant's name and, for provider roles, the host's (case-insensitive, literally). */
  search: searchText('Search', SEARCH_MAX_LENGTH),
  targetId: searchText('Target id', 100),
  /**
   * Include scheduled background work (replication cycles and their retention,
   * task-kinds.schema.ts): left out unless asked for, or unless `kind` names one.
   */
  background: z.boolean().default(false),
  page: z.number().int().min(1).max(10_000).default(1),
  pageSize: z.number().int().min(1).max(100).default(25),
});
export type ListTasksInput = z.input<typeof listTasksInput>;
export type ListTasksQuery = z.output<typeof listTasksInput>;

export const listTasksOutput = z.object({
  rows: z.array(taskRecordSchema),
  total: z.number().int(),
  /** Counted over the same filters but every state: the panel's badges. */
  active: z.number().int(),
});
export type TaskList = z.infer<typeof listTasksOutput>;

export const getTaskInput = z.object({ id: z.string().uuid('A task id is a UUID') });
