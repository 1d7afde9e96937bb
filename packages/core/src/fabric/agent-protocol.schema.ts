import { z } from 'zod';
import { haHeartbeatAnswerSchema, haHeartbeatSchema } from '../ha/ha-protocol.schema';
import { sampleVerdictSchema } from '../metering/sample-protocol.schema';
import { oneOf, text } from '../shared/text.schema';
import { HOST_STATES } from './host-state';
import { hostInventorySchema } from './inventory.schema';

/**
 * The agent protocol, version 1: plain HTTP + JSON under /agent/v1, documented
 * in docs/agent-protocol.md so agents in other languages can follow it.
 * Every request body is at most AGENT_MAX_BODY_BYTES.
 */
export const AGENT_PROTOCOL_VERSION = 1;
export const AGENT_MAX_BODY_BYTES = 256 * 1024;

// Strings from agents refuse control characters (text()): a NUL byte is a 400, never a 500 retried for ever.
const agentVersion = text('agentVersion', { min: 1, max: 64 });
const driver = oneOf('driver', ['simulated', 'libvirt']);
/**
 * Every authenticated message carries a sequence number that is larger than
 * any the host sent before (agents use max(previous + 1, unix ms)); the API
 * refuses one at or below the last accepted as a replay.
 */
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const registerRequestSchema = z.object({
  token: text('token', { min: 10, max: 200 }),
  /**
   * Chosen by the agent once per registration and reused on every retry of
   * it: if the first answer was lost, the retry gets the same host (with a
   * new credential) instead of TOKEN_USED.
   */
  requestId: z.string().uuid().optional(),
  agentVersion,
  driver,
  inventory: hostInventorySchema,
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export const registerResponseSchema = z.object({
  hostId: z.string().uuid(),
  clusterId: z.string().uuid(),
  clusterName: z.string(),
  /** `<hostId>.<secret>`: sent as `Authorization: Bearer <credential>` from now on. */
  credential: z.string().min(40).max(200),
  heartbeatIntervalMs: z.number().int().min(100).max(3_600_000),
  /** Hash of the inventory as registered: send it in heartbeats. */
  inventoryHash: z.string().max(128),
});
export type RegisterResponse = z.infer<typeof registerResponseSchema>;

export const inventoryRequestSchema = z.object({
  seq,
  agentVersion,
  inventory: hostInventorySchema,
});
export type InventoryRequest = z.infer<typeof inventoryRequestSchema>;

export const heartbeatRequestSchema = z.object({
  seq,
  agentVersion,
  /** Hash of the last inventory the agent sent; a mismatch asks for a new report. */
  inventoryHash: text('inventoryHash', { max: 128 }),
  usage: z
    .object({
      cpuPercent: z.number().min(0).max(100),
      memoryUsedMiB: z.number().int().min(0),
    })
    .optional(),
  /** High availability (ha/ha-protocol.schema.ts): held VMs with their epochs, peers seen, isolation. */
  ha: haHeartbeatSchema.optional(),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

export const heartbeatResponseSchema = z.object({
  state: z.enum(HOST_STATES),
  heartbeatIntervalMs: z.number().int().min(100).max(3_600_000),
  /** True when the API's inventory differs from the agent's: send PUT …/inventory. */
  inventoryRequested: z.boolean(),
  /**
   * The metered port ACLs to report in samples (`networkAcls`), by name, with
   * the remote CIDR blocks each meters. Absent from APIs before metered ACLs.
   */
  meteredAcls: z
    .array(z.object({ name: z.string().min(1).max(64), remoteAddresses: z.array(z.string()).max(64) }))
    .max(64)
    .optional(),
  /** High availability (ha/ha-protocol.schema.ts): the cluster's isolation settings and VMs to discard. */
  ha: haHeartbeatAnswerSchema.optional(),
});
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

export const inventoryResponseSchema = z.object({
  inventoryHash: z.string().max(128),
  heartbeatIntervalMs: z.number().int().min(100).max(3_600_000),
});
export type InventoryResponse = z.infer<typeof inventoryResponseSchema>;

/** Every 4xx/5xx body. `code` is stable; `message` is for people. */
export const agentErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** `422 IMPLAUSIBLE_SAMPLES` only: the refused samples of the batch, each with its own code. */
    samples: z.array(sampleVerdictSchema).optional(),
  }),
});
export type AgentError = z.infer<typeof agentErrorSchema>;
