import { z } from 'zod';
import { oneOf, text } from '../shared/text.schema';

/**
 * Work for hosts, agent protocol v1 (docs/agent-protocol.md, "Tasks"). The
 * API queues durable tasks per host; the agent long-polls for them, runs each
 * once, reports progress and the result. A task id is the idempotency key:
 * an agent that is handed a task it already finished reports the stored
 * result again instead of running it twice.
 */
export const TASK_KINDS = [
  'vm.create',
  'vm.start',
  'vm.stop', // graceful shutdown
  'vm.turn-off', // power off
  'vm.restart',
  'vm.pause',
  'vm.resume',
  'vm.save',
  'vm.delete',
  // Hyper-V Replica, agent side (packages/core/src/tasks/replica-task.schema.ts holds their params and results).
  'replica.accept',
  'replica.cycle',
  'replica.retain',
  'replica.test-failover',
  'replica.stop-test',
  'replica.failover',
  'replica.commit',
  'replica.revert',
  'replica.remove',
  // Live migration across two hosts (migration-task-protocol.schema.ts holds their params and results).
  'migration.prepare',
  'migration.precopy',
  'migration.final',
  'migration.activate',
  'migration.cleanup',
  'migration.abort',
  // Shared-nothing: the disks follow the VM from host to host (migration-task-protocol.schema.ts).
  'migration.disks-receive',
  'migration.disks-copy',
  'migration.disks-handover',
  'migration.disks-abort',
  // Live storage migration on one host (storage-move-task-protocol.schema.ts holds their params and results).
  'storage.copy',
  'storage.sync',
  'storage.switch',
  'storage.cleanup',
  'storage.abort',
] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** The VM as the host needs it to create it. Sizes in MiB and bytes. */
export const vmSpecSchema = z.object({
  vmId: z.string().uuid(),
  name: z.string(),
  vcpus: z.number().int().min(1).max(64),
  memory: z.object({
    dynamic: z.boolean(),
    startupMiB: z.number().int().min(32),
    minimumMiB: z.number().int().min(32),
    maximumMiB: z.number().int().min(32),
    bufferPercent: z.number().int().min(5).max(2000),
    weight: z.number().int().min(0).max(10000),
  }),
  disks: z.array(
    z.object({
      name: z.string(),
      pool: z.string(),
      sizeBytes: z.number().int().min(1),
      logicalSectorBytes: z.union([z.literal(512), z.literal(4096)], {
        error: 'A logical sector is 512 or 4096 bytes',
      }),
      kind: z.enum(['fixed', 'dynamic', 'differencing']),
      parent: z.string().nullable(),
    }),
  ),
  nics: z.array(
    z.object({
      name: z.string(),
      macAddress: z.string(),
      network: z.string(),
      minimumBandwidthMbps: z.number().int().nullable(),
      minimumBandwidthWeight: z.number().int().nullable(),
      maximumBandwidthMbps: z.number().int().nullable(),
    }),
  ),
});
export type VmSpec = z.infer<typeof vmSpecSchema>;

/** Longest task params or result, as JSON text: both travel inside 256 KiB agent protocol bodies. */
export const MAX_TASK_JSON_BYTES = 64 * 1024;

/**
 * A JSON object (params of a task, result of a succeeded report). Its shape is
 * the kind's business: each kind validates it with its own zod schema in its
 * own file (e.g. replica-task.schema.ts). Here only: an object, at most 64 KiB.
 */
export const taskJsonObjectSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= MAX_TASK_JSON_BYTES, {
    message: `must be at most ${MAX_TASK_JSON_BYTES} bytes of JSON`,
  });
export type TaskJsonObject = Record<string, unknown>;

export const agentTaskSchema = z.object({
  taskId: z.string().uuid(),
  kind: z.enum(TASK_KINDS),
  vmId: z.string().uuid(),
  /** Present for vm.create; other kinds act on a VM the host already has. */
  spec: vmSpecSchema.nullable(),
  /** Attempt number, from 1: a task re-handed after an agent restart has attempt > 1. */
  attempt: z.number().int().min(1),
  /**
   * The VM's ownership epoch when the task was queued (compute/ownership.ts). The agent records the
   * highest it saw per VM and refuses a task under an older one (STALE_EPOCH). Null from older APIs.
   */
  epoch: z.number().int().min(1).max(2_147_483_647).nullable().optional(),
  /** The kind's parameters (validated by the kind's handler with its own schema); null for vm.* kinds. */
  params: taskJsonObjectSchema.nullish(),
});
export type AgentTask = z.infer<typeof agentTaskSchema>;

/** `POST /agent/v1/hosts/{hostId}/tasks/next` body; answers when work is queued or after `waitMs`. */
/** At most this many held task ids in a poll; an agent holding more sends none. */
export const MAX_HOLDING_REPORTED = 256;

export const nextTasksRequestSchema = z.object({
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  waitMs: z.number().int().min(0).max(30_000).default(20_000),
  max: z.number().int().min(1).max(32).default(8),
  /**
   * The tasks this agent holds (running, queued behind their VM, or with a result still being delivered).
   * A task handed to this host but missing here was lost on the way (the answer to a poll died with an API
   * process or a dropped connection): it is handed out again now, not after its lease. Absent (an older
   * agent, or more than the limit): only the lease hands tasks out again.
   */
  holding: z.array(z.string().uuid()).max(MAX_HOLDING_REPORTED).optional(),
});
export type NextTasksRequest = z.infer<typeof nextTasksRequestSchema>;

export const nextTasksResponseSchema = z.object({ tasks: z.array(agentTaskSchema) });
export type NextTasksResponse = z.infer<typeof nextTasksResponseSchema>;

/** The VM's power state as the host sees it. */
export const HOST_VM_STATES = ['off', 'running', 'paused', 'saved'] as const;

/** For people; a driver's error may span lines, but a NUL or another control character is a 400 (text()). */
const reportMessage = text('message', { max: 500, multiline: true });

/** `POST /agent/v1/hosts/{hostId}/tasks/{taskId}/report` body. */
export const taskReportSchema = z.discriminatedUnion(
  'status',
  [
    z.object({
      seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      status: z.literal('running'),
      progress: z.number().int().min(0).max(100),
      message: reportMessage.default(''),
    }),
    z.object({
      seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      status: z.literal('succeeded'),
      /** The VM's state on the host afterwards (none after vm.delete). */
      vmState: oneOf('vmState', HOST_VM_STATES).nullable(),
      message: reportMessage.default(''),
      /** What the task produced (its kind's result schema), stored on the task for the workflow that queued it. */
      result: taskJsonObjectSchema.nullish(),
    }),
    z.object({
      seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      status: z.literal('failed'),
      /** Stable machine code, e.g. INSUFFICIENT_MEMORY, VM_NOT_FOUND, DRIVER_ERROR. */
      code: text('code', { max: 64 }),
      message: reportMessage,
      vmState: oneOf('vmState', HOST_VM_STATES).nullable(),
    }),
  ],
  { error: "A task report is { seq, status } with status running, succeeded or failed, and that status's fields" },
);
export type TaskReport = z.infer<typeof taskReportSchema>;

/** 200 answer to a report. `cancel` asks the agent to stop a running task when it still can. */
export const taskReportResponseSchema = z.object({ accepted: z.boolean(), cancel: z.boolean() });
export type TaskReportResponse = z.infer<typeof taskReportResponseSchema>;
